// ref+awssecrets end to end: the built CLI (bin/secretwrap) with the real AWS SDK over real HTTP
// against test/servers/aws.ts, which verifies every SigV4 signature against the credentials it issued.
// With SECRETWRAP_TEST_AWS_ENDPOINT set, the cases that need no fault injection or request log run
// against that endpoint (e.g. LocalStack) instead.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { PROBE, probeStart, readProbe, runCli, type CliResult } from "../helpers/cli.ts";
import { NODES } from "../helpers/nodes.ts";
import {
  AwsFake,
  fakeBackend,
  REAL_AWS_ENDPOINT,
  realBackend,
  requestedIds,
  scopeRegion,
  type AwsBackend,
} from "../servers/aws.ts";
import { reply } from "../servers/harness.ts";
import { scratchDirs } from "../helpers/scratch.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-aws-"));
const shmDirs = new Set<string>();
let fake: AwsFake;
let backend: AwsBackend;
const REAL = REAL_AWS_ENDPOINT !== undefined;
const fakeOnly = REAL ? it.skip : it;
if (REAL)
  console.info(
    `awssecrets e2e: running against ${REAL_AWS_ENDPOINT}; fault, STS and request-count cases are skipped`,
  );

beforeAll(async () => {
  fake = await AwsFake.start({ errorMessageExtra: canary("ECHO") });
  backend = REAL_AWS_ENDPOINT === undefined ? fakeBackend(fake) : await realBackend(REAL_AWS_ENDPOINT);
});
afterAll(async () => {
  await fake.close();
  rmSync(work, { recursive: true, force: true });
  for (const dir of shmDirs) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => fake.server.clearFaults());

const scratch = scratchDirs(work);
/** Secret names unique per run, so a real endpoint can be reused. */
const unique = (label: string): string => `sw-e2e/${label}-${randomBytes(4).toString("hex")}`;

/** No host AWS setup may leak in: the CLI sees only what a test gives it. */
const ISOLATION = {
  AWS_CONFIG_FILE: "/nonexistent/aws-config",
  AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
  AWS_EC2_METADATA_DISABLED: "true",
};

async function runProbe(
  dir: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ result: CliResult; out: string }> {
  const out = join(dir, "probe.jsonl");
  const result = await runCli(["run", ...args, "--", "node", PROBE, "--exit", "0"], {
    env: { ...ISOLATION, PROBE_OUT: out, ...env },
    cwd: dir,
    timeoutMs: 60_000,
  });
  return { result, out };
}

function fileBytes(out: string, name: string): Buffer {
  const file = probeStart(readProbe(out)).files?.[name];
  if (file === undefined) throw new Error(`the probe saw no ${name}`);
  shmDirs.add(dirname(file.path));
  return Buffer.from(file.base64, "base64");
}

/** Every credential the fake issued and every planted value: none may appear in what the user sees. */
function leaks(values: readonly string[], result: CliResult): unknown[] {
  const creds = fake.issued.flatMap((c) => [
    c.secretAccessKey,
    ...(c.sessionToken === undefined ? [] : [c.sessionToken]),
  ]);
  return scanForCanaries([...values, ...creds], { texts: { stdout: result.stdout, stderr: result.stderr } });
}

describe("acceptance 1: 30 secrets in two regions, web identity and container credentials", () => {
  const regions = ["eu-west-1", "us-east-2"] as const;

  function seedThirty(): { env: Record<string, string>; values: Map<string, string> } {
    const env: Record<string, string> = {};
    const values = new Map<string, string>();
    for (let i = 0; i < 30; i++) {
      const region = regions[i % 2] as string;
      const name = unique(`many${i}`);
      const value = canary(`V${i}`);
      const { arn } = fake.putSecret(region, name, value);
      // Half name the region as a parameter, half use the ARN: both must be batched per region.
      const ref = i % 4 < 2 ? `ref+awssecrets://${name}?region=${region}` : `ref+awssecrets://${arn}`;
      env[`S${i}`] = ref;
      values.set(`S${i}`, value);
    }
    return { env, values };
  }

  function assertBatched(before: number, source: "sts" | "container"): void {
    const calls = fake.server.requests.slice(before).filter((r) => r.headers["x-amz-target"] !== undefined);
    for (const region of regions) {
      const inRegion = calls.filter((r) => scopeRegion(r) === region);
      const batches = inRegion.filter(
        (r) => r.headers["x-amz-target"] === "secretsmanager.BatchGetSecretValue",
      );
      expect(batches.length, region).toBeGreaterThanOrEqual(1);
      expect(batches.length, region).toBeLessThanOrEqual(2);
      expect(inRegion.length - batches.length, `${region} single gets`).toBe(0);
      expect(batches.flatMap(requestedIds).length).toBe(15);
    }
    const checks = fake.signatures.slice(-calls.length);
    expect(checks.every((c) => c.valid && c.source === source)).toBe(true);
  }

  fakeOnly(
    "web identity (IRSA): one STS call, then at most 2 batch calls per region signed with the STS keys",
    async () => {
      const dir = scratch();
      const token = `eyJ${canary("JWT")}\n`;
      writeFileSync(join(dir, "token"), token);
      fake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/app", token };
      const { env, values } = seedThirty();
      const before = fake.server.requests.length;
      const stsBefore = fake.stsCalls().length;
      const { result, out } = await runProbe(dir, {
        ...env,
        AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "token"),
        AWS_ROLE_ARN: fake.webIdentity.roleArn,
        AWS_REGION: "eu-west-1",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
        AWS_ENDPOINT_URL_STS: fake.url,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toMatch(/warn|error/i);
      const seen = probeStart(readProbe(out)).env ?? {};
      for (const [name, value] of values) expect(seen[name], name).toBe(value);
      // IRSA pointers stay for the app (it may use the same role); they are not credentials.
      expect(seen["AWS_WEB_IDENTITY_TOKEN_FILE"]).toBe(join(dir, "token"));
      expect(fake.stsCalls().length - stsBefore).toBe(1);
      assertBatched(before, "sts");
      expect(leaks([token.trim(), ...values.values()], result)).toEqual([]);
    },
  );

  fakeOnly(
    "container credentials (ECS task role): same batching, token consumed, keys from the endpoint",
    async () => {
      const dir = scratch();
      const authToken = canary("ECSTOKEN");
      fake.containerToken = authToken;
      const { env, values } = seedThirty();
      const before = fake.server.requests.length;
      const { result, out } = await runProbe(dir, {
        ...env,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${fake.url}/creds`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: authToken,
        AWS_REGION: "eu-west-1",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
      });
      expect(result.code, result.stderr).toBe(0);
      const seen = probeStart(readProbe(out)).env ?? {};
      for (const [name, value] of values) expect(seen[name], name).toBe(value);
      expect(seen["AWS_CONTAINER_AUTHORIZATION_TOKEN"]).toBeUndefined();
      expect(fake.containerCalls().at(-1)?.headers["authorization"]).toBe(authToken);
      assertBatched(before, "container");
      expect(leaks([authToken, ...values.values()], result)).toEqual([]);
    },
  );

  fakeOnly(
    "with static keys too, the default --concurrency 8 means 8 batch requests in flight, not 8 secrets",
    async () => {
      const dir = scratch();
      const { env, values } = seedThirty();
      const before = fake.server.requests.length;
      const { result, out } = await runProbe(dir, { ...env, ...backend.staticEnv, AWS_REGION: "eu-west-1" });
      expect(result.code, result.stderr).toBe(0);
      const seen = probeStart(readProbe(out)).env ?? {};
      for (const [name, value] of values) expect(seen[name]).toBe(value);
      const calls = fake.server.requests.slice(before);
      // The session declares batchSize 20, so all 30 fetches are handed out at once: one batch per region.
      expect(calls.length).toBeLessThanOrEqual(4);
      expect(calls.some((r) => requestedIds(r).length > 1)).toBe(true);
      expect(calls.flatMap(requestedIds).length).toBe(30);
      // static keys from the environment are bootstrap credentials: the app does not get them
      expect(seen["AWS_SECRET_ACCESS_KEY"]).toBeUndefined();
    },
  );
});

describe("acceptance 2: exact bytes", () => {
  it("JSON field, version stage, version id, binary to a file, ARN", async () => {
    const dir = scratch();
    const region = "eu-west-1";
    const json = unique("json");
    const password = canary("PW");
    await backend.putSecret(
      region,
      json,
      JSON.stringify({ username: "app", password, nested: { port: 5432 } }),
    );
    const versioned = unique("versioned");
    const first = canary("FIRST");
    const second = canary("SECOND");
    const { versionId: firstId } = await backend.putSecret(region, versioned, first);
    await backend.putVersion(region, versioned, second, ["AWSCURRENT"]);
    const binary = unique("binary");
    const bytes = Buffer.concat([Buffer.from([0, 255, 0x80, 10, 13, 0]), randomBytes(64)]);
    const { arn: binaryArn } = await backend.putSecret(region, binary, bytes);
    const pem = `-----BEGIN PRIVATE KEY-----\n${canary("PEM")}\n-----END PRIVATE KEY-----\n`;
    const { arn: pemArn } = await backend.putSecret("us-west-2", unique("pem"), pem);
    const { result, out } = await runProbe(dir, {
      ...backend.staticEnv,
      AWS_REGION: region,
      DB_PASSWORD: `ref+awssecrets://${json}#password`,
      DB_PORT: `ref+awssecrets://${json}#/nested/port`,
      PREVIOUS: `ref+awssecrets://${versioned}?version_stage=AWSPREVIOUS`,
      BY_ID: `ref+awssecrets://${versioned}?version_id=${firstId}`,
      CURRENT: `ref+awssecrets://${versioned}`,
      BLOB_FILE: `ref+awssecrets://${binaryArn}`,
      TLS_KEY_FILE: `ref+awssecrets://${pemArn}`,
    });
    expect(result.code, result.stderr).toBe(0);
    const seen = probeStart(readProbe(out)).env ?? {};
    expect([seen["DB_PASSWORD"], seen["DB_PORT"], seen["PREVIOUS"], seen["BY_ID"], seen["CURRENT"]]).toEqual([
      password,
      "5432",
      first,
      first,
      second,
    ]);
    expect(fileBytes(out, "BLOB_FILE").equals(bytes)).toBe(true);
    expect(fileBytes(out, "TLS_KEY_FILE").toString("utf8")).toBe(pem);
    expect(leaks([password, first, second], result)).toEqual([]);
  });

  it("a binary secret with NUL is refused as an env var (exit 69) and never printed", async () => {
    const dir = scratch();
    const name = unique("nul");
    await backend.putSecret("eu-west-1", name, Buffer.from([65, 0, 66]));
    const { result, out } = await runProbe(dir, {
      ...backend.staticEnv,
      AWS_REGION: "eu-west-1",
      BLOB: `ref+awssecrets://${name}`,
    });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain("NUL");
    expect(readProbe(out)).toEqual([]);
  });
});

describe("acceptance 3: failures, exit codes and timing", () => {
  it("not found: exit 69 naming the reference, app not started", async () => {
    const dir = scratch();
    const ref = `ref+awssecrets://${unique("absent")}`;
    const { result, out } = await runProbe(dir, { ...backend.staticEnv, AWS_REGION: "eu-west-1", GONE: ref });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain(ref);
    expect(result.stderr).toContain("SECRET_NOT_FOUND");
    expect(readProbe(out)).toEqual([]);
  });

  fakeOnly(
    "access denied and KMS decryption failure: exit 77, one request, no echo of the server's message",
    async () => {
      const dir = scratch();
      const [denied, kms] = [unique("denied"), unique("kms")];
      fake.putSecret("eu-west-1", denied, canary("D"));
      fake.deny("eu-west-1", denied);
      fake.putSecret("eu-west-1", kms, canary("K"));
      fake.denyKms("eu-west-1", kms);
      const before = fake.calls().length;
      const { result, out } = await runProbe(dir, {
        ...backend.staticEnv,
        AWS_REGION: "eu-west-1",
        A: `ref+awssecrets://${denied}`,
        B: `ref+awssecrets://${kms}`,
      });
      expect(result.code).toBe(77);
      expect(result.stderr).toContain("AccessDeniedException");
      expect(result.stderr).toContain("DecryptionFailure");
      expect(result.stderr).toContain("kms:Decrypt");
      expect(result.stderr).not.toContain("CANARY_ECHO");
      expect(fake.calls().length - before).toBe(1);
      expect(readProbe(out)).toEqual([]);
    },
  );

  fakeOnly("throttled, then ok: retried by secretwrap (not by the SDK), the app starts", async () => {
    const dir = scratch();
    const name = unique("throttled");
    const value = canary("T");
    fake.putSecret("eu-west-1", name, value);
    const isGet = (r: { headers: Record<string, unknown> }) =>
      r.headers["x-amz-target"] === "secretsmanager.GetSecretValue";
    fake.server.script(isGet, [
      reply(400, { __type: "ThrottlingException", Message: "Rate exceeded" }),
      reply(400, { __type: "ThrottlingException", Message: "Rate exceeded" }),
    ]);
    const before = fake.server.count(isGet);
    const { result, out } = await runProbe(dir, {
      ...backend.staticEnv,
      AWS_REGION: "eu-west-1",
      V: `ref+awssecrets://${name}`,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(probeStart(readProbe(out)).env?.["V"]).toBe(value);
    const attempts = fake.server.requests.filter(isGet).slice(before);
    expect(attempts.length).toBe(3);
    // every attempt is a fresh SDK call: amz-sdk-request says attempt 1 of 1
    expect(attempts.every((r) => r.headers["amz-sdk-request"] === "attempt=1; max=1")).toBe(true);
  });

  fakeOnly(
    "throttled forever: exit 69 at the --timeout deadline, retried with backoff in between",
    async () => {
      const dir = scratch();
      const name = unique("forever");
      fake.putSecret("eu-west-1", name, "x");
      const isGet = (r: { headers: Record<string, unknown> }) =>
        r.headers["x-amz-target"] === "secretsmanager.GetSecretValue";
      fake.server.script(isGet, [reply(400, { __type: "ThrottlingException", Message: "Rate exceeded" })], {
        forever: true,
      });
      const before = fake.server.count(isGet);
      const { result } = await runProbe(
        dir,
        { ...backend.staticEnv, AWS_REGION: "eu-west-1", V: `ref+awssecrets://${name}` },
        ["--timeout", "3s"],
      );
      expect(result.code).toBe(69);
      expect(result.stderr).toContain("ThrottlingException");
      expect(result.durationMs).toBeGreaterThanOrEqual(2500);
      expect(result.durationMs).toBeLessThan(15_000);
      const attempts = fake.server.count(isGet) - before;
      expect(attempts).toBeGreaterThanOrEqual(3);
      expect(attempts).toBeLessThan(40);
    },
  );

  fakeOnly(
    "a hanging server: each attempt ends at --attempt-timeout, the run at --timeout, exit 69",
    async () => {
      const dir = scratch();
      const name = unique("hang");
      fake.putSecret("eu-west-1", name, "x");
      fake.server.script(() => true, [{ kind: "hang" }], { forever: true });
      const before = fake.calls().length;
      const { result } = await runProbe(
        dir,
        { ...backend.staticEnv, AWS_REGION: "eu-west-1", V: `ref+awssecrets://${name}` },
        ["--timeout", "4s", "--attempt-timeout", "1s"],
      );
      expect(result.code).toBe(69);
      expect(result.durationMs).toBeGreaterThanOrEqual(3500);
      expect(result.durationMs).toBeLessThan(15_000);
      expect(fake.calls().length - before).toBeGreaterThanOrEqual(2);
    },
  );

  fakeOnly("login failure (STS rejects the token): exit 77, no secret requested", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "token"), "stale-token");
    fake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/app", token: "fresh-token" };
    const before = fake.calls().length;
    const { result } = await runProbe(dir, {
      AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "token"),
      AWS_ROLE_ARN: fake.webIdentity.roleArn,
      AWS_REGION: "eu-west-1",
      AWS_ENDPOINT_URL_STS: fake.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
      V: `ref+awssecrets://${unique("x")}`,
    });
    expect(result.code).toBe(77);
    expect(result.stderr).toContain("InvalidIdentityToken");
    expect(result.stderr).not.toContain("stale-token");
    expect(fake.calls().length).toBe(before);
  });
});

describe.each(NODES)("under $name", (node) => {
  it("the SDK prints nothing of its own (no NodeVersionSupportWarning), at debug level too", async () => {
    const dir = scratch();
    const name = unique("quiet");
    const value = canary("Q");
    await backend.putSecret("eu-west-1", name, value);
    const out = join(dir, "probe.jsonl");
    const result = await runCli(["run", "--log-level", "debug", "--", "node", PROBE, "--exit", "0"], {
      env: {
        ...ISOLATION,
        ...backend.staticEnv,
        AWS_REGION: "eu-west-1",
        PROBE_OUT: out,
        V: `ref+awssecrets://${name}`,
      },
      cwd: dir,
      node,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK|Warning/);
    for (const line of result.stderr.trim().split("\n")) expect(line.startsWith("secretwrap:")).toBe(true);
    expect(probeStart(readProbe(out)).env?.["V"]).toBe(value);
    expect(leaks([value], result)).toEqual([]);
  });
});
