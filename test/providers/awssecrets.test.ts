// The awssecrets provider with the real AWS SDK over real HTTP against test/servers/aws.ts, which
// checks every SigV4 signature against the credentials it issued. Calls connect/fetch directly; the
// CLI path is in test/e2e/awssecrets.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SecretwrapError } from "../../src/errors.ts";
import type { Session } from "../../src/provider-api.ts";
import { withRetry } from "../../src/retry.ts";
import { canary } from "../helpers/canary.ts";
import { providerContext } from "../helpers/context.ts";
import { failureWithout, fetchRef, text, unique } from "../helpers/provider.ts";
import { validateOptions } from "../../providers/awssecrets/options.ts";
import { providerUnderTest } from "../helpers/provider-under-test.ts";
import { AwsFake, requestedIds, isolateFromHostAws } from "../servers/aws.ts";
import { reply, type RecordedRequest } from "../servers/harness.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";

// The source, or the built bundle with SECRETWRAP_TEST_PROVIDERS_FROM (scripts/test.mjs runs both).
const provider = await providerUnderTest("awssecrets");

const work = mkdtempSync(join(tmpdir(), "secretwrap-aws-provider-"));
const EXTRA = canary("ECHO");
let fake: AwsFake;
let pki: TestPki;

let restoreEnv: () => void = () => {};
beforeAll(async () => {
  restoreEnv = isolateFromHostAws(work);
  fake = await AwsFake.start({ errorMessageExtra: EXTRA });
  pki = createTestPki();
});
afterAll(async () => {
  await fake.close();
  restoreEnv();
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => fake.server.clearFaults());

interface Harness {
  readonly session: Session;
  readonly secrets: string[];
  readonly log: string[];
}

const isolation = {
  AWS_CONFIG_FILE: join(work, "no-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
};

function staticEnv(extra: Record<string, string> = {}): Record<string, string> {
  const keys = fake.issueStatic();
  return {
    ...isolation,
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_REGION: "eu-west-1",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
    ...extra,
  };
}

async function connect(
  env: Record<string, string>,
  options: object = {},
  attemptTimeoutMs = 5000,
): Promise<Harness> {
  const { ctx, masked: secrets, logs: log } = providerContext(env, attemptTimeoutMs);
  expect(validateOptions(options)).toEqual([]);
  const session = await provider.connect(options, ctx, AbortSignal.timeout(10_000));
  return { session, secrets, log };
}

const failure = (promise: Promise<unknown>) => failureWithout(promise, EXTRA);

describe("credentials", () => {
  it("signs with static keys from the environment and reports them as consumed", async () => {
    const name = unique("static");
    fake.putSecret("eu-west-1", name, "v-static");
    const h = await connect(staticEnv());
    expect(text((await fetchRef(h.session, `ref+awssecrets://${name}`)).bytes)).toBe("v-static");
    expect(h.session.consumedEnv).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    expect(fake.signatures.at(-1)).toMatchObject({ valid: true, source: "static", region: "eu-west-1" });
    await h.session.close();
  });

  it("a key the server never issued is AUTH_FAILED (77), not retried", async () => {
    const name = unique("badkey");
    fake.putSecret("eu-west-1", name, "x");
    const h = await connect({ ...staticEnv(), AWS_SECRET_ACCESS_KEY: "wrong-secret-key-0000000000000000" });
    const before = fake.calls().length;
    const e = await failure(fetchRef(h.session, `ref+awssecrets://${name}`));
    expect([e.code, e.exitCode, e.transient]).toEqual(["AUTH_FAILED", 77, false]);
    expect(e.message).toContain("InvalidSignatureException");
    expect(fake.calls().length - before).toBe(1);
    expect(fake.signatures.at(-1)).toMatchObject({ valid: false });
  });

  /** A pod with IRSA: a projected token file STS accepts (a canary), the role, and both endpoints. */
  function webIdentity(file: string): { token: string; env: Record<string, string> } {
    const tokenFile = join(work, file);
    const token = `eyJ${canary("JWT")}\n`;
    writeFileSync(tokenFile, token);
    fake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/app", token };
    return {
      token,
      env: {
        ...isolation,
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ROLE_ARN: fake.webIdentity.roleArn,
        AWS_REGION: "eu-west-1",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
        AWS_ENDPOINT_URL_STS: fake.url,
      },
    };
  }

  it("web identity: the token file goes to STS byte for byte, and STS-issued keys sign the calls", async () => {
    const { token, env } = webIdentity("web-token");
    const name = unique("irsa");
    fake.putSecret("eu-west-1", name, "v-irsa");
    const stsBefore = fake.stsCalls().length;
    const h = await connect(env);
    expect(text((await fetchRef(h.session, `ref+awssecrets://${name}`)).bytes)).toBe("v-irsa");
    expect(fake.stsCalls().length - stsBefore).toBe(1);
    expect(fake.signatures.at(-1)).toMatchObject({ valid: true, source: "sts" });
    expect(h.session.consumedEnv).toEqual([]);
    // the token and the keys STS handed out are masked from output
    expect(h.secrets.length).toBe(4);
    expect(h.secrets[0]).toBe(token);
  });

  it("temporary keys are renewed before they expire (a --watch run outlives them), and the new ones are masked", async () => {
    const { env } = webIdentity("web-token-refresh");
    // inside the SDK's 5-minute window: every request needs keys that are not about to expire
    fake.credentialLifetimeSec = 120;
    const name = unique("irsa-refresh");
    fake.putSecret("eu-west-1", name, "v-refresh");
    const stsBefore = fake.stsCalls().length;
    try {
      const h = await connect(env);
      const masked = h.secrets.length;
      expect(text((await fetchRef(h.session, `ref+awssecrets://${name}`)).bytes)).toBe("v-refresh");
      expect(text((await fetchRef(h.session, `ref+awssecrets://${name}`)).bytes)).toBe("v-refresh");
      // the login's keys, then new ones asked for by the requests made within the window (how often the
      // SDK asks per request is its own business); keys valid for an hour are not renewed (test above)
      const renewals = fake.stsCalls().length - stsBefore - 1;
      expect(renewals).toBeGreaterThanOrEqual(2);
      expect(fake.signatures.at(-1)).toMatchObject({ valid: true, source: "sts" });
      // every key STS handed out is masked: access key id, secret key, session token
      expect(h.secrets.length).toBe(masked + 3 * renewals);
    } finally {
      fake.credentialLifetimeSec = 3600;
    }
  });

  it("web identity with a token STS rejects is AUTH_FAILED; STS 503 is transient", async () => {
    const tokenFile = join(work, "bad-token");
    writeFileSync(tokenFile, "not-the-token");
    fake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/app", token: "the-token" };
    const env = {
      ...isolation,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: fake.webIdentity.roleArn,
      AWS_REGION: "eu-west-1",
      AWS_ENDPOINT_URL_STS: fake.url,
    };
    const denied = await failure(connect(env));
    expect([denied.code, denied.transient]).toEqual(["AUTH_FAILED", false]);
    expect(denied.message).toContain("InvalidIdentityToken");
    fake.server.script(
      (r) => r.body.includes("AssumeRoleWithWebIdentity"),
      [reply(503, "<html>busy</html>")],
    );
    const busy = await failure(connect(env));
    expect([busy.code, busy.transient]).toEqual(["FETCH_FAILED", true]);
  });

  it("an aborted login closes its hung STS request's socket; the run reports the attempt timeouts as before", async () => {
    const tlsFake = await AwsFake.start({ tls: pki.valid });
    try {
      const tokenFile = join(work, "hung-token");
      writeFileSync(tokenFile, "the-token");
      tlsFake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/app", token: "the-token" };
      const isSts = (r: RecordedRequest) => r.body.includes("AssumeRoleWithWebIdentity");
      tlsFake.server.script(isSts, [{ kind: "hang" }], { forever: true });
      // The SDK's own request timeout is ctx.attemptTimeoutMs, 10 s: only the login's signal, which
      // the retry layer aborts after 300 ms, can close the socket sooner.
      const { ctx } = providerContext(
        {
          ...isolation,
          AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
          AWS_ROLE_ARN: tlsFake.webIdentity.roleArn,
          AWS_REGION: "eu-west-1",
          AWS_ENDPOINT_URL_STS: tlsFake.url,
          AWS_CA_BUNDLE: pki.caFile,
        },
        10_000,
      );
      const policy = { attemptTimeoutMs: 300, baseDelayMs: 20, maxDelayMs: 20, random: () => 0.5 };
      const run = { signal: AbortSignal.timeout(1_000), deadlineAt: performance.now() + 1_000 };
      const e = await failure(
        withRetry("awssecrets login", (signal) => provider.connect({}, ctx, signal), run, policy),
      );
      expect([e.code, e.message]).toEqual([
        "FETCH_TIMEOUT",
        "awssecrets login: gave up at the --timeout deadline (last error: awssecrets login: no answer within 0.3s)",
      ]);
      const attempts = tlsFake.server.count(isSts);
      expect(attempts).toBeGreaterThanOrEqual(1);
      // Every attempt's request was given up by the client (its socket closed), each within about
      // an attempt's time of being sent, not at the SDK's 10 s.
      await vi.waitFor(() => expect(tlsFake.server.openConnections).toBe(0), { timeout: 2_000 });
      const spans = tlsFake.server.spans.filter((span) => isSts(span.request));
      expect(spans).toHaveLength(attempts);
      for (const span of spans) expect(span.end - span.request.time).toBeLessThan(1_500);
    } finally {
      await tlsFake.close();
    }
  });

  it("container credentials: sends the authorization token, consumes it, signs with the issued keys", async () => {
    const token = canary("CTOKEN");
    fake.containerToken = token;
    const name = unique("ecs");
    fake.putSecret("us-east-1", name, "v-ecs");
    const env = {
      ...isolation,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${fake.url}/creds`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
    };
    const h = await connect(env);
    expect(text((await fetchRef(h.session, `ref+awssecrets://${name}`)).bytes)).toBe("v-ecs");
    expect(h.session.consumedEnv).toEqual(["AWS_CONTAINER_AUTHORIZATION_TOKEN"]);
    expect(h.secrets).toContain(token);
    expect(fake.signatures.at(-1)).toMatchObject({ valid: true, source: "container", region: "us-east-1" });
    const wrong = await failure(connect({ ...env, AWS_CONTAINER_AUTHORIZATION_TOKEN: "wrong" }));
    expect([wrong.code, wrong.transient]).toEqual(["AUTH_FAILED", false]);
    fake.server.script((r) => r.path.startsWith("/creds"), [reply(503, "busy")]);
    const busy = await failure(connect(env));
    expect([busy.code, busy.transient]).toEqual(["FETCH_FAILED", true]);
    expect(fake.containerCalls().at(-1)?.headers["authorization"]).toBe(token);
  });

  it("instance metadata (IMDSv2) when nothing else is configured", async () => {
    process.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = fake.url;
    delete process.env["AWS_EC2_METADATA_DISABLED"];
    try {
      const name = unique("ec2");
      fake.putSecret("eu-west-1", name, "v-ec2");
      const h = await connect({
        ...isolation,
        AWS_EC2_METADATA_DISABLED: "false",
        AWS_REGION: "eu-west-1",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
      });
      expect(text((await fetchRef(h.session, `ref+awssecrets://${name}`)).bytes)).toBe("v-ec2");
      expect(fake.signatures.at(-1)).toMatchObject({ valid: true, source: "imds" });
      expect(fake.imdsCalls().some((r) => r.method === "PUT")).toBe(true);
    } finally {
      delete process.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"];
      process.env["AWS_EC2_METADATA_DISABLED"] = "true";
    }
  });

  it("no credentials anywhere is AUTH_FAILED with a hint", async () => {
    const e = await failure(connect({ ...isolation, AWS_REGION: "eu-west-1" }));
    expect([e.code, e.exitCode]).toEqual(["AUTH_FAILED", 77]);
    expect(e.hint).toContain("AWS_PROFILE");
  });

  it("a named profile from the shared credentials file", async () => {
    const keys = fake.issueStatic();
    const file = join(work, "credentials");
    writeFileSync(
      file,
      `[team]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`,
    );
    const name = unique("profile");
    fake.putSecret("ap-south-1", name, "v-profile");
    const h = await connect({
      ...isolation,
      AWS_SHARED_CREDENTIALS_FILE: file,
      AWS_PROFILE: "team",
      AWS_REGION: "ap-south-1",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
    });
    expect(text((await fetchRef(h.session, `ref+awssecrets://${name}`)).bytes)).toBe("v-profile");
    expect(fake.signatures.at(-1)).toMatchObject({
      valid: true,
      source: "static",
      accessKeyId: keys.accessKeyId,
    });
  });
});

describe("batching", () => {
  it("15 + 15 concurrent secrets in two regions: one BatchGetSecretValue per region, nothing else", async () => {
    const names = Array.from({ length: 30 }, (_, i) => unique(`batch${i % 2 === 0 ? "a" : "b"}`));
    names.forEach((n, i) => fake.putSecret(i % 2 === 0 ? "eu-west-1" : "us-east-2", n, `value-${n}`));
    const h = await connect(staticEnv());
    const before = fake.server.requests.length;
    const results = await Promise.all(
      names.map((n, i) =>
        fetchRef(h.session, `ref+awssecrets://${n}${i % 2 === 0 ? "" : "?region=us-east-2"}`),
      ),
    );
    expect(results.map((r) => text(r.bytes))).toEqual(names.map((n) => `value-${n}`));
    const calls = fake.server.requests.slice(before);
    expect(calls.length).toBe(2);
    expect(calls.every((r) => r.headers["x-amz-target"] === "secretsmanager.BatchGetSecretValue")).toBe(true);
    expect(calls.map((r) => requestedIds(r).length).sort()).toEqual([15, 15]);
  });

  it("25 at once in one region: 20 + 5 per call; one alone: GetSecretValue", async () => {
    const names = Array.from({ length: 25 }, () => unique("many"));
    for (const n of names) fake.putSecret("eu-west-1", n, n);
    const h = await connect(staticEnv());
    const before = fake.server.requests.length;
    await Promise.all(names.map((n) => fetchRef(h.session, `ref+awssecrets://${n}`)));
    const calls = fake.server.requests.slice(before);
    expect(calls.map((r) => requestedIds(r).length).sort((a, b) => a - b)).toEqual([5, 20]);
    await fetchRef(h.session, `ref+awssecrets://${names[0] ?? ""}`);
    expect(fake.server.requests.at(-1)?.headers["x-amz-target"]).toBe("secretsmanager.GetSecretValue");
  });

  it("per-secret errors inside a batch's 200 are reported per secret", async () => {
    const [ok, missing, denied, kms] = [unique("ok"), unique("missing"), unique("denied"), unique("kms")];
    fake.putSecret("eu-west-1", ok, "fine");
    fake.putSecret("eu-west-1", denied, "x");
    fake.deny("eu-west-1", denied);
    fake.putSecret("eu-west-1", kms, "x");
    fake.denyKms("eu-west-1", kms);
    const h = await connect(staticEnv());
    const before = fake.calls().length;
    const settled = await Promise.allSettled(
      [ok, missing, denied, kms].map((n) => fetchRef(h.session, `ref+awssecrets://${n}`)),
    );
    expect(fake.calls().length - before).toBe(1);
    expect(settled[0]?.status).toBe("fulfilled");
    const codes = settled
      .slice(1)
      .map((s) =>
        s.status === "rejected"
          ? [(s.reason as SecretwrapError).code, (s.reason as SecretwrapError).exitCode]
          : "ok",
      );
    expect(codes).toEqual([
      ["SECRET_NOT_FOUND", 69],
      ["ACCESS_DENIED", 77],
      ["ACCESS_DENIED", 77],
    ]);
    for (const s of settled)
      if (s.status === "rejected") expect((s.reason as Error).message).not.toContain(EXTRA);
  });

  it("an identity without secretsmanager:BatchGetSecretValue falls back to single gets", async () => {
    const names = [unique("nb"), unique("nb"), unique("nb")];
    for (const n of names) fake.putSecret("eu-west-1", n, n);
    fake.batchDenied = true;
    try {
      const h = await connect(staticEnv());
      const before = fake.calls().length;
      const values = await Promise.all(names.map((n) => fetchRef(h.session, `ref+awssecrets://${n}`)));
      expect(values.map((v) => text(v.bytes))).toEqual(names);
      const calls = fake.calls().slice(before);
      expect(calls.map((r) => r.headers["x-amz-target"])).toEqual([
        "secretsmanager.BatchGetSecretValue",
        ...names.map(() => "secretsmanager.GetSecretValue"),
      ]);
    } finally {
      fake.batchDenied = false;
    }
  });
});

describe("references", () => {
  it("version_id, version_stage, ARN and binary values are exact", async () => {
    const name = unique("versions");
    const { arn, versionId: first } = fake.putSecret("eu-west-1", name, "first");
    const second = fake.putVersion("eu-west-1", name, "second", ["AWSCURRENT"]);
    fake.putVersion("eu-west-1", name, "pending", ["AWSPENDING"]);
    const bin = unique("binary");
    const bytes = Buffer.from([0, 255, 10, 13, 0x80, 0, 7]);
    const binArn = fake.putSecret("us-west-2", bin, bytes).arn;
    const h = await connect(staticEnv());
    const get = async (raw: string) => fetchRef(h.session, raw);
    expect(text((await get(`ref+awssecrets://${name}`)).bytes)).toBe("second");
    expect(await get(`ref+awssecrets://${name}?version_id=${first}`)).toMatchObject({ version: first });
    expect(text((await get(`ref+awssecrets://${name}?version_id=${first}`)).bytes)).toBe("first");
    expect(text((await get(`ref+awssecrets://${name}?version_stage=AWSPREVIOUS`)).bytes)).toBe("first");
    expect(text((await get(`ref+awssecrets://${name}?version_stage=AWSPENDING`)).bytes)).toBe("pending");
    expect((await get(`ref+awssecrets://${arn}`)).version).toBe(second);
    expect(Buffer.from((await get(`ref+awssecrets://${binArn}`)).bytes).equals(bytes)).toBe(true);
    expect(fake.signatures.at(-1)).toMatchObject({ region: "us-west-2", valid: true });
    const missing = await failure(get(`ref+awssecrets://${name}?version_stage=NOPE`));
    expect(missing.code).toBe("SECRET_NOT_FOUND");
  });

  it("no region anywhere is CONFIG_INVALID naming the fix", async () => {
    const keys = fake.issueStatic();
    const h = await connect({
      ...isolation,
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
    });
    const e = await failure(fetchRef(h.session, "ref+awssecrets://anything"));
    expect([e.code, e.exitCode]).toEqual(["CONFIG_INVALID", 78]);
    expect(e.hint).toContain("?region=");
  });
});

describe("faults: one attempt per call, the right transient flag", () => {
  it("ThrottlingException and 500 are transient after exactly one request; 400s are not", async () => {
    const name = unique("throttle");
    fake.putSecret("eu-west-1", name, "x");
    const h = await connect(staticEnv());
    const isGet = (r: { headers: Record<string, unknown> }) =>
      r.headers["x-amz-target"] === "secretsmanager.GetSecretValue";
    for (const [fault, code] of [
      [
        reply(400, { __type: "ThrottlingException", Message: `Rate exceeded ${EXTRA}` }),
        "ThrottlingException",
      ],
      [reply(500, { __type: "InternalServiceError", Message: EXTRA }), "InternalServiceError"],
      [reply(502, `<html>${EXTRA}</html>`), "HTTP 502"],
    ] as const) {
      fake.server.script(isGet, [fault]);
      const before = fake.server.count(isGet);
      const e = await failure(fetchRef(h.session, `ref+awssecrets://${name}`));
      expect([e.code, e.transient], code).toEqual(["FETCH_FAILED", true]);
      expect(e.message).toContain(code);
      expect(fake.server.count(isGet) - before).toBe(1);
    }
    fake.server.script(isGet, [
      reply(400, { __type: "ThrottlingException", Message: "slow down" }, { "retry-after": "3" }),
    ]);
    expect((await failure(fetchRef(h.session, `ref+awssecrets://${name}`))).retryAfterMs).toBe(3000);
    const notFound = await failure(fetchRef(h.session, `ref+awssecrets://${unique("absent")}`));
    expect([notFound.code, notFound.transient]).toEqual(["SECRET_NOT_FOUND", false]);
  });

  it("a hang ends when the attempt's signal fires; a reset is transient", async () => {
    const name = unique("hang");
    fake.putSecret("eu-west-1", name, "x");
    const h = await connect(staticEnv());
    fake.server.script(() => true, [{ kind: "hang" }]);
    const started = Date.now();
    await expect(fetchRef(h.session, `ref+awssecrets://${name}`, AbortSignal.timeout(500))).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    fake.server.script(() => true, [{ kind: "reset" }]);
    const e = await failure(fetchRef(h.session, `ref+awssecrets://${name}`));
    expect([e.code, e.transient]).toEqual(["FETCH_FAILED", true]);
  });
});

describe("TLS and endpoints", () => {
  it("https with caFile works; without it verification fails, not transient", async () => {
    const tlsFake = await AwsFake.start({ tls: pki.valid });
    try {
      const keys = tlsFake.issueStatic();
      tlsFake.putSecret("eu-west-1", "tls", "over-tls");
      const env = {
        ...isolation,
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        AWS_REGION: "eu-west-1",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: tlsFake.url,
      };
      const h = await connect(env, { caFile: pki.caFile });
      expect(text((await fetchRef(h.session, "ref+awssecrets://tls")).bytes)).toBe("over-tls");
      const viaEnv = await connect({ ...env, AWS_CA_BUNDLE: pki.caFile });
      expect(text((await fetchRef(viaEnv.session, "ref+awssecrets://tls")).bytes)).toBe("over-tls");
      const untrusted = await connect(env);
      const e = await failure(fetchRef(untrusted.session, "ref+awssecrets://tls"));
      expect([e.code, e.transient]).toEqual(["FETCH_FAILED", false]);
      expect(e.message).toContain("TLS");
    } finally {
      await tlsFake.close();
    }
  });

  it("plain http to a non-loopback endpoint is refused (env or config); options are strict", async () => {
    const e = await failure(
      connect(staticEnv({ AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://198.51.100.7:4566" })),
    );
    expect(e.code).toBe("CONFIG_INVALID");
    expect(validateOptions({ endpoint: "http://198.51.100.7" })[0]?.path).toEqual(["endpoint"]);
    expect(validateOptions({ endpoint: "http://198.51.100.7", allowHttp: true })).toEqual([]);
    expect(validateOptions({ regoin: "eu-west-1" }).length).toBe(1);
  });
});
