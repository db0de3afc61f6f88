// run --watch and render --watch end to end (issue 15, acceptance 2, 3 and 6, and the options): the
// built CLI, real HTTP to the fake Vault (KV v2 writes) and the AWS fake (PutSecretValue through the
// real SDK), a file the test rewrites, and the watch probe as the app. Rotations are noticed by the
// version checks each --refresh-interval; the server's request log says which check saw a change, the
// probe says which signals it got and what it read. The Vault lease cases are in watch-vault.test.ts.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { runCli } from "../helpers/cli.ts";
import { NODES } from "../helpers/nodes.ts";
import { scratchDirs } from "../helpers/scratch.ts";
import { AwsFake } from "../servers/aws.ts";
import { AzureFake } from "../servers/azure.ts";
import { azureSetup } from "../servers/azure-client.ts";
import { AzureWriter } from "../servers/azure-writer.ts";
import { FakeGcp } from "../servers/gcp.ts";
import { GcpWriter } from "../servers/gcp-writer.ts";
import { createTestPki } from "../servers/tls.ts";
import { apiPath, FakeVault } from "../servers/vault.ts";
import type { RecordedRequest } from "../servers/harness.ts";
import { linesWith, sleep, stopLeftovers, startWatched, vaultApi, waitUntil } from "../fixtures/watch-run.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-watch-"));
const scratch = scratchDirs(work);
/** render --out must be tmpfs: a dir of this test's own under /dev/shm. */
const shm = mkdtempSync("/dev/shm/secretwrap-test-watch-");

let vault: FakeVault;
let aws: AwsFake;
let token: string;
const planted: string[] = [];
const REGION = "eu-west-1";
const INTERVAL = "1s";

/** "v<n> <canary>": the probe reports the tag, the canary stands for the secret. */
function value(tag: number, label: string): string {
  const v = `v${tag} ${canary(label)}`;
  planted.push(v.slice(v.indexOf(" ") + 1));
  return v;
}

beforeAll(async () => {
  vault = await FakeVault.start();
  await vault.mountKv("secret", 2);
  token = await vault.createToken(["secret/*"], 3600);
  planted.push(token);
  aws = await AwsFake.start();
});

afterEach(stopLeftovers);

afterAll(async () => {
  await Promise.all([vault.close(), aws.close()]);
  rmSync(work, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
});

/** A KV v2 write over HTTP, as a user's `vault kv put` does. */
async function kvPut(path: string, data: Record<string, string>): Promise<number> {
  const { status } = await vaultApi(vault.url, vault.rootToken, "POST", `secret/data/${path}`, { data });
  expect(status).toBe(200);
  return Date.now();
}

const vaultEnv = (): Record<string, string> => ({ VAULT_ADDR: vault.url, VAULT_TOKEN: token });
function awsEnv(): Record<string, string> {
  const keys = aws.issueStatic();
  return {
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
  };
}

/** Vault requests to an API path received at or after `t`. */
const vaultCalls = (path: string, t: number): RecordedRequest[] =>
  vault.server.requests.filter((r) => apiPath(r) === path && r.time >= t);

type Match = (r: RecordedRequest) => boolean;

/**
 * What a server handled after the last request `isWrite` matches. A test server keeps its requests in
 * the order it handled them (each handler runs as its request is recorded), so "after" is exact
 * where timestamps of the same millisecond, or taken by the test around the write, are not.
 */
function handledAfter(requests: readonly RecordedRequest[], isWrite: Match): RecordedRequest[] {
  const i = requests.findLastIndex(isWrite);
  if (i === -1) throw new Error("the server never handled the write");
  return requests.slice(i + 1);
}

/**
 * "Noticed within one interval": the number of version checks between the write and the first read
 * of the value. 1: the first check after the write is the one that saw it.
 */
function checksBeforeRead(after: readonly RecordedRequest[], isCheck: Match, isRead: Match): number {
  const read = after.findIndex(isRead);
  return read === -1 ? -1 : after.slice(0, read).filter(isCheck).length;
}

/** Whether, after the write, the value was read and then one more check came (a change would have been delivered). */
function readThenChecked(
  after: readonly RecordedRequest[],
  isCheck: Match,
  isRead: Match,
  checks = 1,
): boolean {
  const read = after.findIndex(isRead);
  return read !== -1 && after.slice(read + 1).filter(isCheck).length >= checks;
}

const kv = {
  write:
    (path: string): Match =>
    (r) =>
      r.method === "POST" && apiPath(r) === `secret/data/${path}`,
  read:
    (path: string): Match =>
    (r) =>
      r.method === "GET" && apiPath(r) === `secret/data/${path}`,
  check:
    (path: string): Match =>
    (r) =>
      r.method === "GET" && apiPath(r) === `secret/metadata/${path}`,
};
const awsAction =
  (action: string): Match =>
  (r) =>
    r.headers["x-amz-target"] === `secretsmanager.${action}`;

const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

describe("acceptance 2: a rotation is noticed within one interval; one SIGHUP per real change; the set stays consistent", () => {
  it(
    "E3, E2, E1: KV v2 write, AWS PutSecretValue and a file rewrite each give exactly one SIGHUP; same bytes give none",
    { timeout: 120_000 },
    async () => {
      const dir = scratch();
      const local = join(dir, "local-secret");
      const name = `watch/pair-${Date.now()}`;
      let v = { cert: value(1, "CERT"), key: value(1, "KEY") };
      await kvPut("app/pair", v);
      aws.putSecret(REGION, name, value(1, "AWS"));
      writeFileSync(local, value(1, "LOCAL"));

      const run = startWatched(
        dir,
        ["run", "--watch", "--refresh-interval", INTERVAL],
        {
          ...vaultEnv(),
          ...awsEnv(),
          CERT_FILE: "ref+vault://secret/app/pair#cert",
          KEY_FILE: "ref+vault://secret/app/pair#key",
          CLOUD_FILE: `ref+awssecrets://${name}`,
          LOCAL_FILE: `ref+file://${local}`,
          PROBE_READ: "CERT_FILE,KEY_FILE,CLOUD_FILE,LOCAL_FILE",
        },
        ["--hammer"],
      );
      const [start] = await run.waitFor("ready").then(() => run.of("start"));
      const paths = start?.paths ?? {};
      expect(start?.files?.["CERT_FILE"]?.tag).toBe("v1");
      const hups = (): number => run.of("signal", "SIGHUP").length;
      const lastRead = () => run.of("read").at(-1)?.files ?? {};

      // 1. KV v2: a new version with new values.
      const awsGetsAtStart = aws.calls("GetSecretValue").length + aws.calls("BatchGetSecretValue").length;
      v = { cert: value(2, "CERT"), key: value(2, "KEY") };
      await kvPut("app/pair", v);
      await run.waitFor("read", 1);
      expect(hups()).toBe(1);
      expect(lastRead()["CERT_FILE"]?.tag).toBe("v2");
      expect(lastRead()["KEY_FILE"]?.tag).toBe("v2");
      const afterKv = handledAfter(vault.server.requests, kv.write("app/pair"));
      expect(checksBeforeRead(afterKv, kv.check("app/pair"), kv.read("app/pair"))).toBe(1);

      // 2. KV v2: a new version with the same bytes is no change for the app.
      await kvPut("app/pair", v);
      await waitUntil("the same-bytes version read, then one more check", () =>
        readThenChecked(
          handledAfter(vault.server.requests, kv.write("app/pair")),
          kv.check("app/pair"),
          kv.read("app/pair"),
        ),
      );
      expect(hups()).toBe(1);

      // 3. AWS: PutSecretValue through the real SDK. Until now no value was downloaded again.
      expect(aws.calls("GetSecretValue").length + aws.calls("BatchGetSecretValue").length).toBe(
        awsGetsAtStart,
      );
      expect(aws.calls("DescribeSecret").length).toBeGreaterThan(0);
      const newAws = value(2, "AWS");
      await aws.rotate(REGION, name, newAws);
      await run.waitFor("read", 2);
      expect(hups()).toBe(2);
      expect(lastRead()["CLOUD_FILE"]?.tag).toBe("v2");
      expect(lastRead()["CLOUD_FILE"]?.sha).toBe(sha(newAws));
      const afterPut = handledAfter(aws.server.requests, awsAction("PutSecretValue"));
      expect(checksBeforeRead(afterPut, awsAction("DescribeSecret"), awsAction("GetSecretValue"))).toBe(1);

      // 4. AWS: a new version id with the same value.
      await aws.rotate(REGION, name, newAws);
      await waitUntil("the same-value version read, then one more check", () =>
        readThenChecked(
          handledAfter(aws.server.requests, awsAction("PutSecretValue")),
          awsAction("DescribeSecret"),
          awsAction("GetSecretValue"),
        ),
      );
      expect(hups()).toBe(2);

      // 5. The file provider: a rewrite with new bytes.
      const newLocal = value(2, "LOCAL");
      writeFileSync(local, newLocal);
      await run.waitFor("read", 3);
      expect(hups()).toBe(3);
      expect(lastRead()["LOCAL_FILE"]?.sha).toBe(sha(newLocal));

      // 6. The same bytes written again: its version (a keyed hash of the content) is unchanged.
      writeFileSync(local, newLocal);
      const rewrote = Date.now();
      await waitUntil("three more checks", () => vaultCalls("secret/metadata/app/pair", rewrote).length >= 3);
      expect(hups()).toBe(3);

      // The stable paths never changed; every read after a SIGHUP saw cert and key of one version.
      for (const read of run.of("read")) {
        expect(read.files?.["CERT_FILE"]?.tag).toBe(read.files?.["KEY_FILE"]?.tag);
      }
      expect(readlinkSync(paths["CERT_FILE"] ?? "")).toBe("..data/CERT");
      // A reader hammering cert and key never saw a mix of two sets.
      run.kill("SIGUSR2");
      const [hammer] = await waitUntil("the hammer's counts", () => {
        const found = run.of("hammer").filter((r) => (r.rounds ?? 0) > 0);
        return found.length > 0 ? found.slice(-1) : undefined;
      });
      expect(hammer?.mixed).toBe(0);
      expect(hammer?.missing).toBe(0);
      expect(hammer?.torn).toBe(0);
      expect(hammer?.rounds ?? 0).toBeGreaterThan(100);

      run.kill("SIGTERM");
      const result = await run.result;
      expect(result.code).toBe(0);
      expect(run.of("start")).toHaveLength(1);
      expect(linesWith(result.stderr, "sending SIGHUP")).toHaveLength(3);
      expect(linesWith(result.stderr, "rotated ")).toHaveLength(4); // cert, key; aws; local
      expect(existsSync(dirname(paths["CERT_FILE"] ?? "/nonexistent/x"))).toBe(false);
      const leaks = scanForCanaries(planted, {
        texts: { stderr: result.stderr, stdout: result.stdout },
        paths: [dir],
        allowed: [local],
      });
      expect(leaks).toEqual([]);
    },
  );
});

describe("acceptance 2 on Google and Azure: their write APIs, their version checks", () => {
  it("E3: a GCP AddSecretVersion and an Azure Set Secret each give exactly one SIGHUP; a new version with the same value none", async () => {
    const dir = scratch();
    const pki = createTestPki();
    const gcp = await FakeGcp.start();
    const azure = await AzureFake.start({ pki });
    const gcpWriter = new GcpWriter(gcp);
    const azureWriter = new AzureWriter(azure, pki);
    try {
      const gcpId = `watch-${Date.now()}`;
      gcp.addSecret("my-proj", gcpId, [value(1, "GCP")]);
      azure.putSecret("rotating", value(1, "AZ"));
      const key = join(dir, "key.json");
      writeFileSync(key, JSON.stringify(gcp.serviceAccountKey()));
      const az = azureSetup(azure, pki, "clientSecret", dir);
      const config = join(dir, "secretwrap.json");
      writeFileSync(
        config,
        JSON.stringify({
          version: 1,
          providers: { gcpsecrets: { endpoint: gcp.api.url }, azurekeyvault: az.options },
        }),
      );
      const run = startWatched(dir, ["run", "--config", config, "--watch", "--refresh-interval", INTERVAL], {
        ...az.env,
        HOME: join(dir, "home"),
        GOOGLE_APPLICATION_CREDENTIALS: key,
        METADATA_SERVER_DETECTION: "none",
        GSECRET_FILE: `ref+gcpsecrets://my-proj/${gcpId}`,
        KSECRET_FILE: "ref+azurekeyvault://kv-test/rotating",
        PROBE_READ: "GSECRET_FILE,KSECRET_FILE",
      });
      await run.waitFor("ready");
      const hups = (): number => run.of("signal", "SIGHUP").length;
      const gcpReads = (t: number): number =>
        gcp.api.requests.filter((r) => r.time >= t && r.path.includes(":access")).length;
      const gcpChecks = (t: number): number =>
        gcp.api.requests.filter((r) => r.time >= t && r.method === "GET" && !r.path.includes(":access"))
          .length;

      // Google: a new version with a new value, through the real client's AddSecretVersion.
      const g2 = value(2, "GCP");
      await gcpWriter.addVersion("my-proj", gcpId, g2);
      await run.waitFor("read", 1);
      expect(hups()).toBe(1);
      expect(run.of("read").at(-1)?.files?.["GSECRET_FILE"]?.sha).toBe(sha(g2));
      // The same value as a new version: read once (its version changed), no signal.
      const sameG = Date.now();
      await gcpWriter.addVersion("my-proj", gcpId, g2);
      await waitUntil(
        "the same-value version read, then two more checks",
        () => gcpReads(sameG) >= 1 && gcpChecks(sameG) >= 3,
      );
      expect(hups()).toBe(1);
      // An unchanged version costs no download: nothing read since then.
      const quiet = Date.now();
      await waitUntil("two more checks", () => gcpChecks(quiet) >= 2);
      expect(gcpReads(quiet)).toBe(0);

      // Azure: Set Secret through the real client (a new current version); Key Vault has no cheap
      // check, so each interval reads the value and only new bytes are a change.
      const k2 = value(2, "AZ");
      await azureWriter.setSecret("rotating", k2);
      await run.waitFor("read", 2);
      expect(hups()).toBe(2);
      expect(run.of("read").at(-1)?.files?.["KSECRET_FILE"]?.sha).toBe(sha(k2));
      const sameK = Date.now();
      await azureWriter.setSecret("rotating", k2);
      await waitUntil(
        "three more Azure reads",
        () => azure.vault.requests.filter((r) => r.time >= sameK && r.method === "GET").length >= 3,
      );
      expect(hups()).toBe(2);

      run.kill("SIGTERM");
      const result = await run.result;
      expect(result.code).toBe(0);
      expect(linesWith(result.stderr, "sending SIGHUP")).toHaveLength(2);
      expect(
        scanForCanaries([...planted, azure.identity.clientSecret], {
          texts: { stderr: result.stderr, stdout: result.stdout },
          paths: [dir],
        }),
      ).toEqual([]);
    } finally {
      await gcpWriter.close();
      await Promise.all([gcp.close(), azure.close()]);
      rmSync(pki.dir, { recursive: true, force: true });
    }
  });
});

describe("acceptance 3: an env target change restarts the app once", () => {
  it.each(NODES)(
    "E4, C22 under $name: the new app has the new value, the old one was gone before it started, the exit code is the app's",
    async (node) => {
      const dir = scratch();
      const secret = `app/env-${node.name}`;
      await kvPut(secret, { password: value(1, "ENV") });
      const run = startWatched(
        dir,
        ["run", "--watch", "--refresh-interval", INTERVAL],
        {
          ...vaultEnv(),
          DB_PASSWORD: `ref+vault://secret/${secret}#password`,
          PROBE_ENV: "DB_PASSWORD",
        },
        ["--exit-on-usr1", "5", "--term-exit", "0", "--term-delay", "700"],
        { node },
      );
      const [first] = await run.waitFor("start");
      await run.waitFor("ready");
      expect(first?.env?.["DB_PASSWORD"]?.tag).toBe("v1");
      const next = value(2, "ENV");
      await kvPut(secret, { password: next });
      const starts = await run.waitFor("start", 2);
      const second = starts[1];
      expect(second?.env?.["DB_PASSWORD"]?.sha).toBe(sha(next));
      expect(second?.previous).toEqual({ pid: first?.pid, alive: false });
      // The old app was asked to stop (once), not signalled otherwise.
      expect(run.records().filter((r) => r.pid === first?.pid && r.probe === "signal")).toEqual([
        expect.objectContaining({ signal: "SIGTERM" }),
      ]);
      // No second restart for the same change: two more checks pass without one.
      const restartedAt = second?.t ?? Date.now();
      await waitUntil(
        "two more checks",
        () => vaultCalls(`secret/metadata/${secret}`, restartedAt).length >= 2,
      );
      expect(run.of("start")).toHaveLength(2);
      expect(handledAfter(vault.server.requests, kv.write(secret)).filter(kv.read(secret))).toHaveLength(1);
      await run.waitFor("ready", 2);
      // The new app ends by itself with 5: secretwrap's code is the app's.
      process.kill(second?.pid ?? 0, "SIGUSR1");
      const result = await run.result;
      expect(result.code).toBe(5);
      expect(linesWith(result.stderr, "restarting the command")).toHaveLength(1);
      expect(
        scanForCanaries(planted, { texts: { stderr: result.stderr, stdout: result.stdout }, paths: [dir] }),
      ).toEqual([]);
    },
  );

  it("--on-change exit: the app is stopped and secretwrap exits 75", async () => {
    const dir = scratch();
    await kvPut("app/exit", { password: value(1, "EXIT") });
    const run = startWatched(
      dir,
      ["run", "--watch", "--refresh-interval", INTERVAL, "--on-change", "exit"],
      {
        ...vaultEnv(),
        DB_PASSWORD_FILE: "ref+vault://secret/app/exit#password",
        PROBE_READ: "DB_PASSWORD_FILE",
      },
      ["--term-exit", "0"],
    );
    const [start] = await run.waitFor("start");
    await run.waitFor("ready");
    await kvPut("app/exit", { password: value(2, "EXIT") });
    const result = await run.result;
    expect(result.code).toBe(75);
    expect(run.of("signal")).toEqual([expect.objectContaining({ signal: "SIGTERM" })]);
    expect(run.of("start")).toHaveLength(1);
    expect(existsSync(dirname(start?.paths?.["DB_PASSWORD_FILE"] ?? "/nonexistent/x"))).toBe(false);
  });
});

describe("--on-change policies for a file change", () => {
  async function oneChange(policy: string, probeArgs: string[] = []) {
    const dir = scratch();
    const source = join(dir, "source");
    writeFileSync(source, value(1, "POL"));
    const run = startWatched(
      dir,
      ["run", "--watch", "--refresh-interval", "500ms", "--on-change", policy],
      { POL_FILE: `ref+file://${source}`, PROBE_READ: "POL_FILE" },
      ["--term-exit", "0", ...probeArgs],
    );
    const [start] = await run.waitFor("ready").then(() => run.of("start"));
    const path = start?.paths?.["POL_FILE"] ?? "";
    const next = value(2, "POL");
    writeFileSync(source, next);
    // The swap itself is the same under every policy.
    await waitUntil(
      () => `the swap (${policy}): ${run.stderr()}`,
      () => readFileSync(path, "utf8") === next,
    );
    return { run, next };
  }

  it("signal:USR1: the app gets SIGUSR1 (no SIGHUP), once", async () => {
    const { run } = await oneChange("signal:USR1");
    await run.waitFor("signal", 1, 20_000, "SIGUSR1");
    await sleep(1_500);
    run.kill("SIGTERM");
    expect((await run.result).code).toBe(0);
    expect(run.of("signal").map((r) => r.signal)).toEqual(["SIGUSR1", "SIGTERM"]);
  });

  it("restart: a file change restarts the app (once) instead of a SIGHUP", async () => {
    const { run, next } = await oneChange("restart");
    const starts = await run.waitFor("start", 2);
    expect(starts[1]?.files?.["POL_FILE"]?.sha).toBe(sha(next));
    expect(starts[1]?.previous?.alive).toBe(false);
    await run.waitFor("ready", 2);
    await sleep(1_500);
    run.kill("SIGTERM");
    expect((await run.result).code).toBe(0);
    expect(run.of("start")).toHaveLength(2);
    expect(run.of("signal", "SIGHUP")).toEqual([]);
  });

  it("none: the files are swapped and the app is told nothing", async () => {
    const { run } = await oneChange("none");
    await sleep(1_500);
    run.kill("SIGTERM");
    const result = await run.result;
    expect(result.code).toBe(0);
    expect(run.of("signal").map((r) => r.signal)).toEqual(["SIGTERM"]);
    expect(linesWith(result.stderr, "rotated POL_FILE")).toHaveLength(1);
  });
});

describe("a restart the kernel would refuse", () => {
  it("a rotation whose environment is over the exec limits keeps the running app and the whole old set, and tries again; a later usable rotation restarts it", async () => {
    const dir = scratch();
    // 60 values of 120,000 bytes: 7.2 MB of environment, over the kernel's limit for any stack size
    // (a quarter of the stack, at most 6 MB), while each value alone is under secretwrap's 128 KiB.
    const names = Array.from({ length: 60 }, (_, i) => `BIG${i}`);
    const sources = names.map((name) => join(dir, name));
    const write = (tag: number, size: number): string[] =>
      sources.map((source) => {
        const v = value(tag, "BIG");
        writeFileSync(source, v.padEnd(size, "x"));
        return v;
      });
    write(1, 0);
    const env = Object.fromEntries(names.map((name, i) => [name, `ref+file://${sources[i]}`]));
    const run = startWatched(
      dir,
      ["run", "--watch", "--refresh-interval", "500ms"],
      { ...env, PROBE_ENV: "BIG0" },
      ["--term-exit", "0"],
    );
    const [first] = await run.waitFor("start");
    await run.waitFor("ready");
    write(2, 120_000);
    await waitUntil(
      () => `the refused delivery: ${run.stderr()}`,
      () => /could not deliver the new secrets: .*the app keeps what it has/.test(run.stderr()),
      30_000,
    );
    // Still the first app, never stopped: no second start, no stop signal.
    expect(run.of("start")).toHaveLength(1);
    expect(run.of("signal")).toEqual([]);
    write(3, 0);
    const starts = await run.waitFor("start", 2, 30_000);
    expect(starts[1]?.env?.["BIG0"]?.tag).toBe("v3");
    expect(starts[1]?.previous).toEqual({ pid: first?.pid, alive: false });
    await run.waitFor("ready", 2);
    run.kill("SIGTERM");
    const result = await run.result;
    expect(result.code, result.stderr).toBe(0);
    expect(scanForCanaries(planted, { texts: { stderr: result.stderr, stdout: result.stdout } })).toEqual([]);
  });
});

describe("render --watch --out DIR (the sidecar)", () => {
  it("--on-change exec:CMD runs CMD once per real change; DIR keeps its paths; TERM ends it with 0", async () => {
    const dir = scratch();
    const out = join(mkdtempSync(join(shm, "render-")), "out");
    const count = join(dir, "exec-count");
    await kvPut("render/pair", { cert: value(1, "RCERT"), key: value(1, "RKEY") });
    // CMD writes what it saw (the version tags through DIR's stable paths), never a value.
    const cmd = `exec:printf '%s %s\\n' "$(cut -d' ' -f1 ${out}/CERT)" "$(cut -d' ' -f1 ${out}/KEY)" >> ${count}`;
    const cli = startWatched(
      dir,
      ["render", "--watch", "--out", out, "--refresh-interval", INTERVAL, "--on-change", cmd],
      {
        ...vaultEnv(),
        CERT: "ref+vault://secret/render/pair#cert",
        KEY: "ref+vault://secret/render/pair#key",
      },
      null,
    );
    await waitUntil(
      () => `the first set: ${cli.stderr()}`,
      () => existsSync(join(out, "CERT")) && existsSync(join(out, "KEY")),
    );
    const links = { cert: readlinkSync(join(out, "CERT")), key: readlinkSync(join(out, "KEY")) };
    const lines = (): string[] =>
      existsSync(count) ? readFileSync(count, "utf8").split("\n").filter(Boolean) : [];

    await kvPut("render/pair", { cert: value(2, "RCERT"), key: value(2, "RKEY") });
    await waitUntil("CMD after the first change", () => lines().length >= 1);
    const v2 = { cert: value(3, "RCERT"), key: value(3, "RKEY") };
    await kvPut("render/pair", v2);
    await waitUntil("CMD after the second change", () => lines().length >= 2);
    // The same bytes again: no run of CMD, even after two more checks.
    await kvPut("render/pair", v2);
    await waitUntil("the same-bytes version read, then two more checks", () =>
      readThenChecked(
        handledAfter(vault.server.requests, kv.write("render/pair")),
        kv.check("render/pair"),
        kv.read("render/pair"),
        2,
      ),
    );
    expect(lines()).toEqual(["v2 v2", "v3 v3"]);
    expect({ cert: readlinkSync(join(out, "CERT")), key: readlinkSync(join(out, "KEY")) }).toEqual(links);
    expect(readFileSync(join(out, "CERT"), "utf8")).toBe(v2.cert);

    cli.kill("SIGTERM");
    const result = await cli.result;
    expect(result.code).toBe(0);
    // render's files outlive it, by design.
    expect(readFileSync(join(out, "KEY"), "utf8")).toBe(v2.key);
    expect(
      scanForCanaries(planted, { texts: { stderr: result.stderr, stdout: result.stdout }, paths: [dir] }),
    ).toEqual([]);
    rmSync(dirname(out), { recursive: true, force: true });
  });

  it("render --watch: HUP checks every secret at once (whatever the interval); QUIT ends it with 0", async () => {
    const dir = scratch();
    const started = await kvPut("render/hup", { value: value(1, "RHUP") });
    const out = join(mkdtempSync(join(shm, "render-")), "out");
    const cli = startWatched(
      dir,
      ["render", "--watch", "--out", out, "--refresh-interval", "1h"],
      { ...vaultEnv(), HUPPED: "ref+vault://secret/render/hup#value" },
      null,
    );
    await waitUntil(
      () => `the file: ${cli.stderr()}`,
      () => existsSync(join(out, "HUPPED")),
    );
    // The watch has started (it looks its static token up): from here HUP is its own.
    await waitUntil("the token lookup", () => vaultCalls("auth/token/lookup-self", started).length > 0);
    const next = value(2, "RHUP");
    await kvPut("render/hup", { value: next });
    cli.kill("SIGHUP");
    await waitUntil("the new value after HUP", () => readFileSync(join(out, "HUPPED"), "utf8") === next);
    // One check, one read: HUP asked for exactly one round.
    expect(
      handledAfter(vault.server.requests, kv.write("render/hup")).filter(kv.check("render/hup")),
    ).toHaveLength(1);
    cli.kill("SIGQUIT");
    const result = await cli.result;
    expect(result.code).toBe(0);
    expect(result.signal).toBeNull();
    rmSync(dirname(out), { recursive: true, force: true });
  });

  it("render --watch: INT ends it with 0; --on-change exit ends it with 75 after the swap", async () => {
    const dir = scratch();
    await kvPut("render/one", { value: value(1, "RONE") });
    const env = { ...vaultEnv(), ONE: "ref+vault://secret/render/one#value" };
    const outA = join(mkdtempSync(join(shm, "render-")), "out");
    const a = startWatched(
      dir,
      ["render", "--watch", "--out", outA, "--refresh-interval", INTERVAL],
      env,
      null,
    );
    await waitUntil("the file", () => existsSync(join(outA, "ONE")));
    a.kill("SIGINT");
    expect((await a.result).code).toBe(0);

    const outB = join(mkdtempSync(join(shm, "render-")), "out");
    const b = startWatched(
      dir,
      ["render", "--watch", "--out", outB, "--refresh-interval", INTERVAL, "--on-change", "exit"],
      env,
      null,
    );
    await waitUntil("the file", () => existsSync(join(outB, "ONE")));
    const next = value(2, "RONE");
    await kvPut("render/one", { value: next });
    const result = await b.result;
    expect(result.code).toBe(75);
    expect(readFileSync(join(outB, "ONE"), "utf8")).toBe(next);
    for (const out of [outA, outB]) rmSync(dirname(out), { recursive: true, force: true });
  });
});

describe("a watch option without --watch is a usage error (64)", () => {
  const cases: [string, string[], Record<string, string>][] = [
    ["run --refresh-interval", ["run", "--refresh-interval", "1s", "--", "true"], {}],
    ["run --on-change", ["run", "--on-change", "exit", "--", "true"], {}],
    ["run --on-expiry", ["run", "--on-expiry", "warn", "--", "true"], {}],
    ["run --revoke-on-exit", ["run", "--revoke-on-exit", "false", "--", "true"], {}],
    ["run with SECRETWRAP_ON_CHANGE", ["run", "--", "true"], { SECRETWRAP_ON_CHANGE: "restart" }],
    ["render --on-change", ["render", "--out", "/dev/shm/nonexistent-sw", "--on-change", "exec:true"], {}],
  ];
  it.each(cases)("%s → 64, nothing run", async (_label, args, env) => {
    const result = await runCli(args, { env: { ...env, SECRET: "ref+file:///nonexistent/never-read" } });
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/applies only with --watch/);
    expect(result.stdout).toBe("");
  });
});
