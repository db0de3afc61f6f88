// Group D of reliability.md: no value or credential anywhere it does not belong — logs at every level
// and format, error paths, argv, the environ of both processes, and NODE_OPTIONS kept out of secretwrap.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/main.ts";
import { SignalRouter } from "../../src/signals.ts";
import { canary, scanForCanaries, shapedCanaries } from "../helpers/canary.ts";
import { PROBE, probeStart, readProbe, runCli, startCli, waitForProbe } from "../helpers/cli.ts";
import { NODE24, NODES } from "../helpers/nodes.ts";
import { listeningSockets } from "../helpers/procfs.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";
import { FakeVault } from "../servers/vault.ts";
import { scratchDirs } from "../helpers/scratch.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-rel-leaks-"));
// Secrets dirs of exec-mode runs whose app does not report them: nobody else removes them.
const shm = mkdtempSync("/dev/shm/secretwrap-rel-leaks-");
execFileSync("chmod", ["755", work]);
const scratch = scratchDirs(work, 0o755);

let vault: FakeVault;
let pki: TestPki;
const V = { db: canary("DB"), api: canary("API") };
beforeAll(async () => {
  pki = createTestPki();
  vault = await FakeVault.start({ tls: pki.valid });
  await vault.mountKv("secret", 2);
  await vault.putKv("secret", "app/db", { password: V.db, user: "app" });
  await vault.putKv("secret", "app/api", { key: V.api });
});
afterAll(async () => {
  await vault.close();
  rmSync(work, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
});

/** How the app's container would reach the fake Vault with a token in its environment. */
const vaultWithToken = (token: string) => ({
  VAULT_ADDR: vault.url,
  VAULT_CACERT: pki.caFile,
  VAULT_TOKEN: token,
});

/** An empty probe output file that an app under another uid may write to. */
function sharedProbeFile(dir: string, name: string): string {
  const out = join(dir, name);
  writeFileSync(out, "");
  chmodSync(out, 0o666);
  return out;
}

describe("D1, D2, D11: every log level and format, success and failure paths", () => {
  it.each(["text", "json"])(
    "D1, D11: %s logs at debug carry no value or token, over success and every failure kind",
    async (format) => {
      const dir = scratch();
      const token = await vault.createToken(["secret/data/app/*"]);
      const fileSecret = canary("FILE");
      writeFileSync(join(dir, "f"), JSON.stringify({ a: fileSecret }));
      const shapes = shapedCanaries();
      const env = {
        ...vaultWithToken(token),
        DB: "ref+vault://secret/app/db#password",
        API_FILE: "ref+vault://secret/app/api#key",
        F: `ref+file://${dir}/f#a`,
        AWS_LIKE: shapes.awsKey,
      };
      const debug = ["--log-level", "debug", "--log-format", format];
      const ok = await runCli(["run", ...debug, "--secrets-dir", join(shm, `${format}-ok`), "--", "true"], {
        node: NODE24,
        env,
      });
      expect(ok.code, ok.stderr).toBe(0);
      const failing = await runCli(["run", ...debug, "--", "true"], {
        node: NODE24,
        env: {
          ...env,
          MISSING: "ref+vault://secret/app/nope",
          FIELD: "ref+vault://secret/app/db#nope",
          DENIED: "ref+vault://secret/other/x",
          BAD: `ref+file://${dir}/f#missing`,
        },
      });
      expect(failing.code).toBe(77);
      for (const name of ["MISSING", "FIELD", "DENIED", "BAD"]) expect(failing.stderr).toContain(name);
      const hits = scanForCanaries([V.db, V.api, fileSecret, token], {
        texts: { ok: ok.stdout + ok.stderr, failing: failing.stdout + failing.stderr },
      });
      expect(hits).toEqual([]);
      if (format === "json")
        for (const line of failing.stderr.trim().split("\n"))
          expect(() => JSON.parse(line) as unknown).not.toThrow();
    },
  );

  it("D2, A1: a config file that does not parse is reported by position, without quoting the line that may hold a secret", async () => {
    const dir = scratch();
    const inline = canary("INLINE");
    writeFileSync(
      join(dir, "c.yaml"),
      `version: 1\nsecrets:\n  A: "ref+file://x\n  password: ${inline}: [\n`,
    );
    const before = vault.server.requests.length;
    const result = await runCli(
      ["run", "--log-level", "debug", "--config", join(dir, "c.yaml"), "--", "true"],
      {
        node: NODE24,
        env: { ...vaultWithToken("t"), X: "ref+vault://secret/app/db#password" },
      },
    );
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/c\.yaml:\d+:\d+: not valid YAML or JSON/);
    expect(result.stderr).not.toContain(inline);
    expect(vault.server.requests.length).toBe(before);
  });

  it("D2: an unexpected error (a bug) is reported without its message, which may carry a value", async () => {
    const secret = canary("BUG");
    const lines: string[] = [];
    const router = new SignalRouter();
    // A provider whose SDK throws an Error with a credential inside: simulated by a config whose
    // loader throws a foreign error (a readonly env object made to throw on access).
    const env = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new TypeError(`cannot enumerate: ${secret}`);
        },
      },
    );
    const code = await main({
      argv: ["check", "--log-level", "debug"],
      env,
      appOnlyEnv: {},
      router,
      writeOut: (t) => lines.push(String(t)),
      writeErr: (t) => lines.push(t),
      stdinIsTerminal: () => false,
      stdoutIsTerminal: () => false,
    });
    expect(code).toBe(70);
    expect(lines.join("")).toContain("unexpected TypeError");
    expect(lines.join("")).not.toContain(secret);
  });
});

describe.each(NODES)("D3-D6 under $name (supervise: secretwrap lives next to the app)", (node) => {
  const extra = node.hasExecve ? ["--supervise"] : [];

  it("D3, D5, D6: argv of both processes is clean; file secrets appear in no environ; bootstrap vars are gone", async () => {
    const dir = scratch();
    const token = await vault.createToken(["secret/data/app/*"]);
    const out = join(dir, "probe.jsonl");
    const running = startCli(["run", ...extra, "--", "node", PROBE, "--wait"], {
      node,
      env: {
        ...vaultWithToken(token),
        DB_FILE: "ref+vault://secret/app/db#password",
        API: "ref+vault://secret/app/api#key",
        PROBE_OUT: out,
      },
    });
    const records = await waitForProbe(out, (r) => r.some((x) => x.probe === "ready"));
    const app = probeStart(records);
    expect(app.env?.["VAULT_TOKEN"]).toBeUndefined();
    // argv (world-readable) of secretwrap and the app never holds a value; the file secret is in no environ.
    const argvHits = scanForCanaries([V.db, V.api, token], {
      pids: [],
      texts: {
        secretwrap: readFileSync(`/proc/${running.pid}/cmdline`, "latin1"),
        app: readFileSync(`/proc/${app.pid ?? 0}/cmdline`, "latin1"),
      },
    });
    expect(argvHits).toEqual([]);
    const environHits = scanForCanaries([V.db], { pids: [running.pid, app.pid ?? 0] });
    expect(environHits).toEqual([]);
    if (node.hasExecve) {
      // Handed over to the slim supervisor (same PID): the token it logged in with left its environ.
      expect(readFileSync(`/proc/${running.pid}/cmdline`, "latin1")).toContain("--secretwrap-supervisor");
      expect(scanForCanaries([token], { pids: [running.pid] })).toEqual([]);
    }
    running.child.kill("SIGTERM");
    await running.result;
  });

  it("D4: env-borne credentials leave secretwrap's environ at the hand-over, or are warned about (Node 20); an app under another uid cannot read it", async () => {
    const dir = scratch();
    const token = await vault.createToken(["secret/data/app/*"]);
    const env = { ...vaultWithToken(token), API: "ref+vault://secret/app/api#key" };
    const sameUser = await runCli(["run", ...extra, "--", "node", PROBE, "--exit", "0"], {
      node,
      env: { ...env, PROBE_OUT: sharedProbeFile(dir, "probe.jsonl") },
    });
    expect(sameUser.code).toBe(0);
    const warning = "credentials were read from the environment (VAULT_TOKEN)";
    if (node.hasExecve) expect(sameUser.stderr).not.toContain(warning);
    else expect(sameUser.stderr).toContain(warning);
    expect(sameUser.stderr).not.toContain(token);
    const out2 = sharedProbeFile(dir, "probe2.jsonl");
    const otherUser = await runCli(
      ["run", ...extra, "--user", "65534:65534", "--", "node", PROBE, "--exit", "0"],
      {
        node,
        env: { ...env, PROBE_OUT: out2 },
        cwd: "/",
      },
    );
    expect(otherUser.code, otherUser.stderr).toBe(0);
    expect(probeStart(readProbe(out2)).parentEnviron).toBe("EACCES");
  });
});

describe("C16: NODE_OPTIONS with --inspect never opens a debugger in secretwrap", () => {
  it.each(NODES)("C16: $name", async (node) => {
    const dir = scratch();
    const out = join(dir, "probe.jsonl");
    const running = startCli(["run", "--supervise", "--", "node", PROBE, "--wait"], {
      node,
      env: { PROBE_OUT: out, NODE_OPTIONS: "--inspect=127.0.0.1:0" },
    });
    const records = await waitForProbe(out, (r) => r.some((x) => x.probe === "ready"));
    expect(listeningSockets(running.pid)).toEqual([]);
    // The app did get it: its own inspector listens.
    expect(probeStart(records).env?.["NODE_OPTIONS"]).toBe("--inspect=127.0.0.1:0");
    expect(listeningSockets(probeStart(records).pid ?? 0).length).toBe(1);
    running.child.kill("SIGTERM");
    await running.result;
  });
});
