// The single executable (npm run build:sea), end to end: run/check/get on the file provider, exit
// codes, the Node start-up variables (NODE_OPTIONS & co.) kept out of secretwrap and handed to the app,
// every provider loading inside the executable exactly as in the bundle, and its start-up time.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { CLI, PROBE, probeStart, readProbe, type CliResult } from "../helpers/cli.ts";
import { NODE24 } from "../helpers/nodes.ts";
import { SEA, ensureSea } from "../container/images.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-sea-"));
const shmDirs = new Set<string>();
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  for (const dir of shmDirs) rmSync(dir, { recursive: true, force: true });
});

// Node 24 first on PATH for the probe app only: the executable itself needs no Node.
const PATH = `${dirname(NODE24.bin)}:/usr/local/bin:/usr/bin:/bin`;

function exec(
  file: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 30_000,
): Promise<CliResult> {
  const started = Date.now();
  const child = spawn(file, args, {
    cwd: work,
    env: { PATH, HOME: "/root", LANG: "C.UTF-8", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${file} ${args.join(" ")} did not finish within ${timeoutMs}ms\n${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, pid: child.pid ?? -1, durationMs: Date.now() - started });
    });
  });
}

const sea = (args: readonly string[], env?: Readonly<Record<string, string>>, timeoutMs?: number) =>
  exec(SEA, args, env, timeoutMs);

const TOKEN = canary("TOKEN");
const DB_PASSWORD = canary("DBPW");
const BINARY = Buffer.from([0, 1, 255, 10, 13, 0x80]);

beforeAll(() => {
  ensureSea();
  writeFileSync(join(work, "token"), TOKEN);
  writeFileSync(join(work, "db.json"), JSON.stringify({ user: "app", password: DB_PASSWORD }));
  writeFileSync(join(work, "blob.bin"), BINARY);
}, 300_000);

describe("the single executable (Node SEA)", () => {
  it("run: env and _FILE outputs, same process as the app, the app's exit code", async () => {
    const out = join(work, "run.jsonl");
    const result = await sea(["run", "--", "node", PROBE, "--exit", "5"], {
      // Exec with file outputs is the in-container behaviour (R11); on a workstation without the
      // runtime's marks, secretwrap would supervise to remove the dir.
      container: "secretwrap-test",
      PROBE_OUT: out,
      TOKEN: "ref+file://./token",
      DB_USER: "ref+file://./db.json#user",
      DB_PASSWORD_FILE: "ref+file://./db.json#password",
      BLOB_FILE: `ref+file://${work}/blob.bin`,
    });
    expect(result.code, result.stderr).toBe(5);
    const start = probeStart(readProbe(out));
    // execve: the app has the executable's PID.
    expect(start.pid).toBe(result.pid);
    expect(start.env?.["TOKEN"]).toBe(TOKEN);
    expect(start.env?.["DB_USER"]).toBe("app");
    const db = start.files?.["DB_PASSWORD_FILE"];
    const blob = start.files?.["BLOB_FILE"];
    for (const file of [db, blob]) {
      expect(file?.mode).toBe("400");
      expect(file?.dirMode).toBe("700");
      expect(file?.path.startsWith("/dev/shm/secretwrap-")).toBe(true);
      shmDirs.add(dirname(file?.path ?? "/nonexistent"));
    }
    expect(Buffer.from(db?.base64 ?? "", "base64").toString("utf8")).toBe(DB_PASSWORD);
    expect(Buffer.from(blob?.base64 ?? "", "base64").equals(BINARY)).toBe(true);
    expect(Object.keys(start.env ?? {}).filter((k) => k.startsWith("SECRETWRAP_"))).toEqual([]);
    expect(
      scanForCanaries([TOKEN, DB_PASSWORD], { texts: { stdout: result.stdout, stderr: result.stderr } }),
    ).toEqual([]);
  });

  it("run: the app dies from a signal as itself", async () => {
    const result = await sea(["run", "--", "node", PROBE, "--kill", "SIGTERM"]);
    expect(result.signal).toBe("SIGTERM");
  });

  it("check and get on the file provider; get prints the value byte for byte", async () => {
    const check = await sea(["check", "--json"], {
      TOKEN: "ref+file://./token",
      DB: "ref+file://./db.json#password",
    });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('"TOKEN"');
    expect(
      scanForCanaries([TOKEN, DB_PASSWORD], { texts: { stdout: check.stdout, stderr: check.stderr } }),
    ).toEqual([]);
    const get = await sea(["get", "ref+file://./db.json#password"]);
    expect(get.code).toBe(0);
    expect(get.stdout).toBe(DB_PASSWORD);
    const missing = await sea(["check"], { TOKEN: "ref+file://./token", GONE: "ref+file://./gone" });
    expect(missing.code).toBe(69);
    expect(missing.stderr).toMatch(/GONE SECRET_NOT_FOUND/);
  });

  it.each([
    ["64: no command after --", ["run", "--"], {}, 64],
    ["78: invalid reference", ["run", "--", "true"], { X: "ref+nosuch://x" }, 78],
    [
      "69: missing secret, command not started",
      ["run", "--", "touch", "never"],
      { X: "ref+file://./absent" },
      69,
    ],
    ["127: command not found", ["run", "--", "no-such-command-secretwrap"], {}, 127],
  ] as const)("exit code %s", async (_label, args, env, code) => {
    const result = await sea(args, env);
    expect(result.code, result.stderr).toBe(code);
  });

  it("ignores NODE_OPTIONS itself (a preload never runs in secretwrap) and hands it to the app", async () => {
    const preload = join(work, "preload.cjs");
    const marker = join(work, "preload-ran");
    writeFileSync(
      preload,
      `require("node:fs").appendFileSync(${JSON.stringify(marker)}, process.pid + "\\n");`,
    );
    const out = join(work, "node-options.jsonl");
    const result = await sea(["run", "--supervise", "--", "node", PROBE, "--exit", "0"], {
      PROBE_OUT: out,
      NODE_OPTIONS: `--require ${preload}`,
    });
    expect(result.code, result.stderr).toBe(0);
    const start = probeStart(readProbe(out));
    expect(start.env?.["NODE_OPTIONS"]).toBe(`--require ${preload}`);
    // Exactly once, in the app; with --supervise secretwrap is a separate, earlier process.
    expect(readFileSync(marker, "utf8").trim().split("\n")).toEqual([String(start.pid)]);
    // …which handed over to the slim supervisor: the same executable, with no script argument.
    expect(start.parentArgv?.slice(1, 2)).toEqual(["--secretwrap-supervisor"]);
  });

  it("keeps NODE_EXTRA_CA_CERTS and NODE_USE_ENV_PROXY out of itself and hands them to the app", async () => {
    const out = join(work, "startup-vars.jsonl");
    const env = {
      PROBE_OUT: out,
      NODE_EXTRA_CA_CERTS: "/nonexistent/extra-ca.pem",
      NODE_USE_ENV_PROXY: "1",
      // A TLS connection attempt makes Node load the extra CAs (and warn that it cannot).
      VAULT_ADDR: "https://127.0.0.1:9",
      VAULT_TOKEN: canary("VAULTTOKEN"),
      SECRETWRAP_TIMEOUT: "1s",
      A: "ref+vault://secret/a#b",
    };
    const failed = await sea(["run", "--", "node", PROBE, "--exit", "0"], env);
    expect(failed.code).toBe(69);
    expect(failed.stderr).not.toContain("extra certs");
    // Positive control: a Node that keeps the variable does warn at its first TLS connection (dist/bin.js
    // would start Node again without it, as the executable does).
    const tlsAttempt = 'require("node:tls").connect(9, "127.0.0.1").on("error", () => {})';
    const direct = await exec(NODE24.bin, ["-e", tlsAttempt], env);
    expect(direct.stderr).toContain("Ignoring extra certs from `/nonexistent/extra-ca.pem`");
    const { VAULT_ADDR: _a, VAULT_TOKEN: _t, A: _r, ...plain } = env;
    const ok = await sea(["run", "--", "node", PROBE, "--exit", "0"], plain);
    expect(ok.code, ok.stderr).toBe(0);
    const start = probeStart(readProbe(out));
    expect(start.env?.["NODE_EXTRA_CA_CERTS"]).toBe("/nonexistent/extra-ca.pem");
    expect(start.env?.["NODE_USE_ENV_PROXY"]).toBe("1");
    expect(Object.keys(start.env ?? {}).filter((k) => k.startsWith("SECRETWRAP_"))).toEqual([]);
  });

  // Every provider is bundled into the executable; each must load and fail exactly as in the bundle
  // (a missing module, import.meta or import() in the executable would be exit 70 or a different error).
  it.each([
    ["vault", { VAULT_ADDR: "http://127.0.0.1:9", VAULT_TOKEN: "hvs.x", A: "ref+vault://secret/a#b" }],
    [
      "awssecrets",
      {
        AWS_ENDPOINT_URL: "http://127.0.0.1:9",
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY: "x",
        A: "ref+awssecrets://a",
      },
    ],
    [
      "awssecrets imds",
      {
        AWS_REGION: "us-east-1",
        AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9",
        A: "ref+awssecrets://a",
      },
    ],
    [
      "awsssm",
      {
        AWS_ENDPOINT_URL: "http://127.0.0.1:9",
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY: "x",
        A: "ref+awsssm://a/b",
      },
    ],
    ["gcpsecrets", { GCE_METADATA_HOST: "127.0.0.1:9", A: "ref+gcpsecrets://my-proj/s" }],
    [
      "azurekeyvault",
      {
        AZURE_TENANT_ID: "t",
        AZURE_CLIENT_ID: "c",
        AZURE_CLIENT_SECRET: "s",
        AZURE_AUTHORITY_HOST: "http://127.0.0.1:9",
        A: "ref+azurekeyvault://kvone/s",
      },
    ],
  ] as const)("provider %s loads and fails as in the bundle", async (_name, vars) => {
    const env = { ...vars, HOME: work, SECRETWRAP_TIMEOUT: "2s" };
    const [fromSea, fromBundle] = await Promise.all([sea(["check"], env), exec(CLI, ["check"], env)]);
    const normal = (s: string) => s.replace(/durationMs=\d+/g, "");
    expect(fromSea.code).not.toBe(70);
    expect([69, 77]).toContain(fromSea.code);
    expect(fromSea.code).toBe(fromBundle.code);
    expect(normal(fromSea.stderr)).toBe(normal(fromBundle.stderr));
  });

  it("starts about as fast as the bundle (measured; generous bound)", async () => {
    const median = async (run: () => Promise<CliResult>): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < 9; i++) {
        const started = process.hrtime.bigint();
        const result = await run();
        expect(result.code).toBe(0);
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      return times.sort((a, b) => a - b)[4] ?? Number.NaN;
    };
    const env = { TOKEN: "ref+file://./token" };
    const seaMs = await median(() => sea(["run", "--", "true"], env));
    const bundleMs = await median(() => exec(CLI, ["run", "--", "true"], env));
    console.log(
      `start-up, run -- true with one file secret (median of 9): SEA ${seaMs.toFixed(0)} ms, bundle ${bundleMs.toFixed(0)} ms`,
    );
    expect(seaMs).toBeLessThan(bundleMs * 3 + 500);
  });
});
