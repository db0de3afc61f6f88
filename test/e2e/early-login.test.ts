// The login really leaves before the provider's SDK is loaded (issue #17): the built CLI runs with the
// SDK's chunk held back (test/fixtures/hold-sdk.mjs) until the fake server has seen the login. Without
// the early login the SDK is needed to send it, so the server sees nothing while the SDK is held and
// the test fails; with it, the login arrives, the SDK is released, and the run ends normally.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathFor } from "../helpers/cli.ts";
import { NODE24, REPO } from "../helpers/nodes.ts";
import type { RecordedRequest, TestServer } from "../servers/harness.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";
import { FakeVault } from "../servers/vault.ts";
import { FakeGcp } from "../servers/gcp.ts";
import { AwsFake } from "../servers/aws.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-early-login-"));
let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

interface HeldRun {
  /** The login arrived while the SDK was held back (the hook releases it only after that). */
  readonly loginBeforeSdk: boolean;
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs `secretwrap run [args] -- true` with the SDK chunk marked by `marker` held until `login` is seen. */
async function runHeld(
  server: TestServer,
  isLogin: (r: RecordedRequest) => boolean,
  marker: string,
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<HeldRun> {
  const release = join(work, `release-${Math.random().toString(16).slice(2)}`);
  const before = server.requests.length;
  const child = spawn(
    NODE24.bin,
    [
      "--import",
      join(REPO, "test/fixtures/hold-sdk.mjs"),
      join(REPO, "dist/bin.js"),
      "run",
      "--secrets-dir",
      join(work, `s-${Math.random().toString(16).slice(2)}`),
      ...args,
      "--",
      "true",
    ],
    {
      env: { PATH: pathFor(), HOME: work, HOLD_SDK_MARKER: marker, HOLD_SDK_UNTIL: release, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  // Up to 5 s for the login while the SDK is held; then the SDK is released either way.
  let loginBeforeSdk = false;
  for (let waited = 0; waited < 5_000; waited += 20) {
    if (server.requests.slice(before).some(isLogin)) {
      loginBeforeSdk = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  writeFileSync(release, "");
  const code = await exited;
  expect(existsSync(release)).toBe(true);
  return { loginBeforeSdk, code, stderr };
}

describe("the login leaves before the SDK is loaded", () => {
  it("vault, AppRole: the fake sees the login while node-vault is held back", async () => {
    const vault = await FakeVault.start({ tls: pki.valid });
    try {
      await vault.mountKv("secret", 2);
      await vault.putKv("secret", "app/db", { password: "p" });
      const role = await vault.addAppRole("app", ["secret/data/app/*"]);
      const run = await runHeld(
        vault.server,
        (r) => r.path === "/v1/auth/approle/login",
        // A string of node-vault's own source (its token renewal events), in no other chunk.
        "token:error:renew",
        {
          VAULT_ADDR: vault.url,
          VAULT_CACERT: pki.caFile,
          VAULT_ROLE_ID: role.roleId,
          VAULT_SECRET_ID: await role.secretId(),
          DB: "ref+vault://secret/app/db#password",
        },
      );
      // The hold did engage: the SDK's chunk was found and held back.
      expect(run.stderr).toContain("hold-sdk: holding");
      expect(run.loginBeforeSdk, run.stderr).toBe(true);
      expect(run.code, run.stderr).toBe(0);
      expect(vault.count("auth/approle/login")).toBe(1);
    } finally {
      await vault.close();
    }
  });

  it("gcpsecrets, metadata server: the fake sees the token request while the Secret Manager client is held back", async () => {
    const fake = await FakeGcp.start();
    try {
      fake.addSecret("early-proj", "db", ["v"]);
      const config = join(work, "gcp.json");
      writeFileSync(
        config,
        JSON.stringify({ version: 1, providers: { gcpsecrets: { endpoint: fake.api.url } } }),
      );
      const run = await runHeld(
        fake.metadata,
        (r) => r.path.includes("/service-accounts/default/token"),
        // The generated client's service name, in its chunk only.
        "google.cloud.secretmanager.v1.SecretManagerService",
        {
          GCE_METADATA_HOST: `127.0.0.1:${fake.metadata.port}`,
          DB: "ref+gcpsecrets://early-proj/db",
        },
        ["--config", config],
      );
      expect(run.stderr).toContain("hold-sdk: holding");
      expect(run.loginBeforeSdk, run.stderr).toBe(true);
      expect(run.code, run.stderr).toBe(0);
      expect(fake.tokenRequests()).toBe(1);
    } finally {
      await fake.close();
    }
  });

  it("awssecrets, web identity: the fake sees the STS exchange while the Secrets Manager client is held back", async () => {
    const fake = await AwsFake.start();
    try {
      fake.putSecret("eu-west-1", "early/db", "v");
      const tokenFile = join(work, "web-token");
      writeFileSync(tokenFile, "eyJearly");
      fake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/app", token: "eyJearly" };
      const run = await runHeld(
        fake.server,
        (r) => r.body.includes("Action=AssumeRoleWithWebIdentity"),
        // The client's own shape ids, in its chunk only.
        "com.amazonaws.secretsmanager#",
        {
          AWS_CONFIG_FILE: join(work, "no-config"),
          AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
          AWS_ROLE_ARN: fake.webIdentity.roleArn,
          AWS_REGION: "eu-west-1",
          AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
          AWS_ENDPOINT_URL_STS: fake.url,
          DB: "ref+awssecrets://early/db",
        },
      );
      expect(run.stderr).toContain("hold-sdk: holding");
      expect(run.loginBeforeSdk, run.stderr).toBe(true);
      expect(run.code, run.stderr).toBe(0);
      expect(fake.stsCalls()).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it("awsssm, web identity: the fake sees the STS exchange while the SSM client is held back", async () => {
    const fake = await AwsFake.start();
    try {
      await fake.putParameter("eu-west-1", "/early/db", "v");
      const tokenFile = join(work, "web-token-ssm");
      writeFileSync(tokenFile, "eyJearlyssm");
      fake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/app", token: "eyJearlyssm" };
      const run = await runHeld(
        fake.server,
        (r) => r.body.includes("Action=AssumeRoleWithWebIdentity"),
        // The client's own shape ids, in its chunk only.
        "com.amazonaws.ssm#",
        {
          AWS_CONFIG_FILE: join(work, "no-config"),
          AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
          AWS_ROLE_ARN: fake.webIdentity.roleArn,
          AWS_REGION: "eu-west-1",
          AWS_ENDPOINT_URL_SSM: fake.url,
          AWS_ENDPOINT_URL_STS: fake.url,
          DB: "ref+awsssm://early/db",
        },
      );
      expect(run.stderr).toContain("hold-sdk: holding");
      expect(run.loginBeforeSdk, run.stderr).toBe(true);
      expect(run.code, run.stderr).toBe(0);
      expect(fake.stsCalls()).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });
});
