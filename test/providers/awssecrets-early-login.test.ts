// The STS web-identity exchange sent before the AWS SDK loads (providers/kit/aws/early-web-identity.ts)
// against today's path (the SDK's fromTokenFile sends it), with the real SDK over real HTTP to the
// SigV4-verifying fake: for every way the exchange can go wrong, both paths end the same way (same
// code, so the same exit code, same message and hint) with as many exchanges; a run that succeeds
// sends exactly one; only a 200 without credentials costs the early path one more (the SDK asks again);
// other set-ups send nothing early; no token or key reaches a log line or an error.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectSecretsManager } from "../../providers/awssecrets/connect.ts";
import { earlyStsUrl } from "../../providers/kit/aws/early-web-identity.ts";
import { parseRef } from "../../src/config/ref.ts";
import { SecretwrapError } from "../../src/errors.ts";
import { withRetry, type RetryPolicy } from "../../src/retry.ts";
import { canary } from "../helpers/canary.ts";
import { providerContext } from "../helpers/context.ts";
import { AwsFake, isolateFromHostAws } from "../servers/aws.ts";
import { reply, type Fault, type RecordedRequest } from "../servers/harness.ts";

// A short attempt timeout only where a fault needs one (a hang, a trickle): elsewhere an attempt that
// timed out on a busy machine would change the count of requests on one path only.
const SHORT_ATTEMPT_MS = 400;
const FAST: RetryPolicy = { attemptTimeoutMs: 2_000, baseDelayMs: 20, maxDelayMs: 100, random: () => 0.5 };
const work = mkdtempSync(join(tmpdir(), "secretwrap-aws-early-"));
const value = canary("VALUE");
let fake: AwsFake;
let restoreEnv: () => void = () => undefined;
let env: Record<string, string>;
let token: string;

beforeAll(async () => {
  restoreEnv = isolateFromHostAws(work);
  fake = await AwsFake.start();
  fake.putSecret("eu-west-1", "early/db", value);
  const tokenFile = join(work, "web-token");
  token = `eyJ${canary("JWT")}\n`;
  writeFileSync(tokenFile, token);
  fake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/app", token };
  env = {
    AWS_CONFIG_FILE: join(work, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
    AWS_ROLE_ARN: fake.webIdentity.roleArn,
    AWS_REGION: "eu-west-1",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
    AWS_ENDPOINT_URL_STS: fake.url,
  };
});
afterAll(async () => {
  await fake.close();
  restoreEnv();
  rmSync(work, { recursive: true, force: true });
});

type Outcome =
  | { readonly ok: true; readonly value: string }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly hint: string | undefined;
    };

async function run(
  runEnv: Record<string, string>,
  early: boolean,
  ms: number,
  attemptMs = FAST.attemptTimeoutMs,
): Promise<{ outcome: Outcome; logs: string[]; masked: string[] }> {
  const { ctx, logs, masked } = providerContext(runEnv, attemptMs);
  const cancellation = { signal: AbortSignal.timeout(ms), deadlineAt: performance.now() + ms };
  try {
    const session = await withRetry(
      "awssecrets login",
      (signal) => connectSecretsManager({}, ctx, signal, { early }),
      cancellation,
      { ...FAST, attemptTimeoutMs: attemptMs },
    );
    try {
      const fetched = await session.fetch(parseRef("ref+awssecrets://early/db"), cancellation.signal);
      return { outcome: { ok: true, value: Buffer.from(fetched.bytes).toString() }, logs, masked };
    } finally {
      await session.close();
    }
  } catch (error) {
    if (!(error instanceof SecretwrapError)) throw error;
    return {
      outcome: { ok: false, code: error.code, message: error.message, hint: error.hint },
      logs,
      masked,
    };
  }
}

const isSts = (r: RecordedRequest): boolean => r.body.includes("Action=AssumeRoleWithWebIdentity");
const stsError = (status: number, code: string, message: string): Fault =>
  reply(
    status,
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
    { "content-type": "text/xml" },
  );

interface FaultCase {
  readonly name: string;
  readonly faults: Fault[];
  readonly forever: boolean;
  /** How many more exchanges the early path sends than today's (a dropped answer: the SDK asks again). */
  readonly extra: number;
}
const FAULTS: readonly FaultCase[] = [
  {
    name: "InvalidIdentityToken (400)",
    faults: [stsError(400, "InvalidIdentityToken", "Couldn't retrieve verification key")],
    forever: true,
    extra: 0,
  },
  {
    name: "AccessDenied (403)",
    faults: [stsError(403, "AccessDenied", "Not authorized")],
    forever: true,
    extra: 0,
  },
  {
    name: "ExpiredTokenException (400)",
    faults: [stsError(400, "ExpiredTokenException", "Token expired")],
    forever: true,
    extra: 0,
  },
  {
    name: "Throttling once (400)",
    faults: [stsError(400, "Throttling", "Rate exceeded")],
    forever: false,
    extra: 0,
  },
  { name: "hung once, then fine", faults: [{ kind: "hang" }], forever: false, extra: 0 },
  { name: "reset once", faults: [{ kind: "reset" }], forever: false, extra: 0 },
  {
    name: "IDPRejectedClaim (403)",
    faults: [stsError(403, "IDPRejectedClaim", "Claim rejected")],
    forever: true,
    extra: 0,
  },
  { name: "503 HTML for good", faults: [reply(503, "<html>busy</html>")], forever: true, extra: 0 },
  { name: "500 once", faults: [reply(500, "oops")], forever: false, extra: 0 },
  {
    name: "503 with an XML error, once",
    faults: [stsError(503, "ServiceUnavailable", "busy")],
    forever: false,
    extra: 0,
  },
  {
    name: "200 without credentials (dropped: the SDK asks)",
    faults: [reply(200, "<AssumeRoleWithWebIdentityResponse/>", { "content-type": "text/xml" })],
    forever: true,
    extra: 1,
  },
];

describe("awssecrets early web identity: only where the SDK would use it, to the same endpoint", () => {
  it("the endpoint: the configured one, or the regional one when nothing could change it", () => {
    const none = join(work, "absent-config");
    expect(
      earlyStsUrl("awssecrets", {}, { AWS_ENDPOINT_URL_STS: "https://sts.example" }, "eu-west-1")?.href,
    ).toBe("https://sts.example/");
    expect(earlyStsUrl("awssecrets", {}, { AWS_CONFIG_FILE: none }, "eu-west-1")?.href).toBe(
      "https://sts.eu-west-1.amazonaws.com/",
    );
    for (const other of [
      { AWS_CONFIG_FILE: none, AWS_USE_FIPS_ENDPOINT: "true" },
      { AWS_CONFIG_FILE: none, AWS_USE_DUALSTACK_ENDPOINT: "true" },
      { AWS_CONFIG_FILE: none, AWS_STS_REGIONAL_ENDPOINTS: "legacy" },
      { AWS_CONFIG_FILE: join(work, "web-token") }, // a config file exists: it may say otherwise
    ])
      expect(earlyStsUrl("awssecrets", {}, other, "eu-west-1")).toBeUndefined();
    expect(earlyStsUrl("awssecrets", {}, { AWS_CONFIG_FILE: none }, "cn-north-1")).toBeUndefined();
    expect(earlyStsUrl("awssecrets", {}, { AWS_CONFIG_FILE: none }, undefined)).toBeUndefined();
  });

  it("static keys or a profile: nothing early, today's path", async () => {
    const keys = fake.issueStatic();
    const before = fake.stsCalls().length;
    const { outcome } = await run(
      { ...env, AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey },
      true,
      5_000,
    );
    expect(outcome).toEqual({ ok: true, value });
    expect(fake.stsCalls().length).toBe(before);
    // A named profile: the SDK's ini provider decides; nothing is sent before it.
    const profiled = await run({ ...env, AWS_PROFILE: "nope" }, true, 1_000);
    expect(profiled.outcome.ok).toBe(false);
    expect(fake.stsCalls().length).toBe(before);
  });
});

describe("awssecrets early web identity: the same outcome as the SDK's own exchange", () => {
  it.each(FAULTS.map((f) => f.name))("%s", async (name) => {
    const fault = FAULTS.find((f) => f.name === name) as FaultCase;
    const ran: { outcome: Outcome; logs: string[]; calls: number }[] = [];
    for (const early of [true, false]) {
      fake.server.clearFaults();
      fake.server.script(isSts, fault.faults, { forever: fault.forever });
      const before = fake.stsCalls().length;
      const slow = fault.faults.some((f) => f.kind === "hang" || f.kind === "trickle");
      const result = await run(env, early, 1_500, slow ? SHORT_ATTEMPT_MS : FAST.attemptTimeoutMs);
      // A run that the deadline ended may have one attempt's request still on its way: let it land
      // before the next run counts.
      if (!result.outcome.ok && result.outcome.code === "FETCH_TIMEOUT")
        await new Promise((resolve) => setTimeout(resolve, 200));
      ran.push({ ...result, calls: fake.stsCalls().length - before });
    }
    fake.server.clearFaults();
    const [early, today] = ran as [(typeof ran)[0], (typeof ran)[0]];
    expect(early.outcome).toEqual(today.outcome);
    if (early.outcome.ok) expect(early.outcome.value).toBe(value);
    if (early.outcome.ok || early.outcome.code !== "FETCH_TIMEOUT")
      expect(early.calls).toBe(today.calls + fault.extra);
    const told = [...early.logs, ...today.logs, JSON.stringify(ran.map((r) => r.outcome))].join("\n");
    expect(told).not.toContain(token.trim());
  });

  it("a run sends exactly one exchange, first, and masks the token and the keys", async () => {
    const before = fake.server.requests.length;
    const { outcome, masked } = await run(env, true, 5_000);
    expect(outcome).toEqual({ ok: true, value });
    const sent = fake.server.requests.slice(before);
    expect(sent.filter(isSts)).toHaveLength(1);
    expect(isSts(sent[0] as RecordedRequest)).toBe(true);
    expect(masked).toContain(token);
    expect(masked.length).toBe(4);
  });
});
