// The metadata-server token asked for before the SDK loads (providers/gcpsecrets/early-token.ts)
// against today's path (google-auth-library asks), with the real client over real HTTP to the fake
// metadata server and API: for every way the token request can go wrong, both paths end the same way
// (same code, so the same exit code, same message and hint); a run that succeeds asks for exactly one
// token; a failed answer is final for its attempt (no more requests than today's, which retries some
// itself); a 200 without a usable token costs one more (the SDK asks again); other credential sources
// send nothing early; no token reaches a log or an error.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectGcp } from "../../providers/gcpsecrets/connect.ts";
import { metadataTokenUrl } from "../../providers/gcpsecrets/early-token.ts";
import { parseRef } from "../../src/config/ref.ts";
import { SecretwrapError } from "../../src/errors.ts";
import { withRetry, type RetryPolicy } from "../../src/retry.ts";
import { providerContext } from "../helpers/context.ts";
import { canary } from "../helpers/canary.ts";
import { FakeGcp, isolateFromHostGoogle } from "../servers/gcp.ts";
import { reply, type Fault } from "../servers/harness.ts";

// A short attempt timeout only where a fault needs one (a hang, a trickle): elsewhere an attempt that
// timed out on a busy machine would change the count of requests on one path only.
const SHORT_ATTEMPT_MS = 400;
const FAST: RetryPolicy = { attemptTimeoutMs: 2_000, baseDelayMs: 20, maxDelayMs: 100, random: () => 0.5 };
const work = mkdtempSync(join(tmpdir(), "secretwrap-gcp-early-"));
const value = canary("VALUE");
let fake: FakeGcp;
let restoreEnv: () => void = () => undefined;

beforeAll(async () => {
  restoreEnv = isolateFromHostGoogle();
  fake = await FakeGcp.start();
  fake.addSecret("early-proj", "db", [value]);
});
afterAll(async () => {
  await fake.close();
  restoreEnv();
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => {
  fake.metadata.clearFaults();
  fake.tokenLifetimeSec = 3599;
});

const metadataEnv = (): Record<string, string> => ({
  HOME: join(work, "home"),
  GCE_METADATA_HOST: `127.0.0.1:${fake.metadata.port}`,
});

type Outcome =
  | { readonly ok: true; readonly value: string }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly hint: string | undefined;
    };

/** One run's connect (retried as resolve.ts does, within `ms`) and one read; its outcome and logs. */
async function run(
  env: Record<string, string>,
  early: boolean,
  ms: number,
  attemptMs = FAST.attemptTimeoutMs,
): Promise<{ outcome: Outcome; logs: string[] }> {
  const { ctx, logs } = providerContext(env, attemptMs);
  const cancellation = { signal: AbortSignal.timeout(ms), deadlineAt: performance.now() + ms };
  try {
    const session = await withRetry(
      "gcpsecrets login",
      (signal) => connectGcp({ endpoint: fake.api.url }, ctx, signal, { early }),
      cancellation,
      { ...FAST, attemptTimeoutMs: attemptMs },
    );
    try {
      const fetched = await session.fetch(parseRef("ref+gcpsecrets://early-proj/db"), cancellation.signal);
      return { outcome: { ok: true, value: Buffer.from(fetched.bytes).toString() }, logs };
    } finally {
      await session.close();
    }
  } catch (error) {
    if (!(error instanceof SecretwrapError)) throw error;
    return { outcome: { ok: false, code: error.code, message: error.message, hint: error.hint }, logs };
  }
}

const isToken = (r: { path: string }): boolean => r.path.includes("/service-accounts/default/token");
const FLAVOR = { "metadata-flavor": "Google" };

interface FaultCase {
  readonly name: string;
  readonly faults: Fault[];
  readonly forever: boolean;
  /**
   * A failure gcp-metadata retries itself (5xx, no answer) for ~2 s, longer than this test's 1.5 s
   * deadline: today's run ends without an answer of its own, the early path's with the failure itself, at
   * once, retried by src/retry.ts. Same code and exit code; the last error's text differs.
   */
  readonly sdkRetriesItself?: boolean;
  // Not in the table: a reset for good. Today's path then ends AUTH_FAILED (403) on this fake, which
  // refuses a request without Metadata-Flavor: gcp-metadata's own retry seems to send one without it.
}
const FAULTS: readonly FaultCase[] = [
  { name: "no service account (404)", faults: [reply(404, "Not Found", FLAVOR)], forever: true },
  { name: "refused (403)", faults: [reply(403, "Forbidden", FLAVOR)], forever: true },
  { name: "404 once (then a token)", faults: [reply(404, "Not Found", FLAVOR)], forever: false },
  {
    name: "400 invalid_grant (JSON)",
    faults: [reply(400, { error: "invalid_grant", error_description: "bad" }, FLAVOR)],
    forever: true,
  },
  { name: "503 once", faults: [reply(503, "busy", FLAVOR)], forever: false },
  { name: "hung once, then fine", faults: [{ kind: "hang" }], forever: false },
  { name: "slow body (trickle) once", faults: [{ kind: "trickle", ms: 100 }], forever: false },
  { name: "reset once", faults: [{ kind: "reset" }], forever: false },
  { name: "503 for good", faults: [reply(503, "busy", FLAVOR)], forever: true, sdkRetriesItself: true },
  {
    name: "200 with no access_token",
    faults: [reply(200, { expires_in: 3599, token_type: "Bearer" }, FLAVOR)],
    forever: true,
  },
  {
    name: "200 that is not JSON",
    faults: [reply(200, "<html>proxy</html>", { "content-type": "text/html" })],
    forever: true,
  },
];

// First: the comparisons below leave gcp-metadata's own retries of today's path running for a while.
describe("gcpsecrets early token: only for the named metadata server", () => {
  it("nothing early without a named metadata server or with a credentials file", async () => {
    expect(metadataTokenUrl({}, ["s"])).toBeUndefined();
    expect(metadataTokenUrl({ GCE_METADATA_HOST: "https://meta.example" }, ["s"])).toBeUndefined();
    expect(
      metadataTokenUrl({ GCE_METADATA_IP: "10.0.0.9", GCE_METADATA_HOST: "x:1" }, ["a", "b"])?.href,
    ).toBe("http://10.0.0.9/computeMetadata/v1/instance/service-accounts/default/token?scopes=a%2Cb");
    const key = join(work, "key.json");
    writeFileSync(key, JSON.stringify(fake.serviceAccountKey()));
    const before = fake.metadata.requests.length;
    const { outcome } = await run(
      { ...metadataEnv(), GOOGLE_APPLICATION_CREDENTIALS: key, METADATA_SERVER_DETECTION: "none" },
      true,
      5_000,
    );
    expect(outcome).toEqual({ ok: true, value });
    expect(fake.metadata.requests.length).toBe(before);
  });
});

describe("gcpsecrets early token: the same outcome as google-auth-library's own request", () => {
  it.each(FAULTS.map((f) => f.name))("%s", async (name) => {
    const fault = FAULTS.find((f) => f.name === name) as FaultCase;
    const ran: { outcome: Outcome; logs: string[]; tokens: number }[] = [];
    for (const early of [true, false]) {
      fake.metadata.clearFaults();
      fake.metadata.script(isToken, fault.faults, { forever: fault.forever });
      const before = fake.tokenRequests();
      const slow = fault.faults.some((f) => f.kind === "hang" || f.kind === "trickle");
      const result = await run(metadataEnv(), early, 1_500, slow ? SHORT_ATTEMPT_MS : FAST.attemptTimeoutMs);
      // A run that the deadline ended may have one attempt's request still on its way: let it land
      // before the next run counts.
      if (!result.outcome.ok && result.outcome.code === "FETCH_TIMEOUT")
        await new Promise((resolve) => setTimeout(resolve, 200));
      ran.push({ ...result, tokens: fake.tokenRequests() - before });
    }
    const [early, today] = ran as [(typeof ran)[0], (typeof ran)[0]];
    if (fault.sdkRetriesItself === true) {
      expect([early.outcome.ok, today.outcome.ok]).toEqual([false, false]);
      if (!early.outcome.ok && !today.outcome.ok) expect(early.outcome.code).toBe(today.outcome.code);
    } else expect(early.outcome).toEqual(today.outcome);
    if (early.outcome.ok) expect(early.outcome.value).toBe(value);
    const answer = fault.faults[0]?.kind === "reply" ? fault.faults[0].reply : undefined;
    if (answer?.status === 200 && !early.outcome.ok)
      // A 200 without a usable token is dropped and the SDK asks again, to fail with today's message.
      // How often the SDK itself asks for such an answer varies with timing on both paths (2 to 4
      // here), so only the early one more is checked.
      expect(early.tokens).toBeGreaterThanOrEqual(2);
    else if (early.outcome.ok || early.outcome.code !== "FETCH_TIMEOUT") {
      expect(early.tokens).toBeGreaterThanOrEqual(1);
      expect(early.tokens).toBeLessThanOrEqual(today.tokens);
    }
    const told = [...early.logs, ...today.logs, JSON.stringify(ran.map((r) => r.outcome))].join("\n");
    for (const token of fake.issuedTokens) expect(told).not.toContain(token);
  });

  it("a run asks for exactly one token, and the early request is the first the metadata server sees", async () => {
    const before = fake.metadata.requests.length;
    const { outcome } = await run(metadataEnv(), true, 5_000);
    expect(outcome).toEqual({ ok: true, value });
    const sent = fake.metadata.requests.slice(before);
    expect(sent.filter(isToken)).toHaveLength(1);
    expect(sent[0]?.headers["metadata-flavor"]).toBe("Google");
  });

  it("a token the client would renew at once (expires within 5 minutes) is not handed over: same outcome", async () => {
    fake.tokenLifetimeSec = 60;
    const early = await run(metadataEnv(), true, 5_000);
    const today = await run(metadataEnv(), false, 5_000);
    expect(early.outcome).toEqual({ ok: true, value });
    expect(today.outcome).toEqual(early.outcome);
  });
});
