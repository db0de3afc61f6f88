// --compat end to end (issue #18): the built CLI reads berglas', secrets-init's and vault-env's forms
// from its environment, resolves them against the local Vault, Google and AWS servers, and the probe app
// reports what it received. Without --compat the same values reach the app as they are, and no server
// is asked anything.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { PROBE, probeStart, readProbe, runCli, type CliResult } from "../helpers/cli.ts";
import { scratchDirs } from "../helpers/scratch.ts";
import { AwsFake } from "../servers/aws.ts";
import { FakeGcp } from "../servers/gcp.ts";
import { FakeVault, type IssuedCertificate } from "../servers/vault.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-compat-"));
const scratch = scratchDirs(work);
const shmDirs = new Set<string>();
let vault: FakeVault;
let gcp: FakeGcp;
let aws: AwsFake;
let awsKeys: { accessKeyId: string; secretAccessKey: string };
let token: string;
let smArn: string;
let issued: readonly IssuedCertificate[];

const V = {
  kv2: canary("KV2"),
  kv2old: canary("KV2OLD"),
  kv1: canary("KV1"),
  pg: canary("PG"),
  gcpLatest: canary("GLATEST"),
  gcpFirst: canary("GFIRST"),
  gcpFile: canary("GFILE"),
  aws: canary("AWSSM"),
};
const PROJECT = "my-proj";

beforeAll(async () => {
  vault = await FakeVault.start();
  await vault.mountKv("secret", 2);
  await vault.mountKv("kv", 1);
  await vault.putKv("secret", "app", { password: V.kv2old });
  await vault.putKv("secret", "app", { password: V.kv2 });
  await vault.putKv("kv", "app/config", { api_key: V.kv1 });
  vault.mountDatabase().set("app", () => ({ username: V.pg, password: canary("PGPW") }));
  issued = vault.mountPki("pki");
  token = await vault.createToken(["secret/data/app", "kv/app/*", "database/creds/app", "pki/issue/*"]);
  gcp = await FakeGcp.start();
  gcp.addSecret(PROJECT, "db-pass", [V.gcpFirst, V.gcpLatest]);
  gcp.addSecret(PROJECT, "sa-key", [V.gcpFile]);
  aws = await AwsFake.start();
  awsKeys = aws.issueStatic();
  smArn = aws.putSecret("eu-west-1", `compat/${randomBytes(3).toString("hex")}`, V.aws).arn;
});
afterAll(async () => {
  await vault.close();
  await gcp.close();
  await aws.close();
  rmSync(work, { recursive: true, force: true });
  for (const dir of shmDirs) rmSync(dir, { recursive: true, force: true });
});

/** The servers' settings, as a container configured for each vendor's tools would have them. */
function serverEnv(dir: string): Record<string, string> {
  return {
    VAULT_ADDR: vault.url,
    VAULT_TOKEN: token,
    HOME: dir,
    GCE_METADATA_HOST: `127.0.0.1:${gcp.metadata.port}`,
    AWS_ACCESS_KEY_ID: awsKeys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: awsKeys.secretAccessKey,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

async function run(
  secrets: Record<string, string>,
  args: string[],
  command: string[] = ["run"],
): Promise<{ result: CliResult; out: string; dir: string }> {
  const dir = scratch();
  const config = join(dir, "secretwrap.json");
  // The Google API's address is the one setting without a standard variable: the provider block.
  writeFileSync(config, JSON.stringify({ version: 1, providers: { gcpsecrets: { endpoint: gcp.api.url } } }));
  const out = join(dir, "probe.jsonl");
  const tail = command[0] === "run" ? ["--", "node", PROBE, "--exit", "0"] : [];
  const result = await runCli([...command, "--config", config, ...args, ...tail], {
    env: { ...serverEnv(dir), PROBE_OUT: out, ...secrets },
    cwd: dir,
    timeoutMs: 60_000,
  });
  return { result, out, dir };
}

const leaks = (result: CliResult, extra: string[] = []) =>
  scanForCanaries([...Object.values(V), token, awsKeys.secretAccessKey, ...extra], {
    texts: { stdout: result.stdout, stderr: result.stderr },
  });

/** Every form of each tool, with the value the app must receive. */
function forms(): Record<string, [string, string]> {
  return {
    KV2: ["vault:secret/data/app#password", V.kv2],
    KV2_OLD: ["vault:secret/data/app#password#1", V.kv2old],
    KV1: ["vault:kv/app/config#api_key", V.kv1],
    PG_USER: ["vault:database/creds/app#username", V.pg],
    SM_LATEST: [`sm://${PROJECT}/db-pass`, V.gcpLatest],
    SM_FIRST: [`sm://${PROJECT}/db-pass#1`, V.gcpFirst],
    GCP_LONG: [`gcp:secretmanager:projects/${PROJECT}/secrets/db-pass/versions/1`, V.gcpFirst],
    SM_ARN: [smArn, V.aws],
  };
}

describe("--compat berglas,secrets-init,vault-env", () => {
  it("every form resolves against its server; berglas' tempfile is a 0400 file whose path the variable holds", async () => {
    const all = forms();
    const secrets = Object.fromEntries(Object.entries(all).map(([name, [form]]) => [name, form]));
    const fileForm = `sm://${PROJECT}/sa-key?destination=tempfile`;
    const r = await run({ ...secrets, SA_KEY: fileForm, PROBE_FILES: "SA_KEY" }, [
      "--compat",
      "berglas,secrets-init,vault-env",
    ]);
    expect(r.result.code, r.result.stderr).toBe(0);
    const start = probeStart(readProbe(r.out));
    for (const [name, [, value]] of Object.entries(all)) expect(start.env?.[name], name).toBe(value);
    const path = start.env?.["SA_KEY"] ?? "";
    shmDirs.add(dirname(path));
    expect(path.endsWith("/SA_KEY")).toBe(true);
    const file = start.files?.["SA_KEY"];
    expect(Buffer.from(file?.base64 ?? "", "base64").toString()).toBe(V.gcpFile);
    expect(file?.mode).toMatch(/^0?400$/);
    expect(leaks(r.result)).toEqual([]);
  });

  it("check --json shows each one's canonical reference and the form it was written in", async () => {
    const all = forms();
    const secrets = Object.fromEntries(Object.entries(all).map(([name, [form]]) => [name, form]));
    const r = await run(secrets, ["--json"], ["check"]);
    // Off: nothing is declared, and check says so.
    expect(r.result.code).toBe(78);
    const on = await run(secrets, ["--json"], ["check", "--compat", "vault-env,berglas,secrets-init"]);
    expect(on.result.code, on.result.stderr).toBe(0);
    const report = JSON.parse(on.result.stdout) as {
      secrets: { name: string; ref: string; compat?: { tool: string; form: string } }[];
    };
    const kv2 = report.secrets.find((s) => s.name === "KV2");
    expect(kv2).toMatchObject({
      ref: "ref+vault://secret/data/app?api_path=true#password",
      compat: { tool: "vault-env", form: "vault:secret/data/app#password", source: "environment" },
    });
    expect(report.secrets.find((s) => s.name === "SM_ARN")).toMatchObject({
      ref: `ref+awssecrets://${smArn}`,
      compat: { tool: "secrets-init" },
    });
    expect(leaks(on.result)).toEqual([]);
  });

  it("off by default: the same values reach the app as they are, and no server is asked", async () => {
    const all = forms();
    const secrets = Object.fromEntries(Object.entries(all).map(([name, [form]]) => [name, form]));
    const before = vault.server.requests.length + gcp.api.requests.length + aws.server.requests.length;
    const r = await run(secrets, []);
    expect(r.result.code, r.result.stderr).toBe(0);
    const start = probeStart(readProbe(r.out));
    for (const [name, form] of Object.entries(secrets)) expect(start.env?.[name], name).toBe(form);
    expect(vault.server.requests.length + gcp.api.requests.length + aws.server.requests.length).toBe(before);
  });

  it("SECRETWRAP_COMPAT enables one tool; the others' forms stay literal", async () => {
    const r = await run(
      { KV2: forms()["KV2"]?.[0] ?? "", SM: `sm://${PROJECT}/db-pass`, SECRETWRAP_COMPAT: "vault-env" },
      [],
    );
    expect(r.result.code, r.result.stderr).toBe(0);
    const start = probeStart(readProbe(r.out));
    expect(start.env?.["KV2"]).toBe(V.kv2);
    expect(start.env?.["SM"]).toBe(`sm://${PROJECT}/db-pass`);
    expect(start.env).not.toHaveProperty("SECRETWRAP_COMPAT");
  });

  it("A4: a malformed or refused form stops the run with 78 naming the variable, never printing the value", async () => {
    const planted = canary("LOOKSLIKE");
    const cases = {
      BROKEN_SM: `sm://${planted}`,
      // A body that is not JSON (the closing } is missing).
      WRITE: `>>vault:pki/issue/web#certificate#{"common_name":"${planted}"`,
      NO_KEY: `vault:secret/data/${planted}`,
      DEST: `sm://${PROJECT}/db-pass?destination=/etc/${planted}`,
      // secrets-init would read the secret named by the text before the = (the one that exists).
      CUT: `${smArn}=${planted}`,
    };
    const r = await run(cases, ["--compat", "berglas,vault-env,secrets-init"]);
    expect(r.result.code).toBe(78);
    expect(readProbe(r.out)).toEqual([]);
    for (const name of Object.keys(cases)) expect(r.result.stderr).toContain(name);
    expect(r.result.stderr).toMatch(/not a JSON object/);
    expect(r.result.stderr).toMatch(/own secrets directory/);
    expect(r.result.stderr).toMatch(/up to its first =/);
    expect(leaks(r.result, [planted])).toEqual([]);
  });

  it("secrets-init's JSON object secret is refused whole (78), as secrets-init would set one variable per key", async () => {
    const password = canary("JSONPW");
    const { arn } = aws.putSecret(
      "eu-west-1",
      `compat/json-${randomBytes(3).toString("hex")}`,
      JSON.stringify({ username: "app", password }),
    );
    const r = await run({ DB: arn }, ["--compat", "secrets-init"]);
    expect(r.result.code).toBe(78);
    expect(r.result.stderr).toMatch(/one variable per key/);
    expect(readProbe(r.out)).toEqual([]);
    expect(leaks(r.result, [password])).toEqual([]);
  });

  it("a KV v2 API path without data/ is refused (78), as vault-env would fail to read it", async () => {
    const r = await run({ KV2: "vault:secret/app#password" }, ["--compat", "vault-env"]);
    expect(r.result.code).toBe(78);
    expect(r.result.stderr).toContain("secret/data/");
    expect(readProbe(r.out)).toEqual([]);
  });

  it("an unknown tool is a usage error (64) naming it", async () => {
    const r = await run({}, ["--compat", "berglas,vals"]);
    expect(r.result.code).toBe(64);
    expect(r.result.stderr).toContain('"vals"');
    const env = await run({ SECRETWRAP_COMPAT: "chamber" }, []);
    expect(env.result.code).toBe(64);
    expect(env.result.stderr).toContain("SECRETWRAP_COMPAT");
  });
});

describe("secrets-init's SSM form", () => {
  it("is declared as ref+awsssm (resolution is the awsssm provider's e2e)", async () => {
    const r = await run(
      { P: "arn:aws:ssm:eu-west-1:123456789012:parameter/app/flag" },
      ["--json", "--compat", "secrets-init"],
      ["check"],
    );
    expect(r.result.stdout).toContain("ref+awsssm://app/flag?region=eu-west-1");
  });
});

describe("vault-env's >>vault: write form", () => {
  const CN = '{"common_name":"web.internal"}';
  const writes = (): number => vault.count("pki/issue/web", "POST");
  const issueEnv = {
    TLS_CERT: `>>vault:pki/issue/web#certificate#${CN}`,
    TLS_KEY: `>>vault:pki/issue/web#private_key#${CN}`,
    TLS_SERIAL: `>>vault:pki/issue/web#serial_number#${CN}`,
  };

  it("certificate, private key and serial the app gets come from one issue (one write), nothing of them in the output at debug", async () => {
    const before = writes();
    const r = await run(issueEnv, ["--compat", "vault-env", "--log-level", "debug"]);
    expect(r.result.code, r.result.stderr).toBe(0);
    expect(writes() - before).toBe(1);
    const one = issued.at(-1) as IssuedCertificate;
    const env = probeStart(readProbe(r.out)).env;
    expect([env?.["TLS_CERT"], env?.["TLS_KEY"], env?.["TLS_SERIAL"]]).toEqual([
      one.certificate,
      one.private_key,
      one.serial_number,
    ]);
    expect(leaks(r.result, [one.private_key, one.certificate, one.private_key.split("\n")[1] ?? ""])).toEqual(
      [],
    );
  });

  it("check issues too (it is 'would run succeed'); --watch is refused with 78 before any request", async () => {
    const before = writes();
    const check = await run(issueEnv, ["--compat", "vault-env"], ["check"]);
    expect(check.result.code, check.result.stderr).toBe(0);
    expect(writes() - before).toBe(1);
    const requests = vault.server.requests.length;
    const watched = await run(issueEnv, ["--compat", "vault-env", "--watch"]);
    expect(watched.result.code).toBe(78);
    expect(watched.result.stderr).toMatch(/cannot be watched/);
    expect(watched.result.stderr).toContain("TLS_");
    expect(readProbe(watched.out)).toEqual([]);
    expect(vault.server.requests.length).toBe(requests);
  });

  it("a 500 from Vault is not sent again: 69, one request, the app not started", async () => {
    vault.server.script(
      (r) => r.path.startsWith("/v1/pki/issue/web"),
      [{ kind: "reply", reply: { status: 500, body: { errors: ["internal error"] } } }],
    );
    const before = writes();
    try {
      const r = await run(issueEnv, ["--compat", "vault-env", "--timeout", "5s"]);
      expect(r.result.code).toBe(69);
      expect(r.result.stderr).toMatch(/may have reached Vault/);
      expect(writes() - before).toBe(1);
      expect(readProbe(r.out)).toEqual([]);
    } finally {
      vault.server.clearFaults();
    }
  });
});
