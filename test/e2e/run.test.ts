// secretwrap run, end to end: the built CLI under Node 24 (execve) and Node 20 (supervise), the file
// provider, and the probe app reporting what it really received.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { PROBE, pathFor, probeStart, readProbe, runCli, startCli, waitForProbe } from "../helpers/cli.ts";
import { NODES } from "../helpers/nodes.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-run-"));
const shmDirs = new Set<string>();
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  for (const dir of shmDirs) rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function scratch(): string {
  const dir = join(work, String(++counter));
  mkdirSync(dir);
  return dir;
}

const PEM = `-----BEGIN PRIVATE KEY-----\n${canary("PEM")}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n`;
const BINARY = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0, 0x80, 0x81, 7]);

describe.each(NODES)("run under $name", (node) => {
  it("C15, A12, D6: gives the app exactly the expected environment and files (acceptance 1, 4)", async () => {
    const dir = scratch();
    const token = canary("TOKEN");
    const multi = `line one ${canary("MULTI")}\r\nline two\n`;
    const dbPassword = canary("DBPW");
    writeFileSync(join(dir, "token"), token);
    writeFileSync(join(dir, "multi"), multi);
    writeFileSync(join(dir, "key.pem"), PEM);
    writeFileSync(join(dir, "blob.bin"), BINARY);
    writeFileSync(
      join(dir, "db.json"),
      JSON.stringify({ user: "app", password: dbPassword, nested: { port: 5432 } }),
    );
    const out = join(dir, "probe.jsonl");
    const input: Record<string, string> = {
      TOKEN: `ref+file://${dir}/token`,
      MULTI: "ref+file://./multi",
      TLS_KEY_FILE: "ref+file://./key.pem",
      BLOB_FILE: `ref+file://${dir}/blob.bin`,
      DB_USER: "ref+file://./db.json#user",
      DB_PASSWORD_FILE: "ref+file://./db.json#password",
      DB_PORT: "ref+file://./db.json#/nested/port",
      PLAIN: "hello world",
      EMPTY: "",
      SECRETWRAP_LOG_LEVEL: "debug",
      PROBE_OUT: out,
    };
    const result = await runCli(["run", "--", "node", PROBE, "--exit", "0"], { env: input, cwd: dir, node });
    expect(result.stderr).not.toContain("error");
    expect(result.code).toBe(0);
    const start = probeStart(readProbe(out));
    const files = start.files ?? {};
    for (const name of ["TLS_KEY_FILE", "BLOB_FILE", "DB_PASSWORD_FILE"]) {
      const file = files[name];
      expect(file?.mode, name).toBe("400");
      expect(file?.fsType, `${name} on tmpfs`).toBe(0x01021994);
      expect(file?.dirMode).toBe("700");
      expect(file?.path.startsWith("/dev/shm/secretwrap-")).toBe(true);
      shmDirs.add(dirname(file?.path ?? "/nonexistent"));
    }
    expect(Buffer.from(files["TLS_KEY_FILE"]?.base64 ?? "", "base64").toString("utf8")).toBe(PEM);
    expect(Buffer.from(files["BLOB_FILE"]?.base64 ?? "", "base64").equals(BINARY)).toBe(true);
    expect(Buffer.from(files["DB_PASSWORD_FILE"]?.base64 ?? "", "base64").toString("utf8")).toBe(dbPassword);
    const expected: Record<string, string> = {
      PATH: pathFor(node),
      HOME: "/root",
      LANG: "C.UTF-8",
      TOKEN: token,
      MULTI: multi,
      TLS_KEY_FILE: files["TLS_KEY_FILE"]?.path ?? "",
      BLOB_FILE: files["BLOB_FILE"]?.path ?? "",
      DB_USER: "app",
      DB_PASSWORD_FILE: files["DB_PASSWORD_FILE"]?.path ?? "",
      DB_PORT: "5432",
      PLAIN: "hello world",
      EMPTY: "",
      PROBE_OUT: out,
    };
    // Exactly: no shell stands between the caller and secretwrap to add PWD or drop a name (R1).
    expect(start.env).toEqual(expected);
    // Values appear nowhere but in the app's own environment and its target files.
    const hits = scanForCanaries(
      [token, dbPassword, ...PEM.split("\n").filter((l) => l.startsWith("CANARY"))],
      {
        texts: { stdout: result.stdout, stderr: result.stderr },
        paths: [dir, dirname(files["TLS_KEY_FILE"]?.path ?? "/nonexistent")],
        allowed: [
          join(dir, "token"),
          join(dir, "key.pem"),
          join(dir, "db.json"),
          out,
          ...Object.values(files).map((f) => f.path),
        ],
      },
    );
    expect(hits).toEqual([]);
    expect(result.stderr).toMatch(/^secretwrap: /m);
    for (const line of result.stderr.trim().split("\n")) expect(line.startsWith("secretwrap:")).toBe(true);
  });

  it(`C20, D15: keeps secretwrap's PID only where exec is real, so none of its memory remains (acceptance 2)`, async () => {
    const dir = scratch();
    const out = join(dir, "probe.jsonl");
    const running = startCli(["run", "--", "node", PROBE, "--exit", "0"], { env: { PROBE_OUT: out }, node });
    const result = await running.result;
    expect(result.code).toBe(0);
    const start = probeStart(readProbe(out));
    if (node.hasExecve) expect(start.pid).toBe(running.pid);
    else expect(start.ppid).toBe(running.pid);
  });

  it("D1: JSON logs are one object per line and carry no value (acceptance 4)", async () => {
    const dir = scratch();
    const value = canary("JSONLOG");
    writeFileSync(join(dir, "v"), value);
    const result = await runCli(["run", "--log-format", "json", "--log-level", "debug", "--", "true"], {
      env: { V: `ref+file://${dir}/v`, MISSING_ONE: `ref+file://${dir}/absent` },
      node,
    });
    expect(result.code).toBe(69);
    const lines = result.stderr.trim().split("\n");
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(scanForCanaries([value], { texts: { stdout: result.stdout, stderr: result.stderr } })).toEqual([]);
  });
});

// Node 20 has no process.execve, so it supervises by itself; Node 24 does so with --supervise.
const SUPERVISING = NODES.map((n) => ({
  ...n,
  extra: n.hasExecve ? ["--supervise"] : [],
  name: n.hasExecve ? `${n.name} --supervise` : n.name,
}));

describe.each(SUPERVISING)("supervising under $name", (node) => {
  const extra = node.extra;

  it("forwards TERM, INT, HUP, USR1, USR2 exactly once each (acceptance 2)", async () => {
    const dir = scratch();
    const out = join(dir, "probe.jsonl");
    const running = startCli(["run", ...extra, "--", "node", PROBE, "--wait", "--term-exit", "7"], {
      env: { PROBE_OUT: out },
      node,
    });
    await waitForProbe(out, (r) => r.some((x) => x.probe === "ready"));
    const sent = ["SIGINT", "SIGHUP", "SIGUSR1", "SIGUSR2"] as const;
    for (const signal of sent) {
      running.child.kill(signal);
      await waitForProbe(out, (r) => r.some((x) => x.signal === signal));
    }
    running.child.kill("SIGTERM");
    const result = await running.result;
    expect(result.code).toBe(7);
    const received = readProbe(out)
      .filter((r) => r.probe === "signal")
      .map((r) => r.signal);
    expect(received).toEqual([...sent, "SIGTERM"]);
    expect(result.stderr).not.toContain("Debugger listening");
  });

  it("C1, C22: exits with the app's code for every code 0-255 (acceptance 2)", async () => {
    const codes = Array.from({ length: 256 }, (_, i) => i);
    const mismatches: string[] = [];
    for (let i = 0; i < codes.length; i += 16) {
      const batch = codes.slice(i, i + 16);
      const results = await Promise.all(
        batch.map((code) =>
          runCli(["run", "--log-level", "error", ...extra, "--", "sh", "-c", `exit ${code}`], { node }),
        ),
      );
      results.forEach((r, j) => {
        if (r.code !== batch[j]) mismatches.push(`${batch[j]}→${r.code}`);
      });
    }
    expect(mismatches).toEqual([]);
  });

  it.each([
    ["SIGTERM", 143],
    ["SIGKILL", 137],
    ["SIGSEGV", 139],
    ["SIGABRT", 134],
    ["SIGHUP", 129],
    ["SIGINT", 130],
  ])("C2: exits 128+N when the app dies from %s (acceptance 2)", async (signal, code) => {
    const result = await runCli(
      ["run", "--log-level", "error", ...extra, "--", "node", PROBE, "--kill", signal],
      { node },
    );
    expect(result.code).toBe(code);
  });

  it("C5: SIGKILLs an app that ignores TERM after --stop-timeout", async () => {
    const dir = scratch();
    const out = join(dir, "probe.jsonl");
    const running = startCli(
      ["run", ...extra, "--stop-timeout", "500ms", "--", "node", PROBE, "--wait", "--ignore-term"],
      { env: { PROBE_OUT: out }, node },
    );
    await waitForProbe(out, (r) => r.some((x) => x.probe === "ready"));
    running.child.kill("SIGTERM");
    const result = await running.result;
    expect(result.code).toBe(137);
    expect(result.durationMs).toBeLessThan(10_000);
  });
});

describe.each(NODES)("exec path under $name", (node) => {
  it.each([
    ["a missing command", ["no-such-command-xyz"], 127],
    ["a directory", ["/tmp"], 126],
    ["a file without execute permission", ["NOEXEC"], 126],
    ["a script whose interpreter is missing", ["BADSHEBANG"], 127],
  ])("C12: reports %s with the shell's code", async (_what, command, code) => {
    const dir = scratch();
    const noexec = join(dir, "noexec.sh");
    writeFileSync(noexec, "#!/bin/sh\nexit 0\n");
    chmodSync(noexec, 0o644);
    const badShebang = join(dir, "bad.sh");
    writeFileSync(badShebang, "#!/no/such/interpreter\nexit 0\n");
    chmodSync(badShebang, 0o755);
    const resolved = command.map((c) => (c === "NOEXEC" ? noexec : c === "BADSHEBANG" ? badShebang : c));
    const result = await runCli(["run", "--", ...resolved], { node });
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(/^secretwrap: /);
  });

  it.each([[[]], [["--supervise"]]])(
    "C13: starts the app with no ignored or blocked signals %j",
    async (extra) => {
      // Not a Node probe: Node ignores SIGPIPE itself. A shell shows what it inherited.
      const result = await runCli(
        [
          "run",
          ...extra,
          "--",
          "sh",
          "-c",
          "grep -E '^Sig(Ign|Blk)' /proc/self/status; yes | head -c1 >/dev/null",
        ],
        { node },
      );
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("SigIgn:\t0000000000000000");
      expect(result.stdout).toContain("SigBlk:\t0000000000000000");
      expect(result.stderr).not.toContain("Broken pipe");
    },
  );

  it.each([[[]], [["--supervise"]]])(
    "the app gets only the file descriptors secretwrap inherited %j",
    async (extra) => {
      // Baseline: the same shell started directly, with what this test process passes on. Nothing of
      // secretwrap's own (epoll, pipes, sockets) may be added to it.
      const fds = (out: string): string => out.trim().split(/\s+/).sort().join(" ");
      const { execFileSync } = await import("node:child_process");
      const direct = execFileSync("sh", ["-c", "ls /proc/$$/fd"], { encoding: "utf8" });
      const result = await runCli(
        ["run", "--log-level", "error", ...extra, "--", "sh", "-c", "ls /proc/$$/fd"],
        { node },
      );
      expect(result.code).toBe(0);
      expect(fds(result.stdout)).toBe(fds(direct));
    },
  );

  it.runIf(node.hasExecve)("the app dies from a signal as itself: same process, same signal", async () => {
    const running = startCli(["run", "--", "node", PROBE, "--kill", "SIGTERM"], { node });
    const result = await running.result;
    expect(result.signal).toBe("SIGTERM");
  });

  it("C16: keeps NODE_OPTIONS out of secretwrap and hands it to the app", async () => {
    const dir = scratch();
    const preload = join(dir, "preload.cjs");
    const marker = join(dir, "preload-ran");
    writeFileSync(
      preload,
      `require("node:fs").appendFileSync(${JSON.stringify(marker)}, process.pid + "\\n");`,
    );
    const out = join(dir, "probe.jsonl");
    const running = startCli(["run", "--supervise", "--", "node", PROBE, "--exit", "0"], {
      env: { PROBE_OUT: out, NODE_OPTIONS: `--require ${preload}` },
      node,
    });
    const result = await running.result;
    expect(result.code).toBe(0);
    const start = probeStart(readProbe(out));
    expect(start.env?.["NODE_OPTIONS"]).toBe(`--require ${preload}`);
    expect(Object.keys(start.env ?? {}).filter((k) => k.startsWith("SECRETWRAP_"))).toEqual([]);
    // The preload ran in the app, and in secretwrap only in its launch phase (the CLI's first process,
    // before anything is read), which then starts Node again without it; never where secretwrap
    // resolves (test/reliability/launcher.test.ts, R6).
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(marker, "utf8").trim().split("\n")).toEqual([String(result.pid), String(start.pid)]);
    // Where Node can exec, the app's parent is the slim supervisor secretwrap handed over to.
    expect(start.parentArgv?.includes("--secretwrap-supervisor")).toBe(node.hasExecve);
  });

  it("--pristine gives only declared variables and PATH/HOME/TERM/LANG; --keep-env keeps one more", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "v"), "value-1");
    const out = join(dir, "probe.jsonl");
    const result = await runCli(
      ["run", "--pristine", "--keep-env", "PROBE_OUT", "--", "node", PROBE, "--exit", "0"],
      {
        env: { PROBE_OUT: out, V: `ref+file://${dir}/v`, OTHER: "x", TERM: "xterm" },
        node,
      },
    );
    expect(result.code).toBe(0);
    const { PWD: _pwd, ...env } = probeStart(readProbe(out)).env ?? {};
    expect(env).toEqual({
      PATH: pathFor(node),
      HOME: "/root",
      LANG: "C.UTF-8",
      TERM: "xterm",
      V: "value-1",
      PROBE_OUT: out,
    });
  });
});

describe.each(NODES)("fail closed under $name (acceptance 3)", (node) => {
  const cases: [
    string,
    (dir: string) => { env?: Record<string, string>; config?: string; args?: string[] },
    number,
    RegExp[],
  ][] = [
    ["A15: a missing secret", (d) => ({ env: { A: `ref+file://${d}/missing` } }), 69, [/A SECRET_NOT_FOUND/]],
    ["a directory as secret", (d) => ({ env: { A: `ref+file://${d}` } }), 69, [/not a regular file/]],
    ["A20: a FIFO as secret", (d) => ({ env: { A: `ref+file://${d}/fifo` } }), 69, [/not a regular file/]],
    [
      "A14: a missing #field",
      (d) => ({ env: { A: `ref+file://${d}/json#nope` } }),
      69,
      [/FIELD_MISSING.*"nope".*keys: user/],
    ],
    ["A4: a bad reference", () => ({ env: { A: "ref+file://" } }), 78, [/A REF_INVALID/]],
    ["A3: an unknown scheme", () => ({ env: { A: "ref+vualt://x/y" } }), 78, [/unknown scheme "vualt"/]],
    [
      "A2: an unknown key in the config",
      (d) => ({ config: `version: 1\nsecrets:\n  A: { ref: "ref+file://${d}/ok", optinal: true }\n` }),
      78,
      [/secrets\.A: unknown key "optinal"/],
    ],
    [
      "A6: an invalid target name",
      (d) => ({ config: `version: 1\nsecrets:\n  1FOO: ref+file://${d}/ok\n` }),
      78,
      [/"1FOO" is not a valid variable name/],
    ],
    [
      "A7: a dangerous target name",
      (d) => ({ config: `version: 1\nsecrets:\n  LD_PRELOAD: ref+file://${d}/ok\n` }),
      78,
      [/LD_PRELOAD changes how programs load code/],
    ],
    [
      "A8: a file target escaping the dir",
      (d) => ({ config: `version: 1\nsecrets:\n  K:\n    ref: ref+file://${d}/ok\n    file: ../../etc/x\n` }),
      78,
      [/may not be \. or start with \.\./],
    ],
    [
      "A1: broken YAML",
      () => ({ config: "version: 1\nsecrets: [\n" }),
      78,
      [/config\.yaml:\d+:\d+: not valid YAML/],
    ],
    [
      "B15: several failures at once",
      (d) => ({
        env: { A: `ref+file://${d}/missing`, B: `ref+file://${d}/json#nope`, C: `ref+file://${d}/ok` },
      }),
      69,
      [/2 of 4 secrets/, /A SECRET_NOT_FOUND/, /B FIELD_MISSING/, /fix: /],
    ],
  ];

  it.each(cases)("%s: the app never starts and nothing is left", async (_what, make, code, patterns) => {
    const dir = scratch();
    const secret = canary("FAILCLOSED");
    writeFileSync(join(dir, "ok"), secret);
    writeFileSync(join(dir, "json"), JSON.stringify({ user: secret }));
    const { execFileSync } = await import("node:child_process");
    execFileSync("mkfifo", [join(dir, "fifo")]);
    const spec = make(dir);
    const marker = join(dir, "marker");
    const secretsDir = join("/dev/shm", `secretwrap-test-${process.pid}-${counter}`);
    shmDirs.add(secretsDir);
    const args = ["run", "--log-level", "debug", "--secrets-dir", secretsDir];
    if (spec.config !== undefined) {
      writeFileSync(join(dir, "config.yaml"), spec.config);
      args.push("--config", join(dir, "config.yaml"));
    }
    const result = await runCli([...args, "--", "node", PROBE, "--exit", "0"], {
      env: { ...spec.env, PROBE_MARKER: marker, OK_FILE: `ref+file://${dir}/ok` },
      node,
      timeoutMs: 20_000,
    });
    expect(result.code).toBe(code);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(secretsDir) ? readdirSync(secretsDir) : []).toEqual([]);
    for (const pattern of patterns) expect(result.stderr).toMatch(pattern);
    expect(scanForCanaries([secret], { texts: { stdout: result.stdout, stderr: result.stderr } })).toEqual(
      [],
    );
  });

  it("an unreadable secret (as a non-root user) is exit 77 and the app never starts", async () => {
    const dir = scratch();
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "root-only"), canary("ROOTONLY"), { mode: 0o600 });
    const marker = join(dir, "marker");
    const result = await runCli(["run", "--", "node", PROBE, "--exit", "0"], {
      env: { A: `ref+file://${dir}/root-only`, PROBE_MARKER: marker },
      node,
      prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
      cwd: "/",
    });
    expect(result.stderr).toMatch(/A ACCESS_DENIED/);
    expect(result.code).toBe(77);
    expect(existsSync(marker)).toBe(false);
  });

  it("A19: no command after -- is a usage error before anything is fetched", async () => {
    const result = await runCli(["run", "--"], { env: { A: "ref+file:///nonexistent" }, node });
    expect(result.code).toBe(64);
    expect(result.stderr).not.toContain("SECRET_NOT_FOUND");
  });

  it("an optional secret that is absent is simply not set", async () => {
    const dir = scratch();
    writeFileSync(
      join(dir, "config.yaml"),
      `version: 1\nsecrets:\n  MAYBE: { ref: "ref+file://${dir}/absent", optional: true }\n`,
    );
    const out = join(dir, "probe.jsonl");
    const result = await runCli(
      ["run", "--config", join(dir, "config.yaml"), "--", "node", PROBE, "--exit", "0"],
      { env: { PROBE_OUT: out }, node },
    );
    expect(result.code).toBe(0);
    expect(probeStart(readProbe(out)).env?.["MAYBE"]).toBeUndefined();
    expect(result.stderr).toContain("absent (optional) MAYBE");
  });
});
