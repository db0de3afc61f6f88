// The Vault login sent before node-vault loads (providers/vault/early-login.ts) against today's path
// (node-vault sends it), over real HTTPS to the fake Vault: for every login method and every way a
// login can fail (refused, sealed, hung, slow, reset, not JSON, redirected away, too large), both paths
// end the same way (same error code, so the same exit code, same message and hint) and send the same
// login requests; a success sends exactly one login; methods that are not one request (a static token,
// a response-wrapped SecretID) send nothing early; and no credential reaches an error or a log line.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectVault } from "../../providers/vault/connect.ts";
import type { Options } from "../../providers/vault/options.ts";
import { parseRef } from "../../src/config/ref.ts";
import { SecretwrapError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import type { ProviderContext } from "../../src/provider-api.ts";
import { Redactor } from "../../src/redact.ts";
import { withRetry, type RetryPolicy } from "../../src/retry.ts";
import { createRunState } from "../../src/run-state.ts";
import { canary } from "../helpers/canary.ts";
import type { Fault, RecordedRequest } from "../servers/harness.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";
import { FakeVault, vaultError } from "../servers/vault.ts";

// A short attempt timeout only where a fault needs one (a hang, a trickle): elsewhere an attempt that
// timed out on a busy machine would change the count of logins on one path only.
const SHORT_ATTEMPT_MS = 250;
const FAST: RetryPolicy = { attemptTimeoutMs: 2_000, baseDelayMs: 20, maxDelayMs: 100, random: () => 0.5 };
const work = mkdtempSync(join(tmpdir(), "secretwrap-vault-early-"));
let files = 0;
function file(content: string): string {
  const path = join(work, `f${++files}`);
  writeFileSync(path, content);
  return path;
}

interface Context {
  readonly ctx: ProviderContext;
  /** Every log line, text and JSON, at debug level, unmasked (a credential here is a leak at its source). */
  readonly logs: string[];
}

function context(env: Record<string, string>): Context {
  const logs: string[] = [];
  const loggers = (["text", "json"] as const).map((format) =>
    createLogger({ level: "debug", format, redactor: new Redactor(), write: (l) => void logs.push(l) }),
  );
  const both = Object.fromEntries(
    (["error", "warn", "info", "debug"] as const).map((level) => [
      level,
      (...args: Parameters<(typeof loggers)[0]["debug"]>) => loggers.forEach((l) => l[level](...args)),
    ]),
  ) as unknown as ProviderContext["log"];
  return {
    ctx: { env, log: both, addSecret: () => undefined, attemptTimeoutMs: 300, runState: createRunState() },
    logs,
  };
}

type Outcome =
  | { readonly ok: true; readonly value: string }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly hint: string | undefined;
    };

/** One run's connect (retried as resolve.ts does, within `ms`) and one read; what it ended with. */
async function outcome(
  vault: FakeVault,
  options: Options,
  env: Record<string, string>,
  early: boolean,
  ms: number,
  attemptMs = FAST.attemptTimeoutMs,
): Promise<{ outcome: Outcome; logs: string[] }> {
  const { ctx, logs } = context({ VAULT_ADDR: vault.url, VAULT_CACERT: pki.caFile, ...env });
  const cancellation = { signal: AbortSignal.timeout(ms), deadlineAt: performance.now() + ms };
  try {
    const session = await withRetry(
      "vault login",
      (signal) => connectVault(options, ctx, signal, { early }),
      cancellation,
      { ...FAST, attemptTimeoutMs: attemptMs },
    );
    try {
      const fetched = await session.fetch(
        parseRef("ref+vault://secret/app/db#password"),
        cancellation.signal,
      );
      return { outcome: { ok: true, value: Buffer.from(fetched.bytes).toString() }, logs };
    } finally {
      await session.close();
    }
  } catch (error) {
    if (!(error instanceof SecretwrapError)) throw error;
    return { outcome: { ok: false, code: error.code, message: error.message, hint: error.hint }, logs };
  }
}

let pki: TestPki;
let vault: FakeVault;
const password = canary("VALUE");
const document = JSON.stringify({ password });
const isLogin = (r: RecordedRequest): boolean => /^\/v1\/auth\/.+\/login$/.test(r.path);
const logins = (since: number): RecordedRequest[] => vault.server.requests.slice(since).filter(isLogin);

beforeAll(async () => {
  pki = createTestPki();
  vault = await FakeVault.start({ tls: pki.valid });
  await vault.mountKv("secret", 2);
  await vault.putKv("secret", "app/db", { password });
  vault.addJwtRole("kubernetes", "app", { sub: "app" }, ["secret/data/app/*"]);
  vault.addJwtRole("jwt", "ci", { sub: "ci" }, ["secret/data/app/*"], { mount: "gitlab" });
});
afterAll(async () => {
  await vault.close();
  rmSync(pki.dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

/** A login set-up: the options and environment, and the credentials it sends (never to be shown). */
interface Method {
  readonly name: string;
  readonly make: () => Promise<{ options: Options; env: Record<string, string>; secrets: string[] }>;
}

const METHODS: readonly Method[] = [
  {
    name: "AppRole, role_id and secret_id from the environment",
    make: async () => {
      const role = await vault.addAppRole("app", ["secret/data/app/*"]);
      const secretId = await role.secretId();
      return {
        options: {},
        env: { VAULT_ROLE_ID: role.roleId, VAULT_SECRET_ID: secretId },
        secrets: [role.roleId, secretId],
      };
    },
  },
  {
    name: "AppRole, secret_id from a file",
    make: async () => {
      const role = await vault.addAppRole("app2", ["secret/data/app/*"]);
      const secretId = await role.secretId();
      return {
        options: { auth: { method: "approle", roleId: role.roleId, secretIdFile: file(secretId) } },
        env: {},
        secrets: [role.roleId, secretId],
      };
    },
  },
  {
    name: "Kubernetes, service-account token file",
    make: () => {
      const jwt = vault.issueJwt({ sub: "app" });
      return Promise.resolve({
        options: { auth: { method: "kubernetes", role: "app", jwtFile: file(jwt) } },
        env: {},
        secrets: [jwt],
      });
    },
  },
  {
    name: "JWT from VAULT_JWT, custom mount",
    make: () => {
      const jwt = vault.issueJwt({ sub: "ci" });
      return Promise.resolve({
        options: { auth: { method: "jwt", role: "ci", mount: "gitlab" } },
        env: { VAULT_JWT: jwt },
        secrets: [jwt],
      });
    },
  },
];

/** Every way the login request can go wrong, applied to every login (forever) or to the first only. */
interface FaultCase {
  readonly name: string;
  readonly faults: Fault[];
  readonly forever: boolean;
  /** An attempt timeout long enough for this answer (4 MiB over TLS on a busy machine). */
  readonly attemptMs?: number;
}
const FAULTS: readonly FaultCase[] = [
  { name: "refused 400", faults: [vaultError(400, "invalid role or secret id")], forever: true },
  { name: "refused 403", faults: [vaultError(403, "permission denied")], forever: true },
  { name: "no auth method (404)", faults: [vaultError(404, "no handler for route")], forever: true },
  { name: "sealed once, then fine", faults: [vaultError(503, "Vault is sealed")], forever: false },
  { name: "sealed for good", faults: [vaultError(503, "Vault is sealed")], forever: true },
  { name: "hung once, then fine", faults: [{ kind: "hang" }], forever: false },
  { name: "hung for good", faults: [{ kind: "hang" }], forever: true },
  { name: "slow body (trickle) once", faults: [{ kind: "trickle", ms: 200 }], forever: false },
  { name: "reset once", faults: [{ kind: "reset" }], forever: false },
  {
    name: "reset after a few bytes, for good",
    faults: [{ kind: "resetAfterBytes", bytes: 10 }],
    forever: true,
  },
  {
    name: "an HTML page (not JSON) for good",
    faults: [
      {
        kind: "reply",
        reply: { status: 200, body: "<html>proxy</html>", headers: { "content-type": "text/html" } },
      },
    ],
    forever: true,
  },
  {
    name: "redirected to another origin",
    faults: [
      { kind: "reply", reply: { status: 307, headers: { location: "https://127.0.0.2:1/v1/auth/x/login" } } },
    ],
    forever: true,
  },
  {
    name: "an answer over the size limit",
    faults: [
      { kind: "reply", reply: { status: 200, body: { auth: { client_token: "x".repeat(5 << 20) } } } },
    ],
    forever: true,
  },
  {
    name: "an error that echoes the request body",
    faults: [
      { kind: "replyFn", reply: (r) => ({ status: 400, body: { errors: [`bad request: ${r.body}`] } }) },
    ],
    forever: true,
  },
];

describe("vault early login: the same outcome as node-vault's own login", () => {
  // Every fault with the first method; with the others (which differ only in the body they send),
  // a refusal, a retried failure and an error that echoes their credential.
  const cases = METHODS.flatMap((method, i) =>
    FAULTS.filter(
      (f) =>
        i === 0 ||
        ["refused 400", "sealed once, then fine", "an error that echoes the request body"].includes(f.name),
    ).map((fault) => [method.name, fault.name] as const),
  );
  it.each(cases)("%s, %s", async (methodName, faultName) => {
    const method = METHODS.find((m) => m.name === methodName) as Method;
    const fault = FAULTS.find((f) => f.name === faultName) as FaultCase;
    const { options, env, secrets } = await method.make();
    const ran: { outcome: Outcome; logs: string[]; logins: number; bodies: string[] }[] = [];
    for (const early of [true, false]) {
      vault.server.clearFaults();
      vault.server.script(isLogin, fault.faults, { forever: fault.forever });
      const before = vault.server.requests.length;
      const slow = fault.faults.some((f) => f.kind === "hang" || f.kind === "trickle");
      const attemptMs = fault.attemptMs ?? (slow ? SHORT_ATTEMPT_MS : FAST.attemptTimeoutMs);
      const result = await outcome(vault, options, env, early, fault.attemptMs ?? 800, attemptMs);
      // A run that the deadline ended may have one attempt's request still on its way: let it land
      // before the next run counts.
      if (!result.outcome.ok && result.outcome.code === "FETCH_TIMEOUT")
        await new Promise((resolve) => setTimeout(resolve, 200));
      const sent = logins(before);
      ran.push({ ...result, logins: sent.length, bodies: sent.map((r) => r.body) });
    }
    vault.server.clearFaults();
    const [early, today] = ran as [(typeof ran)[0], (typeof ran)[0]];
    expect(early.outcome).toEqual(today.outcome);
    // The deadline decides how many attempts a failure that lasts gets; an answer decides it at once.
    if (!early.outcome.ok && early.outcome.code === "FETCH_TIMEOUT") {
      expect(early.logins).toBeGreaterThanOrEqual(2);
      expect(today.logins).toBeGreaterThanOrEqual(2);
    } else expect(early.logins).toBe(today.logins);
    // The same credentials, sent the same way (node-vault's body, byte for byte).
    expect(new Set(early.bodies)).toEqual(new Set(today.bodies));
    if (early.outcome.ok) expect(early.outcome.value).toBe(document);
    const told = [
      ...early.logs,
      ...today.logs,
      JSON.stringify(early.outcome),
      JSON.stringify(today.outcome),
    ].join("\n");
    for (const secret of secrets) expect(told).not.toContain(secret);
  });
});

describe("vault early login: request counts and the methods it leaves alone", () => {
  it.each(METHODS.map((m) => m.name))("%s: exactly one login, before any other request", async (name) => {
    const { options, env } = await (METHODS.find((m) => m.name === name) as Method).make();
    const before = vault.server.requests.length;
    const { outcome: result } = await outcome(vault, options, env, true, 5_000);
    expect(result).toEqual({ ok: true, value: document });
    const sent = vault.server.requests.slice(before);
    expect(sent.filter(isLogin)).toHaveLength(1);
    expect(isLogin(sent[0] as RecordedRequest)).toBe(true);
  });

  it("a response-wrapped SecretID: no early login; the lookup and unwrap come first, then one login", async () => {
    const role = await vault.addAppRole("wrapped", ["secret/data/app/*"]);
    const wrapped = file(await role.wrappedSecretId());
    const before = vault.server.requests.length;
    const { outcome: result } = await outcome(
      vault,
      { auth: { method: "approle", roleId: role.roleId, wrappedSecretIdFile: wrapped } },
      {},
      true,
      5_000,
    );
    expect(result).toEqual({ ok: true, value: document });
    const paths = vault.server.requests.slice(before).map((r) => r.path);
    expect(paths.slice(0, 3)).toEqual([
      "/v1/sys/wrapping/lookup",
      "/v1/sys/wrapping/unwrap",
      "/v1/auth/approle/login",
    ]);
  });

  it("a static token: nothing is sent before the first read", async () => {
    const token = await vault.createToken(["secret/data/app/*"]);
    const before = vault.server.requests.length;
    const { outcome: result } = await outcome(vault, {}, { VAULT_TOKEN: token }, true, 5_000);
    expect(result).toEqual({ ok: true, value: document });
    expect(vault.server.requests.slice(before).filter(isLogin)).toEqual([]);
  });

  it("a missing credential file fails as today's path does, and sends nothing", async () => {
    const options: Options = { auth: { method: "kubernetes", role: "app", jwtFile: join(work, "absent") } };
    const before = vault.server.requests.length;
    const early = await outcome(vault, options, {}, true, 2_000);
    const today = await outcome(vault, options, {}, false, 2_000);
    expect(early.outcome).toEqual(today.outcome);
    expect(early.outcome.ok).toBe(false);
    expect(vault.server.requests.length).toBe(before);
  });
});
