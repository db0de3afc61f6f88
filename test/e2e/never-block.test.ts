// No file secretwrap reads, or lets an SDK read on its behalf, may block (R13): a FIFO without a writer
// blocks open(2) on the main thread (no signal handler runs, --timeout never fires) or on a libuv
// thread the exit then waits for. Every such path, given as a FIFO or a directory, ends the run
// quickly with 78 naming the path (src/regular-file.ts, providers/kit/credential-file.ts), and a
// SIGTERM sent meanwhile still ends it.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-never-block-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const VAULT = { VAULT_ADDR: "http://127.0.0.1:1", A: "ref+vault://secret/x#a" };
const VAULT_CONFIG = (auth: string): string =>
  `version: 1\nproviders:\n  vault:\n    address: http://127.0.0.1:1\n    allowHttp: true\n    auth: {${auth}}\n`;
const AWS = { AWS_REGION: "us-east-1", A: "ref+awssecrets://prod/app#k" };
const AZURE = { AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c", A: "ref+azurekeyvault://my-kv/a" };

interface Case {
  readonly name: string;
  /** The environment, with PATH_UNDER_TEST standing for the FIFO or directory. */
  readonly env?: Readonly<Record<string, string>>;
  /** A config file (the --config of the run), with PATH_UNDER_TEST likewise. */
  readonly config?: string;
  /** The path is the --config itself. */
  readonly isConfig?: boolean;
}

const CASES: readonly Case[] = [
  { name: "--config", isConfig: true },
  { name: "SECRETWRAP_ENV_FILE", env: { SECRETWRAP_ENV_FILE: "PATH_UNDER_TEST" } },
  { name: "vault VAULT_TOKEN_FILE", env: { ...VAULT, VAULT_TOKEN_FILE: "PATH_UNDER_TEST" } },
  {
    name: "vault VAULT_CACERT",
    env: { ...VAULT, VAULT_ADDR: "https://127.0.0.1:1", VAULT_TOKEN: "t", VAULT_CACERT: "PATH_UNDER_TEST" },
  },
  {
    name: "vault caFile",
    env: { A: VAULT.A, VAULT_TOKEN: "t" },
    config: `version: 1\nproviders:\n  vault:\n    address: https://127.0.0.1:1\n    caFile: PATH_UNDER_TEST\n`,
  },
  {
    name: "vault auth.tokenFile",
    env: { A: VAULT.A },
    config: VAULT_CONFIG("method: token, tokenFile: PATH_UNDER_TEST"),
  },
  {
    name: "vault auth.roleIdFile",
    env: { A: VAULT.A },
    config: VAULT_CONFIG("method: approle, roleIdFile: PATH_UNDER_TEST, secretId: s"),
  },
  {
    name: "vault auth.secretIdFile",
    env: { A: VAULT.A },
    config: VAULT_CONFIG("method: approle, roleId: r, secretIdFile: PATH_UNDER_TEST"),
  },
  {
    name: "vault auth.wrappedSecretIdFile",
    env: { A: VAULT.A },
    config: VAULT_CONFIG("method: approle, roleId: r, wrappedSecretIdFile: PATH_UNDER_TEST"),
  },
  {
    name: "vault auth.jwtFile",
    env: { A: VAULT.A },
    config: VAULT_CONFIG("method: jwt, role: r, jwtFile: PATH_UNDER_TEST"),
  },
  {
    name: "gcp GOOGLE_APPLICATION_CREDENTIALS",
    env: { A: "ref+gcpsecrets://my-proj/a", GOOGLE_APPLICATION_CREDENTIALS: "PATH_UNDER_TEST" },
  },
  {
    name: "aws AWS_WEB_IDENTITY_TOKEN_FILE",
    env: {
      ...AWS,
      AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/r",
      AWS_WEB_IDENTITY_TOKEN_FILE: "PATH_UNDER_TEST",
    },
  },
  { name: "aws AWS_CONFIG_FILE", env: { ...AWS, AWS_CONFIG_FILE: "PATH_UNDER_TEST" } },
  {
    name: "aws AWS_SHARED_CREDENTIALS_FILE",
    env: { ...AWS, AWS_SHARED_CREDENTIALS_FILE: "PATH_UNDER_TEST" },
  },
  {
    name: "aws AWS_CA_BUNDLE",
    env: { ...AWS, AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s", AWS_CA_BUNDLE: "PATH_UNDER_TEST" },
  },
  {
    name: "azure AZURE_FEDERATED_TOKEN_FILE",
    env: { ...AZURE, AZURE_FEDERATED_TOKEN_FILE: "PATH_UNDER_TEST" },
  },
  {
    name: "azure AZURE_CLIENT_CERTIFICATE_PATH",
    env: { ...AZURE, AZURE_TOKEN_CREDENTIALS: "dev", AZURE_CLIENT_CERTIFICATE_PATH: "PATH_UNDER_TEST" },
  },
  {
    name: "azure auth.clientSecretFile",
    env: AZURE,
    config: `version: 1\nproviders:\n  azurekeyvault:\n    auth: {clientSecretFile: PATH_UNDER_TEST}\n`,
  },
];

let counter = 0;
/** A fresh FIFO (nobody ever writes it) or directory, and the arguments and environment of its case. */
function setUp(
  c: Case,
  kind: "fifo" | "directory",
): { path: string; args: string[]; env: Record<string, string> } {
  const dir = join(work, String(counter++));
  mkdirSync(dir);
  const path = join(dir, kind === "fifo" ? "f.yaml" : "d.yaml");
  if (kind === "fifo") execFileSync("mkfifo", [path]);
  else mkdirSync(path);
  const env = Object.fromEntries(
    Object.entries(c.env ?? {}).map(([k, v]) => [k, v.replace("PATH_UNDER_TEST", path)]),
  );
  const args = ["run"];
  if (c.isConfig === true) args.push("--config", path);
  if (c.config !== undefined) {
    const config = join(dir, "secretwrap.yaml");
    writeFileSync(config, c.config.replace("PATH_UNDER_TEST", path));
    args.push("--config", config);
  }
  return { path, args: [...args, "--timeout", "5s", "--", "/bin/true"], env };
}

describe("R13: no file secretwrap reads, or an SDK reads for it, can block", () => {
  it.each(CASES.flatMap((c) => (["fifo", "directory"] as const).map((kind) => ({ ...c, kind }))))(
    "R13: $name as a $kind is 78 naming it, at once",
    async (c) => {
      const { path, args, env } = setUp(c, c.kind);
      const result = await runCli(args, { env, cwd: work, timeoutMs: 15_000 });
      expect(result.code, result.stderr).toBe(78);
      expect(result.stderr).toContain(path);
      expect(result.stderr).toMatch(c.kind === "fifo" ? /FIFO or pipe, not a regular file/ : /directory/);
      expect(result.durationMs).toBeLessThan(5_000);
    },
  );

  it.each(CASES)("R13: $name as a FIFO: a SIGTERM during the run still ends it", async (c) => {
    const { args, env } = setUp(c, "fifo");
    const running = startCli(args, { env, cwd: work, timeoutMs: 15_000 });
    setTimeout(() => running.child.kill("SIGTERM"), 30);
    const result = await running.result;
    // The refusal came first (78), or the stop did: 143, or Node's default action when it came before
    // secretwrap's handlers were in (a shell reports that as 143 too). Never a wait for SIGKILL.
    const code = result.signal === "SIGTERM" ? 143 : result.code;
    expect([78, 143], result.stderr).toContain(code);
    expect(result.durationMs).toBeLessThan(5_000);
  });
});
