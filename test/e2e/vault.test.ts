// secretwrap run with Vault, end to end: the built CLI, node-vault over HTTPS to the fake Vault, and
// the probe app reporting what it really received. Issue 3's acceptance items 1-5.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import {
  PROBE,
  probeStart,
  readProbe,
  reportedSecretsDirs,
  runCli,
  startCli,
  type CliResult,
} from "../helpers/cli.ts";
import { NODES } from "../helpers/nodes.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";
import { FakeVault, type AppRoleHandle } from "../servers/vault.ts";
import { scratchDirs } from "../helpers/scratch.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-vault-"));
const shmDirs = new Set<string>();
const scratch = scratchDirs(work);

const K8S_SA = "kubernetes.io/serviceaccount/service-account.name";
const V = {
  apiKey: canary("APIKEY"),
  smtp: canary("SMTP"),
  single: canary("SINGLE"),
  dbOld: canary("DBOLD"),
  db: canary("DB"),
  tlsKey: `-----BEGIN PRIVATE KEY-----\n${canary("PEM")}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n`,
  stripe: canary("STRIPE"),
  pgPassword: canary("PGPASS"),
};
/** 10 secrets over KV v1, KV v2 (latest and pinned) and database/creds; 7 distinct reads. */
const TEN: Record<string, string> = {
  APP_API_KEY: "ref+vault://kv/app/config#api_key",
  APP_SMTP_FILE: "ref+vault://kv/app/config#smtp",
  APP_SINGLE: "ref+vault://kv/app/single",
  DB_PASSWORD: "ref+vault://secret/app/db#password",
  DB_USER: "ref+vault://secret/app/db#user",
  DB_PASSWORD_OLD_FILE: "ref+vault://secret/app/db?version=1#password",
  TLS_KEY_FILE: "ref+vault://secret/app/tls#key",
  STRIPE_KEY: "ref+vault://secret/app/stripe",
  PG_USER: "ref+vault://database/creds/app#username",
  PG_PASSWORD_FILE: "ref+vault://database/creds/app#password",
};
const POLICY = ["kv/app/*", "secret/data/app/*", "database/creds/app"];

let vault: FakeVault;
let pki: TestPki;
let approle: AppRoleHandle;

beforeAll(async () => {
  pki = createTestPki();
  vault = await FakeVault.start({ tls: pki.valid });
  await vault.mountKv("kv", 1);
  await vault.mountKv("secret", 2);
  await vault.putKv("kv", "app/config", { api_key: V.apiKey, smtp: V.smtp });
  await vault.putKv("kv", "app/single", { value: V.single });
  await vault.putKv("secret", "app/db", { password: V.dbOld, user: "app" });
  await vault.putKv("secret", "app/db", { password: V.db, user: "app" });
  await vault.putKv("secret", "app/tls", { key: V.tlsKey });
  await vault.putKv("secret", "app/stripe", { key: V.stripe });
  await vault.putKv("secret", "app/retired", { password: "retired-value" });
  await vault.deleteVersion("secret", "app/retired", 1);
  vault.mountDatabase().set("app", () => ({ username: "v-approle-app-1", password: V.pgPassword }));
  approle = await vault.addAppRole("app", POLICY);
  vault.addJwtRole("kubernetes", "app", { [K8S_SA]: "app" }, POLICY);
  vault.addJwtRole("jwt", "ci", { aud: "secretwrap" }, POLICY);
});

afterAll(async () => {
  await vault.close();
  rmSync(work, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
  for (const dir of shmDirs) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly result: CliResult;
  readonly out: string;
}

async function run(
  env: Record<string, string>,
  options: {
    config?: object;
    args?: string[];
    secrets?: Record<string, string>;
    timeoutMs?: number;
    node?: (typeof NODES)[number];
  } = {},
): Promise<Run> {
  const dir = scratch();
  const out = join(dir, "probe.jsonl");
  const args = [...(options.args ?? [])];
  if (options.config !== undefined) {
    writeFileSync(join(dir, "secretwrap.json"), JSON.stringify({ version: 1, ...options.config }));
    args.push("--config", join(dir, "secretwrap.json"));
  }
  const result = await runCli(["run", ...args, "--", "node", PROBE, "--exit", "0"], {
    env: {
      VAULT_ADDR: vault.url,
      VAULT_CACERT: pki.caFile,
      SECRETWRAP_LOG_LEVEL: "debug",
      PROBE_OUT: out,
      ...(options.secrets ?? TEN),
      ...env,
    },
    cwd: dir,
    ...(options.node === undefined ? {} : { node: options.node }),
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  for (const secretsDir of reportedSecretsDirs(out)) shmDirs.add(secretsDir);
  return { result, out };
}

function file(content: string): string {
  const path = join(scratch(), "credential");
  writeFileSync(path, content);
  return path;
}

function leaks(run: Run, extra: readonly string[] = []): ReturnType<typeof scanForCanaries> {
  return scanForCanaries([...Object.values(V), ...extra], {
    texts: { stdout: run.result.stdout, stderr: run.result.stderr },
  });
}

function expectNotStarted(r: Run, code: number): void {
  expect(r.result.code, r.result.stderr).toBe(code);
  expect(existsSync(r.out)).toBe(false);
}

describe("acceptance 1 and 5: every auth method logs in once and delivers 10 secrets", () => {
  const methods: {
    name: string;
    setup: () => Promise<{
      env: Record<string, string>;
      config?: object;
      credentials: string[];
      login: string;
    }>;
  }[] = [
    {
      name: "token (VAULT_TOKEN)",
      setup: async () => {
        const token = await vault.createToken(POLICY);
        return { env: { VAULT_TOKEN: token }, credentials: [token], login: "" };
      },
    },
    {
      name: "AppRole (VAULT_ROLE_ID + VAULT_SECRET_ID)",
      setup: async () => {
        const secretId = await approle.secretId();
        return {
          env: { VAULT_ROLE_ID: approle.roleId, VAULT_SECRET_ID: secretId },
          credentials: [secretId],
          login: "auth/approle/login",
        };
      },
    },
    {
      name: "Kubernetes (service-account token file)",
      setup: () => {
        const jwt = vault.issueJwt({ [K8S_SA]: "app" });
        return Promise.resolve({
          env: {},
          config: {
            providers: { vault: { auth: { method: "kubernetes", role: "app", jwtFile: file(jwt) } } },
          },
          credentials: [jwt],
          login: "auth/kubernetes/login",
        });
      },
    },
    {
      name: "JWT (VAULT_JWT)",
      setup: () => {
        const jwt = vault.issueJwt({ aud: "secretwrap" });
        return Promise.resolve({
          env: { VAULT_AUTH_METHOD: "jwt", VAULT_ROLE: "ci", VAULT_JWT: jwt },
          credentials: [jwt],
          login: "auth/jwt/login",
        });
      },
    },
  ];

  it.each(methods)("$name", async ({ setup }) => {
    const { env, config, credentials, login } = await setup();
    const before = vault.server.requests.length;
    const r = await run(env, config === undefined ? {} : { config });
    expect(r.result.code, r.result.stderr).toBe(0);
    const start = probeStart(readProbe(r.out));
    const childEnv = start.env ?? {};
    const files = start.files ?? {};
    const content = (name: string): string =>
      Buffer.from(files[name]?.base64 ?? "", "base64").toString("utf8");
    expect(childEnv["APP_API_KEY"]).toBe(V.apiKey);
    expect(content("APP_SMTP_FILE")).toBe(V.smtp);
    expect(childEnv["APP_SINGLE"]).toBe(V.single);
    expect(childEnv["DB_PASSWORD"]).toBe(V.db);
    expect(childEnv["DB_USER"]).toBe("app");
    expect(content("DB_PASSWORD_OLD_FILE")).toBe(V.dbOld);
    expect(content("TLS_KEY_FILE")).toBe(V.tlsKey);
    expect(childEnv["STRIPE_KEY"]).toBe(V.stripe);
    expect(childEnv["PG_USER"]).toBe("v-approle-app-1");
    expect(content("PG_PASSWORD_FILE")).toBe(V.pgPassword);
    expect(files["PG_PASSWORD_FILE"]?.mode).toBe("400");
    // Acceptance 5: no bootstrap credential reaches the app.
    for (const name of ["VAULT_TOKEN", "VAULT_SECRET_ID", "VAULT_ROLE_ID", "VAULT_JWT"])
      expect(childEnv, name).not.toHaveProperty(name);
    expect(
      scanForCanaries(credentials, {
        texts: { env: JSON.stringify(childEnv), stderr: r.result.stderr, stdout: r.result.stdout },
      }),
    ).toEqual([]);
    expect(leaks(r)).toEqual([]);
    // One login, one mount lookup per mount, one read per distinct secret.
    const sent = vault.server.requests.slice(before).map((q) => q.path.replace(/^\/v1\//, ""));
    if (login !== "") expect(sent.filter((p) => p === login)).toHaveLength(1);
    expect(sent.filter((p) => p.startsWith("sys/internal/ui/mounts/"))).toHaveLength(3);
    expect(sent.filter((p) => !p.startsWith("sys/") && !p.startsWith("auth/")).sort()).toEqual(
      [
        "database/creds/app",
        "kv/app/config",
        "kv/app/single",
        "secret/data/app/db",
        "secret/data/app/db?version=1",
        "secret/data/app/stripe",
        "secret/data/app/tls",
      ].sort(),
    );
    // The audit line carries versions and the dynamic secret's lease, never a value.
    expect(r.result.stderr).toMatch(/resolved PG_PASSWORD_FILE.*lease_id=database\/creds\/app\//);
    expect(r.result.stderr).toMatch(/resolved DB_PASSWORD .*version=2/);
  });

  it.each(NODES)("token auth under $name: VAULT_TOKEN is not in the app's environment", async (node) => {
    const token = await vault.createToken(POLICY);
    const r = await run(
      { VAULT_TOKEN: token },
      { node, secrets: { DB_PASSWORD: TEN["DB_PASSWORD"] as string } },
    );
    expect(r.result.code, r.result.stderr).toBe(0);
    const childEnv = probeStart(readProbe(r.out)).env ?? {};
    expect(childEnv["DB_PASSWORD"]).toBe(V.db);
    expect(childEnv).not.toHaveProperty("VAULT_TOKEN");
    expect(childEnv["VAULT_ADDR"]).toBe(vault.url);
  });
});

describe("acceptance 2: failures exit with the right code, never start the app, never print a credential", () => {
  it("a wrong secret_id → 77", async () => {
    const wrong = canary("SECRETID");
    const r = await run({ VAULT_ROLE_ID: approle.roleId, VAULT_SECRET_ID: wrong });
    expectNotStarted(r, 77);
    expect(r.result.stderr).toContain(
      "approle login at auth/approle/login failed (400 (invalid role or secret ID))",
    );
    expect(leaks(r, [wrong])).toEqual([]);
    // Not retried: a 400 at login is final.
    expect(vault.server.requests.filter((q) => q.body.includes(wrong))).toHaveLength(1);
  });

  it("an expired JWT → 77", async () => {
    const jwt = vault.issueJwt({ aud: "secretwrap" }, -30);
    const r = await run({ VAULT_AUTH_METHOD: "jwt", VAULT_ROLE: "ci", VAULT_JWT: jwt });
    expectNotStarted(r, 77);
    expect(r.result.stderr).toContain("the JWT is expired");
    expect(leaks(r, [jwt])).toEqual([]);
  });

  const cases: { name: string; ref: string; code: number; says: string }[] = [
    {
      name: "policy denial",
      ref: "ref+vault://secret/other/db#password",
      code: 77,
      says: "permission denied reading secret/data/other/db (403)",
    },
    {
      name: "missing path",
      ref: "ref+vault://secret/app/nope#password",
      code: 69,
      says: "secret/data/app/nope does not exist (404)",
    },
    {
      name: "deleted version",
      ref: "ref+vault://secret/app/retired?version=1#password",
      code: 69,
      says: "version 1 of secret/app/retired was deleted at",
    },
    {
      name: "missing field",
      ref: "ref+vault://secret/app/db#pasword",
      code: 69,
      says: 'field "pasword" is not in the secret (keys: password, user)',
    },
  ];
  it.each(cases)("$name → $code", async ({ ref, code, says }) => {
    const token = await vault.createToken(POLICY);
    const r = await run({ VAULT_TOKEN: token }, { secrets: { ...TEN, BROKEN: ref } });
    expectNotStarted(r, code);
    expect(r.result.stderr).toContain(says);
    expect(r.result.stderr).toContain(ref);
    expect(leaks(r, [token, "retired-value"])).toEqual([]);
  });
});

describe("acceptance 3: sealed, hanging, slow and dead servers", () => {
  const one = { DB_PASSWORD: "ref+vault://secret/app/db#password" };

  it("sealed → unsealed within the deadline succeeds", async () => {
    const secretId = await approle.secretId();
    vault.sealed = true;
    const dir = scratch();
    const out = join(dir, "probe.jsonl");
    const running = startCli(["run", "--timeout", "20s", "--", "node", PROBE, "--exit", "0"], {
      env: {
        VAULT_ADDR: vault.url,
        VAULT_CACERT: pki.caFile,
        VAULT_ROLE_ID: approle.roleId,
        VAULT_SECRET_ID: secretId,
        PROBE_OUT: out,
        ...one,
      },
      cwd: dir,
    });
    const before = vault.count("auth/approle/login");
    // Unseal once the CLI has met the sealed Vault at least twice (it is retrying, not giving up).
    while (vault.count("auth/approle/login") - before < 2)
      await new Promise((resolve) => setTimeout(resolve, 20));
    vault.sealed = false;
    const result = await running.result;
    expect(result.code, result.stderr).toBe(0);
    expect(probeStart(readProbe(out)).env?.["DB_PASSWORD"]).toBe(V.db);
  });

  it.each([{ kind: "hang" as const }, { kind: "trickle" as const, ms: 500 }])(
    "a $kind is cut at the per-attempt timeout and retried",
    async (fault) => {
      const token = await vault.createToken(POLICY);
      vault.server.script((q) => q.path === "/v1/secret/data/app/db", [fault]);
      const before = vault.count("secret/data/app/db");
      const r = await run(
        { VAULT_TOKEN: token },
        { secrets: one, args: ["--attempt-timeout", "1s", "--timeout", "20s"] },
      );
      expect(r.result.code, r.result.stderr).toBe(0);
      expect(vault.count("secret/data/app/db") - before).toBe(2);
      // One 1 s attempt, a short backoff and a second fast attempt; generous for a loaded machine.
      expect(r.result.durationMs).toBeGreaterThanOrEqual(1000);
      expect(r.result.durationMs).toBeLessThan(6000);
    },
  );

  it("a never-recovering server fails at --timeout, within 10%", async () => {
    const token = await vault.createToken(POLICY);
    vault.server.script(
      (q) => q.path.startsWith("/v1/secret/"),
      [{ kind: "reply", reply: { status: 503, body: { errors: ["Vault is sealed"] } } }],
      { forever: true },
    );
    try {
      const r = await run({ VAULT_TOKEN: token }, { secrets: one, args: ["--timeout", "6s"] });
      expectNotStarted(r, 69);
      expect(r.result.stderr).toContain("gave up at the --timeout deadline");
      expect(r.result.durationMs).toBeGreaterThanOrEqual(6000);
      expect(r.result.durationMs).toBeLessThanOrEqual(6600);
    } finally {
      vault.server.clearFaults();
    }
  });
});

describe("acceptance 4: where the token may go", () => {
  it("a 307 to another port never receives the token", async () => {
    const active = await FakeVault.start({ tls: pki.valid });
    const standby = await FakeVault.start({ tls: pki.valid });
    standby.standbyFor = active.url;
    const token = await vault.createToken(POLICY);
    try {
      const r = await run(
        { VAULT_ADDR: standby.url, VAULT_TOKEN: token },
        { secrets: { DB_PASSWORD: "ref+vault://secret/app/db#password" } },
      );
      expectNotStarted(r, 69);
      expect(r.result.stderr).toContain(`to ${active.url}; not followed`);
      expect(active.server.requests).toHaveLength(0);
      expect(leaks(r, [token])).toEqual([]);
    } finally {
      await active.close();
      await standby.close();
    }
  });

  it("http:// to a non-loopback address is refused before any request (78)", async () => {
    const token = canary("TOKEN");
    const r = await run({ VAULT_ADDR: "http://198.51.100.7:8200", VAULT_TOKEN: token });
    expectNotStarted(r, 78);
    expect(r.result.stderr).toContain("refusing http://198.51.100.7:8200");
    expect(r.result.stderr).toContain("allowHttp: true");
    expect(leaks(r, [token])).toEqual([]);
  });
});
