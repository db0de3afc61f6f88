// R2, the durations of R13 and the smaller things (version, --user), end to end: the built CLI as a
// user runs it, under Node 24 (exec) and Node 20 (supervise).
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { PROBE, probeStart, readProbe, runCli, startCli, waitForProbe } from "../helpers/cli.ts";
import { NODES, REPO } from "../helpers/nodes.ts";
import { scratchDirs } from "../helpers/scratch.ts";

// Not /tmp: the disk-refusal tests need a directory that is not tmpfs (the repo's disk is one).
const work = mkdtempSync(join(REPO, ".cache", "e2e-options-"));
chmodSync(work, 0o755); // the --user tests' app runs as another uid
afterAll(() => rmSync(work, { recursive: true, force: true }));

const scratch = scratchDirs(work);

describe.each(NODES)("R2 under $name", (node) => {
  it.each([
    ["false", 73],
    ["0", 73],
    ["OFF", 73],
    ["no", 73],
    ["true", 0],
    ["", 64],
    ["maybe", 64],
  ])("R2: SECRETWRAP_ALLOW_DISK=%j with a secrets dir on disk exits %i", async (value, code) => {
    const dir = scratch();
    writeFileSync(join(dir, "token"), "t0ken");
    const secrets = join(dir, "secrets");
    const marker = join(dir, "started");
    const result = await runCli(["run", "--secrets-dir", secrets, "--", "node", PROBE, "--exit", "0"], {
      env: { TOKEN_FILE: "ref+file://./token", SECRETWRAP_ALLOW_DISK: value, PROBE_MARKER: marker },
      cwd: dir,
      node,
    });
    expect(result.code, result.stderr).toBe(code);
    expect(existsSync(marker)).toBe(code === 0);
    if (code === 73) expect(result.stderr).toContain("tmpfs");
    if (code === 64) expect(result.stderr).toContain("SECRETWRAP_ALLOW_DISK");
    // nothing was written to disk unless the variable really allowed it
    const written = existsSync(secrets)
      ? readdirSync(secrets, { recursive: true, withFileTypes: true })
          .filter((f) => f.isFile())
          .filter((f) => readFileSync(join(f.parentPath, f.name)).includes("t0ken"))
      : [];
    if (code !== 0) expect(written).toEqual([]);
  });

  it.each([
    ["false", false],
    ["0", false],
    ["Off", false],
    ["true", true],
    ["YES", true],
  ])("R2: SECRETWRAP_SUPERVISE=%j supervises: %s", async (value, supervised) => {
    const dir = scratch();
    const out = join(dir, "probe.jsonl");
    const running = startCli(["run", "--", "node", PROBE, "--exit", "0"], {
      env: { SECRETWRAP_SUPERVISE: value, PROBE_OUT: out },
      node,
    });
    const result = await running.result;
    expect(result.code, result.stderr).toBe(0);
    const start = probeStart(readProbe(out));
    // Node 20 has no execve: it always supervises, so only the exec path can tell the two apart
    if (node.hasExecve) expect(start.pid === running.pid).toBe(!supervised);
  });
});

describe.each(NODES)("R2 SECRETWRAP_* outside the settings under $name", (node) => {
  it("R2: a SECRETWRAP_* line in an --env-file is 78 naming file:line; the app never starts", async () => {
    const dir = scratch();
    const envFile = join(dir, "a.env");
    writeFileSync(envFile, "A=1\nSECRETWRAP_LOG_LEVEL=error\n");
    const marker = join(dir, "started");
    const result = await runCli(["run", "--env-file", envFile, "--", "node", PROBE, "--exit", "0"], {
      env: { PROBE_MARKER: marker },
      node,
    });
    expect(result.code, result.stderr).toBe(78);
    expect(result.stderr).toContain(`${envFile}:2: SECRETWRAP_LOG_LEVEL: secretwrap's settings are read`);
    expect(existsSync(marker)).toBe(false);
  });

  it("R2: an unknown SECRETWRAP_ variable (a typo) is warned about once, by name; the app still starts without it", async () => {
    const result = await runCli(["run", "--", "/usr/bin/env"], {
      env: { SECRETWRAP_LOGLEVEL: "debug", SECRETWRAP_LOG_LEVEL: "warn" },
      node,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.match(/SECRETWRAP_LOGLEVEL: not a secretwrap setting; ignored/g)).toHaveLength(1);
    expect(result.stderr).not.toMatch(/SECRETWRAP_LOG_LEVEL:/);
    expect(result.stdout).not.toMatch(/^SECRETWRAP_/m);
  });
});

describe.each(NODES)("R13 durations under $name", (node) => {
  it.each([
    [["--stop-timeout", "600h"], {}, "--stop-timeout"],
    [["--timeout", "9999999999999999999s"], {}, "--timeout"],
    [["--attempt-timeout", "25h"], {}, "--attempt-timeout"],
    [["--timeout", "30"], {}, "--timeout"],
    [[], { SECRETWRAP_STOP_TIMEOUT: "600h" }, "SECRETWRAP_STOP_TIMEOUT"],
    [[], { SECRETWRAP_TIMEOUT: "9999999999999999999s" }, "SECRETWRAP_TIMEOUT"],
  ])("R13: %j %j is a usage error naming %s; the app never starts", async (args, env, named) => {
    const dir = scratch();
    const marker = join(dir, "started");
    const result = await runCli(["run", "--supervise", ...args, "--", "node", PROBE, "--exit", "0"], {
      env: { ...env, PROBE_MARKER: marker },
      node,
    });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain(named);
    expect(existsSync(marker)).toBe(false);
  });

  it("R13: arbitrary text for a duration option or its variable exits 0 or 64, never 70", async () => {
    const options = ["--timeout", "--attempt-timeout", "--stop-timeout"];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...options),
        fc.boolean(),
        fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[0-9]{1,22}(\.[0-9]{1,4})?(ms|s|m|h)?$/)),
        async (option, fromEnv, text) => {
          fc.pre(!text.includes("\0"));
          const variable = `SECRETWRAP_${option.slice(2).toUpperCase().replaceAll("-", "_")}`;
          const result = await runCli(["run", ...(fromEnv ? [] : [`${option}=${text}`]), "--", "true"], {
            env: fromEnv ? { [variable]: text } : {},
            node,
          });
          expect([0, 64], `${option} ${JSON.stringify(text)}: ${result.stderr}`).toContain(result.code);
        },
      ),
      { numRuns: 10 },
    );
  });

  it("R13: the largest --stop-timeout (24h) is honoured: the app that ignores TERM is not killed at once", async () => {
    const dir = scratch();
    const out = join(dir, "probe.jsonl");
    const running = startCli(
      ["run", "--supervise", "--stop-timeout", "24h", "--", "node", PROBE, "--wait", "--ignore-term"],
      { env: { PROBE_OUT: out }, node },
    );
    const ready = await waitForProbe(out, (r) => r.some((x) => x.probe === "ready"));
    const app = probeStart(ready).pid ?? 0;
    running.child.kill("SIGTERM");
    await waitForProbe(out, (r) => r.some((x) => x.probe === "signal" && x.signal === "SIGTERM"));
    // An overflowed timer fires after 1 ms; give it far more than that.
    await new Promise((r) => setTimeout(r, 1000));
    expect(() => process.kill(app, 0)).not.toThrow();
    process.kill(app, "SIGKILL");
    expect((await running.result).code).toBe(137);
  });
});

describe.each(NODES)("R13-small: version and --user under $name", (node) => {
  it("R13-small: version names secretwrap, Node, platform, packaging and build", async () => {
    const result = await runCli(["version"], { node });
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    const nodeVersion = execFileSync(node.bin, ["--version"], { encoding: "utf8" }).trim();
    expect(lines.slice(0, 4)).toEqual([
      expect.stringMatching(/^secretwrap [0-9]+\.[0-9]+\.[0-9]+/),
      `node ${nodeVersion}`,
      `platform ${process.platform}-${process.arch}`,
      "packaging npm bundle",
    ]);
    // the build stamp, where the build could ask git (it can here)
    expect(lines[4]).toMatch(/^build [0-9a-f]{12}(\+dirty)?$/);
  });

  const root = process.getuid?.() === 0;
  it.skipIf(!root).each([
    [["--user", "nobody"], {}, { uid: 65534, gid: 65534, home: "/nonexistent" }],
    [["--user", "nobody:nogroup"], {}, { uid: 65534, gid: 65534, home: "/nonexistent" }],
    [["--user", "12345"], {}, { uid: 12345, gid: 12345, home: "/" }],
    [["--user", "12345", "--keep-env", "HOME"], {}, { uid: 12345, gid: 12345, home: "/root" }],
    [[], { SECRETWRAP_USER: "nobody" }, { uid: 65534, gid: 65534, home: "/nonexistent" }],
  ])("R13-small: run %j %j starts the app as that account with its HOME", async (args, env, expected) => {
    const dir = scratch();
    const out = join(dir, "probe.jsonl");
    writeFileSync(out, "");
    // the app (another uid) appends to its report
    chmodSync(dir, 0o777);
    chmodSync(out, 0o666);
    const result = await runCli(["run", ...args, "--", "node", PROBE, "--exit", "0"], {
      env: { ...env, PROBE_OUT: out },
      node,
    });
    expect(result.code, result.stderr).toBe(0);
    const start = probeStart(readProbe(out));
    expect({ uid: start.uid, gid: start.gid, home: start.env?.["HOME"] }).toEqual(expected);
  });

  it.skipIf(!root)("R13-small: an unknown user name is a usage error and the app never starts", async () => {
    const dir = scratch();
    const marker = join(dir, "started");
    const result = await runCli(["run", "--user", "no-such-user-xyz", "--", "node", PROBE], {
      env: { PROBE_MARKER: marker },
      node,
    });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain("no user");
    expect(existsSync(marker)).toBe(false);
  });
});
