// ref+awsssm end to end: the built CLI (bin/secretwrap) with the real AWS SDK over real HTTP against the
// AWS fake's SSM Parameter Store (test/servers/aws-ssm.ts), which verifies every SigV4 signature against
// the credentials it issued.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { PROBE, probeStart, readProbe, runCli, type CliResult } from "../helpers/cli.ts";
import { scratchDirs } from "../helpers/scratch.ts";
import { startWatched, stopLeftovers, waitUntil } from "../fixtures/watch-run.ts";
import { AwsFake } from "../servers/aws.ts";
import { requestedNames } from "../servers/aws-ssm.ts";
import { reply } from "../servers/harness.ts";

const REGION = "eu-west-1";
const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-ssm-"));
const shmDirs = new Set<string>();
let fake: AwsFake;

beforeAll(async () => {
  fake = await AwsFake.start({ errorMessageExtra: canary("ECHO") });
});
afterAll(async () => {
  await fake.close();
  rmSync(work, { recursive: true, force: true });
  for (const dir of shmDirs) rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  fake.server.clearFaults();
  await stopLeftovers();
});

const scratch = scratchDirs(work);
/** A parameter path unique per run ("/sw-e2e/<label>-<hex>"). */
const unique = (label: string): string => `/sw-e2e/${label}-${randomBytes(4).toString("hex")}`;
const ref = (name: string, rest = ""): string => `ref+awsssm://${name.slice(1)}${rest}`;

/** No host AWS setup may leak in: the CLI sees only what a test gives it. */
const ISOLATION = {
  AWS_CONFIG_FILE: "/nonexistent/aws-config",
  AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
  AWS_EC2_METADATA_DISABLED: "true",
};

function staticEnv(): Record<string, string> {
  const keys = fake.issueStatic();
  return {
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_SSM: fake.url,
  };
}

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

/** Every credential the fake issued and every planted value: none may appear in what the user sees. */
function leaks(values: readonly string[], result: CliResult): unknown[] {
  const creds = fake.issued.flatMap((c) => [
    c.secretAccessKey,
    ...(c.sessionToken === undefined ? [] : [c.sessionToken]),
  ]);
  return scanForCanaries([...values, ...creds], { texts: { stdout: result.stdout, stderr: result.stderr } });
}

describe("awsssm: every form a user writes, through the CLI", () => {
  it("web identity: 27 parameters in GetParameters calls of 10 + 10 + 7, the prefix form, singleparam, a StringList file", async () => {
    const dir = scratch();
    const token = `eyJ${canary("JWT")}\n`;
    writeFileSync(join(dir, "token"), token);
    fake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/app", token };
    const env: Record<string, string> = {};
    const values = new Map<string, string>();
    for (let i = 0; i < 25; i++) {
      const name = unique(`p${i}`);
      const value = canary(`V${i}`);
      fake.ssm.put(REGION, name, value, i % 2 === 0 ? "SecureString" : "String");
      env[`S${i}`] = ref(name);
      values.set(`S${i}`, value);
    }
    const db = unique("db");
    const password = canary("PW");
    fake.ssm.put(REGION, `${db}/password`, password, "SecureString");
    fake.ssm.put(REGION, `${db}/user`, "app");
    const json = unique("json");
    const apiKey = canary("API");
    fake.ssm.put(REGION, json, JSON.stringify({ api_key: apiKey }), "SecureString");
    const list = unique("list");
    fake.ssm.put(REGION, list, "10.0.0.1,10.0.0.2", "StringList");
    const before = fake.ssmCalls().length;
    const { result, out } = await runProbe(dir, {
      ...env,
      DB_PASSWORD: ref(db, "#password"),
      DB_USER: ref(db, "#/user"),
      API_KEY: ref(json, "?mode=singleparam#api_key"),
      HOSTS_FILE: ref(list),
      AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "token"),
      AWS_ROLE_ARN: fake.webIdentity.roleArn,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL_SSM: fake.url,
      AWS_ENDPOINT_URL_STS: fake.url,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/warn|error/i);
    const start = probeStart(readProbe(out));
    const seen = start.env ?? {};
    for (const [name, value] of values) expect(seen[name], name).toBe(value);
    expect([seen["DB_PASSWORD"], seen["DB_USER"]]).toEqual([password, "app"]);
    expect(seen["API_KEY"]).toBe(apiKey);
    const file = start.files?.["HOSTS_FILE"];
    expect(file).toBeDefined();
    shmDirs.add(dirname(file?.path ?? ""));
    expect(Buffer.from(file?.base64 ?? "", "base64").toString()).toBe("10.0.0.1,10.0.0.2");
    // 27 single values (25 + the JSON one + the list) in calls of at most 10; one read by path for both fields
    const calls = fake.ssmCalls().slice(before);
    const gets = calls.filter((c) => c.headers["x-amz-target"] === "AmazonSSM.GetParameters");
    expect(gets.map((c) => requestedNames(c.body).length).sort((a, b) => a - b)).toEqual([7, 10, 10]);
    expect(calls.filter((c) => c.headers["x-amz-target"] === "AmazonSSM.GetParametersByPath")).toHaveLength(
      1,
    );
    expect(fake.signatures.slice(-calls.length).every((s) => s.valid && s.source === "sts")).toBe(true);
    expect(leaks([token.trim(), password, apiKey, ...values.values()], result)).toEqual([]);
  });

  it("not found (69) and denied (77) are each named, the exit is 77, the app never starts; optional and default tolerate only not found", async () => {
    const dir = scratch();
    const [denied, present] = [unique("denied"), unique("present")];
    fake.ssm.put(REGION, denied, canary("D"));
    fake.ssm.deny(REGION, denied);
    fake.ssm.put(REGION, present, "here");
    const [gone, optionalGone, flag] = [unique("gone"), unique("optional"), unique("flag")];
    writeFileSync(
      join(dir, "secretwrap.yaml"),
      [
        "version: 1",
        "secrets:",
        `  GONE: ${ref(gone)}`,
        `  DENIED: ${ref(denied)}`,
        `  PRESENT: ${ref(present)}`,
        `  MAYBE: { ref: "${ref(optionalGone)}", optional: true }`,
        `  FLAG: { ref: "${ref(flag)}", optional: true, default: "off" }`,
        "",
      ].join("\n"),
    );
    const { result, out } = await runProbe(dir, staticEnv());
    expect(result.code, result.stderr).toBe(77);
    expect(result.stderr).toContain(ref(gone));
    expect(result.stderr).toContain("SECRET_NOT_FOUND");
    expect(result.stderr).toContain(ref(denied));
    expect(result.stderr).toContain("ssm:GetParameters");
    expect(result.stderr).not.toContain(ref(optionalGone));
    expect(result.stderr).not.toContain("CANARY_ECHO");
    expect(readProbe(out)).toEqual([]);
    // without the failing ones, the optional one is absent and the default is used
    writeFileSync(
      join(dir, "secretwrap.yaml"),
      [
        "version: 1",
        "secrets:",
        `  PRESENT: ${ref(present)}`,
        `  MAYBE: { ref: "${ref(optionalGone)}", optional: true }`,
        `  FLAG: { ref: "${ref(flag)}", optional: true, default: "off" }`,
        "",
      ].join("\n"),
    );
    const ok = await runProbe(dir, staticEnv());
    expect(ok.result.code, ok.result.stderr).toBe(0);
    const seen = probeStart(readProbe(ok.out)).env ?? {};
    expect([seen["PRESENT"], seen["MAYBE"], seen["FLAG"]]).toEqual(["here", undefined, "off"]);
  });

  it("throttled, then ok: retried by secretwrap, the app starts; the config block's endpoint and region are used", async () => {
    const dir = scratch();
    const name = unique("throttled");
    const value = canary("T");
    fake.ssm.put("ap-south-1", name, value);
    fake.server.script(
      (r) => r.headers["x-amz-target"] === "AmazonSSM.GetParameters",
      [reply(400, { __type: "ThrottlingException", message: "Rate exceeded" })],
    );
    writeFileSync(
      join(dir, "secretwrap.yaml"),
      `version: 1\nproviders:\n  awsssm: { region: ap-south-1, endpoint: "${fake.url}" }\nsecrets:\n  T: ${ref(name)}\n`,
    );
    const keys = fake.issueStatic();
    const before = fake.ssmCalls(undefined, "ap-south-1").length;
    const { result, out } = await runProbe(dir, {
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(probeStart(readProbe(out)).env?.["T"]).toBe(value);
    expect(fake.ssmCalls(undefined, "ap-south-1").length - before).toBe(2);
  });

  it("get prints one parameter's value; check --json gives a parameter's version, the prefix form's count, never a value", async () => {
    const dir = scratch();
    const name = unique("get");
    const value = canary("G");
    fake.ssm.put(REGION, name, value, "SecureString");
    fake.ssm.put(REGION, `${name}/child`, "c");
    const env = { ...ISOLATION, ...staticEnv() };
    const got = await runCli(["get", ref(name)], { env, cwd: dir, timeoutMs: 60_000 });
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe(value);
    const check = await runCli(["check", "--json"], {
      env: { ...env, A: ref(name), B: ref(name, "#child") },
      cwd: dir,
      timeoutMs: 60_000,
    });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).not.toContain(value);
    const report = JSON.parse(check.stdout) as {
      secrets: { name: string; version?: string; audit?: object }[];
    };
    expect(report.secrets.map((s) => [s.name, s.version, s.audit])).toEqual([
      ["A", expect.stringMatching(/^1@\d{4}-\d\d-\d\dT/), undefined],
      ["B", undefined, { parameters: "1" }],
    ]);
    expect(leaks([value], check)).toEqual([]);
  });
});

describe("awsssm and awssecrets in one run: the shared AWS login", () => {
  it("static keys: both read, the keys consumed once and absent from the app; web identity: at most one STS login per provider, all of it masked", async () => {
    const dir = scratch();
    const name = unique("both");
    const [param, secret] = [canary("BOTH_SSM"), canary("BOTH_SM")];
    fake.ssm.put(REGION, name, param, "SecureString");
    const secretName = `both-${randomBytes(4).toString("hex")}`;
    fake.putSecret(REGION, secretName, secret);
    const targets = { P: ref(name), S: `ref+awssecrets://${secretName}` };
    const endpoints = { AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url, AWS_ENDPOINT_URL_STS: fake.url };
    const session = canary("SESSION");
    const keys: Record<string, string> = { ...staticEnv(), AWS_SESSION_TOKEN: session };
    const first = await runProbe(dir, { ...keys, ...endpoints, ...targets }, ["--log-level", "debug"]);
    expect(first.result.code, first.result.stderr).toBe(0);
    const seen = probeStart(readProbe(first.out)).env ?? {};
    expect([seen["P"], seen["S"]]).toEqual([param, secret]);
    for (const variable of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"])
      expect(seen[variable], variable).toBeUndefined();
    expect(seen["AWS_REGION"]).toBe(REGION);
    expect(leaks([param, secret, session, keys["AWS_SECRET_ACCESS_KEY"] ?? ""], first.result)).toEqual([]);

    const token = `eyJ${canary("JWT2")}\n`;
    writeFileSync(join(dir, "token"), token);
    fake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/both", token };
    const stsBefore = fake.stsCalls().length;
    const second = await runProbe(
      dir,
      {
        ...endpoints,
        ...targets,
        AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "token"),
        AWS_ROLE_ARN: fake.webIdentity.roleArn,
        AWS_REGION: REGION,
        AWS_ENDPOINT_URL_SSM: fake.url,
      },
      ["--log-level", "debug"],
    );
    expect(second.result.code, second.result.stderr).toBe(0);
    // One login per provider configuration (DESIGN §5): two here today; a login shared by the AWS
    // providers would make it one. Never one per fetch.
    expect(fake.stsCalls().length - stsBefore).toBeGreaterThanOrEqual(1);
    expect(fake.stsCalls().length - stsBefore).toBeLessThanOrEqual(2);
    const again = probeStart(readProbe(second.out)).env ?? {};
    expect([again["P"], again["S"]]).toEqual([param, secret]);
    expect(leaks([param, secret, token.trim()], second.result)).toEqual([]);
  });
});

describe("awsssm: values the app cannot take, at debug level in text and JSON", () => {
  it("a NUL (as is, or in the prefix form's JSON) or more than the kernel takes per variable fails closed: the app never starts, no value in any output", async () => {
    const dir = scratch();
    const [nul, base, big] = [unique("nul"), unique("tree"), unique("big")];
    const planted = [canary("NUL1"), canary("NUL2"), canary("BIG")];
    fake.ssm.put(REGION, nul, `${planted[0]}\0tail`, "SecureString");
    fake.ssm.put(REGION, `${base}/k`, `\0${planted[1]}`, "SecureString");
    fake.ssm.put(REGION, `${base}/other`, "fine");
    fake.ssm.put(REGION, big, `${planted[2]}${"x".repeat(130 * 1024)}`);
    for (const [target, refText] of [
      ["NUL", ref(nul)],
      ["TREE", ref(base, "#k")],
      ["BIG", ref(big)],
    ] as const) {
      for (const format of ["text", "json"]) {
        const { result, out } = await runProbe(dir, { ...staticEnv(), [target]: refText }, [
          "--log-level",
          "debug",
          "--log-format",
          format,
        ]);
        expect(result.code, `${target} ${format}: ${result.stderr}`).not.toBe(0);
        expect([69, 73, 78], `${target} ${format}`).toContain(result.code);
        expect(readProbe(out)).toEqual([]);
        expect(leaks(planted, result), `${target} ${format}`).toEqual([]);
      }
    }
  });
});

describe("awsssm under render --watch", () => {
  it("a new version (PutParameter over the wire) is noticed by checks that decrypt nothing, and read once; the prefix form is read again and compared", async () => {
    const dir = scratch();
    const shm = mkdtempSync("/dev/shm/secretwrap-test-ssm-watch-");
    shmDirs.add(shm);
    const out = join(shm, "out");
    const name = unique("watched");
    const base = unique("tree");
    const planted = [canary("W1"), canary("W2"), canary("T1"), canary("T2")];
    fake.ssm.put(REGION, name, planted[0] ?? "", "SecureString");
    fake.ssm.put(REGION, `${base}/a`, planted[2] ?? "", "SecureString");
    const cli = startWatched(
      dir,
      ["render", "--watch", "--out", out, "--refresh-interval", "1s"],
      { ...ISOLATION, ...staticEnv(), ONE: ref(name), TREE: ref(base, "#a") },
      null,
    );
    const file = (n: string): string | undefined =>
      existsSync(join(out, n)) ? readFileSync(join(out, n), "utf8") : undefined;
    await waitUntil(
      () => `the first set: ${cli.stderr()}`,
      () => file("ONE") === planted[0] && file("TREE") === planted[2],
    );
    const isDecryptedGet = (body: string): boolean =>
      (JSON.parse(body) as { WithDecryption?: boolean; Names?: string[] }).WithDecryption === true &&
      (JSON.parse(body) as { Names?: string[] }).Names?.includes(name) === true;
    // checks of ONE before any change: no value read again
    await waitUntil("two version checks", () =>
      fake.ssmCalls("GetParameters").filter((c) => c.body.includes('"WithDecryption":false')).length >= 2
        ? true
        : undefined,
    );
    const readsBefore = fake.ssmCalls("GetParameters").filter((c) => isDecryptedGet(c.body)).length;
    expect(readsBefore).toBe(1);
    expect(await fake.putParameter(REGION, name, planted[1] ?? "")).toBe(2);
    await waitUntil(
      () => `the new version: ${cli.stderr()}`,
      () => file("ONE") === planted[1],
    );
    expect(fake.ssmCalls("GetParameters").filter((c) => isDecryptedGet(c.body)).length).toBe(2);
    await fake.putParameter(REGION, `${base}/a`, planted[3] ?? "");
    await waitUntil(
      () => `the prefix's new value: ${cli.stderr()}`,
      () => file("TREE") === planted[3],
    );
    cli.kill("SIGTERM");
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(0);
    expect(leaks(planted, result)).toEqual([]);
  });
});
