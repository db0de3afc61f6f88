// Groups A and D of reliability.md for inputs and files: hostile targets, planted symlinks, unsafe
// directories, huge and binary values, tmpfs detection, ENOSPC, modes and ownership, and cleanup.
// Symlink and overwrite tests only ever touch canary files inside a temp directory made here.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { CLI, PROBE, probeStart, readProbe, runCli, startCli, waitForProbe } from "../helpers/cli.ts";
import { NODE24, NODES } from "../helpers/nodes.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-rel-files-"));
execFileSync("chmod", ["755", work]);
const shm = mkdtempSync("/dev/shm/secretwrap-test-rel-");
execFileSync("chmod", ["755", shm]);
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
});
let counter = 0;
function scratch(base = work): string {
  const dir = join(base, String(++counter));
  mkdirSync(dir, { mode: 0o755 });
  return dir;
}

/** A hash of every path, mode and content under `dir`, to prove nothing changed there. */
function treeHash(dir: string): string {
  const hash = createHash("sha256");
  const walk = (path: string): void => {
    const stat = lstatSync(path);
    hash.update(`${path}:${stat.mode}:${stat.uid}\n`);
    if (stat.isDirectory()) for (const entry of readdirSync(path).sort()) walk(join(path, entry));
    else if (stat.isFile()) hash.update(readFileSync(path));
  };
  walk(dir);
  return hash.digest("hex");
}

/** Root in a private mount namespace can mount a small tmpfs (used to fill a disk on purpose). */
const canMountTmpfs = (() => {
  try {
    execFileSync("unshare", ["--mount", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], {
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  }
})();
describe("A8, A9: hostile targets and planted links", () => {
  it.each(["../../x", "/abs/path", "..data", "..foo", "a/../../b", "new\\nline", "x".repeat(256), ".", ""])(
    "A8: file target %j is refused and nothing is created next to the secrets dir",
    async (fileName) => {
      const dir = scratch();
      writeFileSync(join(dir, "v"), canary("A8"));
      const canaryDir = join(dir, "neighbour");
      mkdirSync(canaryDir);
      writeFileSync(join(canaryDir, "x"), "canary content");
      const config = join(dir, "c.json");
      writeFileSync(
        config,
        JSON.stringify({
          version: 1,
          secrets: { K: { ref: `ref+file://${dir}/v`, file: fileName.replace("\\n", "\n") } },
        }),
      );
      const before = treeHash(dir);
      const secretsDir = join(shm, `a8-${counter}`);
      const result = await runCli(["run", "--config", config, "--secrets-dir", secretsDir, "--", "true"], {
        node: NODE24,
      });
      expect(result.code).toBe(78);
      expect(existsSync(secretsDir)).toBe(false);
      expect(treeHash(dir)).toBe(before);
    },
  );

  it("A9: a symlink planted at a target path is never written through", async () => {
    const dir = scratch();
    const victim = join(dir, "victim");
    writeFileSync(victim, "must stay intact");
    const secretsDir = join(shm, `a9-${counter}`);
    mkdirSync(secretsDir, { mode: 0o700 });
    symlinkSync(victim, join(secretsDir, "TOKEN"));
    writeFileSync(join(dir, "v"), canary("A9"));
    const result = await runCli(["run", "--secrets-dir", secretsDir, "--", "true"], {
      node: NODE24,
      env: { TOKEN_FILE: `ref+file://${dir}/v` },
    });
    expect(result.code).toBe(73);
    expect(result.stderr).toContain("already exists");
    expect(readFileSync(victim, "utf8")).toBe("must stay intact");
    expect(readdirSync(secretsDir)).toEqual(["TOKEN"]);
  });

  it("A9: a symlink as the secrets dir is refused", async () => {
    const dir = scratch();
    const real = join(shm, `a9-real-${counter}`);
    mkdirSync(real, { mode: 0o700 });
    const link = join(shm, `a9-link-${counter}`);
    symlinkSync(real, link);
    writeFileSync(join(dir, "v"), "v");
    const result = await runCli(["run", "--secrets-dir", link, "--", "true"], {
      node: NODE24,
      env: { X_FILE: `ref+file://${dir}/v` },
    });
    expect(result.code).toBe(73);
    expect(result.stderr).toContain("is a symbolic link");
    expect(readdirSync(real)).toEqual([]);
  });

  it.each([
    ["mode 0777", (d: string) => chmodSync(d, 0o777), /writable by group or others/],
    ["owned by another uid", (d: string) => chownSync(d, 1000, 1000), /belongs to uid 1000/],
  ])(
    "A9: a pre-existing secrets dir %s is refused when secretwrap is not root",
    async (_what, spoil, message) => {
      const dir = scratch();
      writeFileSync(join(dir, "v"), "v");
      chmodSync(join(dir, "v"), 0o644);
      const secretsDir = join(shm, `a9-dir-${counter}`);
      mkdirSync(secretsDir, { mode: 0o700 });
      chownSync(secretsDir, 65534, 65534);
      spoil(secretsDir);
      const result = await runCli(["run", "--secrets-dir", secretsDir, "--", "true"], {
        node: NODE24,
        env: { X_FILE: `ref+file://${dir}/v` },
        prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
        cwd: "/",
      });
      expect(result.code).toBe(73);
      expect(result.stderr).toMatch(message);
      expect(readdirSync(secretsDir)).toEqual([]);
    },
  );
});

describe("A10-A13, A20: values and local files", () => {
  it("A10: a 200 KiB value is refused as env (before exec) and delivered as a file", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "big"), "b".repeat(200 * 1024));
    const env = await runCli(["run", "--", "true"], { node: NODE24, env: { BIG: `ref+file://${dir}/big` } });
    expect(env.code).toBe(69);
    expect(env.stderr).toContain("BIG: the value is larger than 128 KiB");
    const out = join(dir, "probe.jsonl");
    const file = await runCli(["run", "--supervise", "--", "node", PROBE, "--exit", "0"], {
      node: NODE24,
      env: { BIG_FILE: `ref+file://${dir}/big`, PROBE_OUT: out },
    });
    expect(file.code).toBe(0);
    expect(Buffer.from(probeStart(readProbe(out)).files?.["BIG_FILE"]?.base64 ?? "", "base64").length).toBe(
      200 * 1024,
    );
  });

  it("A10, A20: a file over 1 MiB and an endless device are refused without reading them", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "huge"), Buffer.alloc(2 * 1024 * 1024, 1));
    const huge = await runCli(["run", "--", "true"], {
      node: NODE24,
      env: { H_FILE: `ref+file://${dir}/huge` },
    });
    expect(huge.code).toBe(69);
    expect(huge.stderr).toContain("larger than 1048576 bytes");
    const zero = await runCli(["run", "--", "true"], {
      node: NODE24,
      env: { Z_FILE: "ref+file:///dev/zero" },
      timeoutMs: 10_000,
    });
    expect(zero.code).toBe(69);
    expect(zero.stderr).toContain("not a regular file");
  });

  it("A11: a value with NUL bytes is refused as env, naming the secret and not the bytes; byte-exact as a file", async () => {
    const dir = scratch();
    const secret = Buffer.concat([Buffer.from(canary("NUL")), Buffer.from([0]), Buffer.from("tail")]);
    writeFileSync(join(dir, "nul"), secret);
    const env = await runCli(["run", "--", "true"], { node: NODE24, env: { N: `ref+file://${dir}/nul` } });
    expect(env.code).toBe(69);
    expect(env.stderr).toContain("N VALUE_UNUSABLE: N: the value contains a NUL byte");
    expect(scanForCanaries([secret.subarray(0, 30).toString()], { texts: { stderr: env.stderr } })).toEqual(
      [],
    );
    const out = join(dir, "probe.jsonl");
    const file = await runCli(["run", "--supervise", "--", "node", PROBE, "--exit", "0"], {
      node: NODE24,
      env: { N_FILE: `ref+file://${dir}/nul`, PROBE_OUT: out },
    });
    expect(
      Buffer.from(probeStart(readProbe(out)).files?.["N_FILE"]?.base64 ?? "", "base64").equals(secret),
    ).toBe(file.code === 0);
  });

  it("A12, A13: spaces, trailing newlines, CRLF and JSON-looking values are delivered exactly as stored", async () => {
    const dir = scratch();
    const values = {
      SPACES: "  padded  ",
      NEWLINE: "line\n",
      CRLF: "a\r\nb\r\n",
      JSONISH: '{"a": 1}',
      NUMBER: "12345",
      BOOL: "true",
      BRACE: "{",
    };
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(values)) {
      writeFileSync(join(dir, name), value);
      env[name] = `ref+file://${dir}/${name}`;
    }
    const out = join(dir, "probe.jsonl");
    const result = await runCli(["run", "--", "node", PROBE, "--exit", "0"], {
      node: NODE24,
      env: { ...env, PROBE_OUT: out },
    });
    expect(result.code).toBe(0);
    const seen = probeStart(readProbe(out)).env ?? {};
    for (const [name, value] of Object.entries(values)) expect(seen[name], name).toBe(value);
  });

  it("A20: a symlinked secret file is followed (Kubernetes ..data links); a dangling one is not found", async () => {
    const dir = scratch();
    mkdirSync(join(dir, "..2024"));
    writeFileSync(join(dir, "..2024", "token"), "linked-value");
    symlinkSync("..2024", join(dir, "..data"));
    symlinkSync("..data/token", join(dir, "token"));
    symlinkSync("nowhere", join(dir, "dangling"));
    const out = join(dir, "probe.jsonl");
    const ok = await runCli(["run", "--", "node", PROBE, "--exit", "0"], {
      node: NODE24,
      env: { T: `ref+file://${dir}/token`, PROBE_OUT: out },
    });
    expect(ok.code).toBe(0);
    expect(probeStart(readProbe(out)).env?.["T"]).toBe("linked-value");
    const dangling = await runCli(["run", "--", "true"], {
      node: NODE24,
      env: { T: `ref+file://${dir}/dangling` },
    });
    expect(dangling.code).toBe(69);
  });
});

describe("D7, D8, D9: files on tmpfs, modes, owners, cleanup", () => {
  it.each(NODES)(
    "D7: under umask 000 and --user 1000, files are 0400 in a 0700 dir owned by 1000, readable by the app ($name)",
    async (node) => {
      const dir = scratch();
      writeFileSync(join(dir, "v"), "owned-value");
      const out = join(dir, "probe.jsonl");
      writeFileSync(out, "");
      chmodSync(out, 0o666);
      const result = await runCli([], {
        node,
        env: { K_FILE: `ref+file://${dir}/v`, PROBE_OUT: out },
        prefix: [
          "sh",
          "-c",
          `umask 000; exec "$0" "$@"`,
          CLI,
          "run",
          "--supervise",
          "--user",
          "1000:1000",
          "--",
          "node",
          PROBE,
          "--exit",
          "0",
        ],
        cwd: "/",
      });
      expect(result.code, result.stderr).toBe(0);
      const file = probeStart(readProbe(out)).files?.["K_FILE"];
      expect(file).toMatchObject({ mode: "400", uid: 1000, gid: 1000, dirMode: "700" });
      expect(Buffer.from(file?.base64 ?? "", "base64").toString()).toBe("owned-value");
    },
  );

  it("D8: a secrets dir on disk is refused for run unless --allow-disk", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "v"), "v");
    const refused = await runCli(["run", "--secrets-dir", join(dir, "out"), "--", "true"], {
      node: NODE24,
      env: { X_FILE: `ref+file://${dir}/v` },
    });
    expect(refused.code).toBe(73);
    expect(refused.stderr).toContain("is not on tmpfs");
    const allowed = await runCli(["run", "--allow-disk", "--secrets-dir", join(dir, "out2"), "--", "true"], {
      node: NODE24,
      env: { X_FILE: `ref+file://${dir}/v` },
    });
    expect(allowed.code).toBe(0);
  });

  it.skipIf(!canMountTmpfs)(
    "D8, H6: a private 64 KiB tmpfs is accepted; when it fills up (ENOSPC) nothing partial is published",
    async () => {
      const dir = scratch();
      writeFileSync(join(dir, "small"), "small-value");
      writeFileSync(join(dir, "big"), Buffer.alloc(200 * 1024, 7));
      const mnt = scratch();
      const script = `mount -t tmpfs -o size=64k tmpfs "${mnt}" && "$@"; code=$?; ls -A "${mnt}/s" 2>/dev/null | tr '\\n' ' '; echo "[listing]"; exit $code`;
      const ok = await runCli([], {
        node: NODE24,
        env: { A_FILE: `ref+file://${dir}/small` },
        prefix: [
          "unshare",
          "--mount",
          "sh",
          "-c",
          script,
          "sh",
          CLI,
          "run",
          "--supervise",
          "--secrets-dir",
          `${mnt}/s`,
          "--",
          "cat",
          "/dev/null",
        ],
      });
      expect(ok.code, ok.stderr).toBe(0);
      const full = await runCli([], {
        node: NODE24,
        env: { A_FILE: `ref+file://${dir}/small`, B_FILE: `ref+file://${dir}/big` },
        prefix: [
          "unshare",
          "--mount",
          "sh",
          "-c",
          script.replace(`"$@"; code`, `mkdir -m 700 "${mnt}/s" && "$@"; code`),
          "sh",
          CLI,
          "run",
          "--secrets-dir",
          `${mnt}/s`,
          "--",
          "true",
        ],
      });
      expect(full.code).toBe(73);
      expect(full.stderr).toContain("no space left");
      // The pre-existing directory is left, empty: no staged temp file, no published A.
      expect(full.stdout.trim()).toBe("[listing]");
    },
  );

  it("D9: no staging leftovers after success; with --supervise the dir is removed when the app exits", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "v"), "v1");
    const out = join(dir, "probe.jsonl");
    const result = await runCli(["run", "--supervise", "--", "node", PROBE, "--exit", "0"], {
      node: NODE24,
      env: { A_FILE: `ref+file://${dir}/v`, B_FILE: `ref+file://${dir}/v`, PROBE_OUT: out },
    });
    expect(result.code).toBe(0);
    const path = probeStart(readProbe(out)).files?.["A_FILE"]?.path ?? "";
    expect(path).toMatch(/^\/dev\/shm\/secretwrap-/);
    expect(existsSync(path.slice(0, path.lastIndexOf("/")))).toBe(false);
    const secretsDir = scratch(shm);
    chmodSync(secretsDir, 0o700);
    const exec = await runCli(["run", "--secrets-dir", secretsDir, "--", "true"], {
      node: NODE24,
      env: { A_FILE: `ref+file://${dir}/v`, B_FILE: `ref+file://${dir}/v` },
    });
    expect(exec.code).toBe(0);
    expect(readdirSync(secretsDir).sort()).toEqual(["..secretwrap-manifest", "A", "B"]);
  });

  it("D9: after a failure or a SIGTERM no file and no created dir is left", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "v"), "v1");
    const before = new Set(readdirSync("/dev/shm"));
    const failed = await runCli(["run", "--", "true"], {
      node: NODE24,
      env: { A_FILE: `ref+file://${dir}/v`, B: `ref+file://${dir}/missing` },
    });
    expect(failed.code).toBe(69);
    const out = join(dir, "probe.jsonl");
    const running = startCli(["run", "--supervise", "--", "node", PROBE, "--wait"], {
      node: NODE24,
      env: { A_FILE: `ref+file://${dir}/v`, PROBE_OUT: out },
    });
    await waitForProbe(out, (r) => r.some((x) => x.probe === "ready"));
    running.child.kill("SIGTERM");
    expect((await running.result).code).toBe(0);
    const leftovers = readdirSync("/dev/shm").filter(
      (e) => !before.has(e) && e.startsWith("secretwrap-") && !e.startsWith("secretwrap-test"),
    );
    // Other suites run at the same time: only this test's dirs would hold its file.
    const mine = leftovers.filter((e) => {
      try {
        return (
          readdirSync(join("/dev/shm", e)).includes("A") &&
          readFileSync(join("/dev/shm", e, "A"), "utf8") === "v1"
        );
      } catch {
        return false;
      }
    });
    expect(mine).toEqual([]);
  });
});

describe("R16: restart-safe outputs", () => {
  /** A config with file targets; `round` changes values, modes and (from round 2 on) adds a target. */
  function roundConfig(
    dir: string,
    round: number,
  ): { config: string; expected: Map<string, [string, number]> } {
    const expected = new Map<string, [string, number]>();
    const secrets: Record<string, { ref: string; file: string; mode: string }> = {};
    const names = round >= 2 ? ["A", "B", "C"] : ["A", "B"];
    for (const name of names) {
      const value = `${name}-round-${round}-${canary("R16")}`;
      writeFileSync(join(dir, `${name}.src`), value);
      const mode = round % 2 === 0 ? 0o400 : 0o440;
      secrets[name] = {
        ref: `ref+file://${dir}/${name}.src`,
        file: `${name.toLowerCase()}.txt`,
        mode: `0${mode.toString(8)}`,
      };
      expected.set(`${name.toLowerCase()}.txt`, [value, mode]);
    }
    const config = join(dir, `c${round}.json`);
    writeFileSync(config, JSON.stringify({ version: 1, secrets }));
    return { config, expected };
  }

  it.each([
    ["render --out", (config: string, out: string) => ["render", "--config", config, "--out", out]],
    [
      "run --secrets-dir",
      (config: string, out: string) => ["run", "--config", config, "--secrets-dir", out, "--", "true"],
    ],
  ])(
    "R16: %s into the same dir 5 times with changing values, modes and targets succeeds; the files hold the latest",
    async (_what, args) => {
      const dir = scratch();
      const out = join(shm, `r16-${counter}`);
      for (let round = 0; round < 5; round++) {
        const { config, expected } = roundConfig(dir, round);
        const result = await runCli(args(config, out), { node: NODE24 });
        expect(result.code, result.stderr).toBe(0);
        for (const [file, [value, mode]] of expected) {
          expect(readFileSync(join(out, file), "utf8")).toBe(value);
          expect(lstatSync(join(out, file)).mode & 0o7777).toBe(mode);
        }
        expect(readdirSync(out).sort()).toEqual(["..secretwrap-manifest", ...[...expected.keys()].sort()]);
      }
    },
  );

  /** Two file secrets, a.txt and b.txt, then (`onlyA`) a.txt alone: b.txt is no longer declared. */
  function shrinkingConfig(dir: string, onlyA: boolean): string {
    const secrets: Record<string, { ref: string; file: string }> = {};
    for (const name of onlyA ? ["A"] : ["A", "B"]) {
      writeFileSync(join(dir, `${name}.src`), `${name}-${onlyA ? 2 : 1}-${canary("R16")}`);
      secrets[name] = { ref: `ref+file://${dir}/${name}.src`, file: `${name.toLowerCase()}.txt` };
    }
    const config = join(dir, onlyA ? "only-a.json" : "a-and-b.json");
    writeFileSync(config, JSON.stringify({ version: 1, secrets }));
    return config;
  }
  const manifestNames = (out: string): string[] =>
    Object.keys(
      (JSON.parse(readFileSync(join(out, "..secretwrap-manifest"), "utf8")) as { files: object }).files,
    ).sort();

  it("R16: run --secrets-dir again with a secret taken out removes the file the earlier run published, and the manifest no longer lists it", async () => {
    const dir = scratch();
    const out = join(shm, `r16-shrink-run-${counter}`);
    const run = (config: string): string[] => ["run", "--config", config, "--secrets-dir", out, "--", "true"];
    const first = await runCli(run(shrinkingConfig(dir, false)), { node: NODE24 });
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(join(out, "b.txt"))).toBe(true);
    const second = await runCli(run(shrinkingConfig(dir, true)), { node: NODE24 });
    expect(second.code, second.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["..secretwrap-manifest", "a.txt"]);
    expect(manifestNames(out)).toEqual(["a.txt"]);
    expect(readFileSync(join(out, "a.txt"), "utf8")).toMatch(/^A-2-/);
  });

  it("R16: render --out again with a secret taken out keeps the earlier run's file and warns once, naming it", async () => {
    const dir = scratch();
    const out = join(shm, `r16-shrink-render-${counter}`);
    const render = (config: string): string[] => ["render", "--config", config, "--out", out];
    expect((await runCli(render(shrinkingConfig(dir, false)), { node: NODE24 })).code).toBe(0);
    const kept = readFileSync(join(out, "b.txt"), "utf8");
    const second = await runCli(render(shrinkingConfig(dir, true)), { node: NODE24 });
    expect(second.code, second.stderr).toBe(0);
    expect(readFileSync(join(out, "b.txt"), "utf8")).toBe(kept);
    const warnings = second.stderr.split("\n").filter((line) => line.includes("no longer declared"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(join(out, "b.txt"));
    expect(warnings[0]).toContain("remove it or use a fresh --out");
    expect(second.stderr).not.toContain(kept);
    // Still secretwrap's: a later run that declares it again replaces it.
    expect(manifestNames(out)).toEqual(["a.txt", "b.txt"]);
    expect((await runCli(render(shrinkingConfig(dir, false)), { node: NODE24 })).code).toBe(0);
  });

  it.each(["run --secrets-dir", "render --out"])(
    "R16: %s again with a secret taken out leaves a foreign file under the stale name untouched",
    async (what) => {
      const dir = scratch();
      const out = join(shm, `r16-shrink-foreign-${counter}`);
      const args = (config: string): string[] =>
        what === "render --out"
          ? ["render", "--config", config, "--out", out]
          : ["run", "--config", config, "--secrets-dir", out, "--", "true"];
      expect((await runCli(args(shrinkingConfig(dir, false)), { node: NODE24 })).code).toBe(0);
      rmSync(join(out, "b.txt"));
      writeFileSync(join(out, "b.txt"), "the app's own file", { mode: 0o400 });
      const second = await runCli(args(shrinkingConfig(dir, true)), { node: NODE24 });
      expect(second.code, second.stderr).toBe(0);
      expect(readFileSync(join(out, "b.txt"), "utf8")).toBe("the app's own file");
      expect(second.stderr).not.toMatch(/no longer declared/);
      expect(manifestNames(out)).toEqual(["a.txt"]);
    },
  );

  const plants: [string, (out: string, victim: string) => void][] = [
    ["a file this user wrote by hand", (out) => writeFileSync(join(out, "b.txt"), "hand-written")],
    [
      "a file of another uid",
      (out) => {
        writeFileSync(join(out, "b.txt"), "theirs");
        chownSync(join(out, "b.txt"), 1000, 1000);
      },
    ],
    ["a symlink to a victim file", (out, victim) => symlinkSync(victim, join(out, "b.txt"))],
    [
      "a directory",
      (out) => {
        mkdirSync(join(out, "b.txt"));
        writeFileSync(join(out, "b.txt", "inside"), "kept");
      },
    ],
    ["a FIFO", (out) => execFileSync("mkfifo", [join(out, "b.txt")])],
    [
      "a hard link to another file secretwrap published",
      (out) => linkSync(join(out, "a.txt"), join(out, "b.txt")),
    ],
    [
      "secretwrap's file replaced by a copy (same owner and mode, another inode)",
      (out) => {
        const copy = readFileSync(join(out, "b.txt"));
        rmSync(join(out, "b.txt"));
        writeFileSync(join(out, "b.txt"), copy, { mode: 0o440 });
      },
    ],
    [
      "its manifest given to another uid",
      (out) => chownSync(join(out, "..secretwrap-manifest"), 65534, 65534),
    ],
    [
      "its manifest replaced by a file of the same uid that lists the files' inodes in another shape",
      (out) => {
        const ino = String(lstatSync(join(out, "b.txt")).ino);
        rmSync(join(out, "..secretwrap-manifest"));
        writeFileSync(join(out, "..secretwrap-manifest"), JSON.stringify({ files: { "b.txt": [ino] } }));
      },
    ],
  ];

  it.each(plants)(
    "R16: %s at a target name is refused with 73 and nothing in the dir changes",
    async (what, plant) => {
      const dir = scratch();
      const out = join(shm, `r16-foreign-${counter}`);
      const victim = join(dir, "victim");
      writeFileSync(victim, "must stay intact");
      const first = roundConfig(dir, 1);
      expect((await runCli(["render", "--config", first.config, "--out", out], { node: NODE24 })).code).toBe(
        0,
      );
      // a.txt and b.txt are secretwrap's now; then b.txt (or the manifest) is made someone else's.
      if (!what.includes("manifest") && !what.includes("copy")) rmSync(join(out, "b.txt"));
      plant(out, victim);
      const before = treeHash(out);
      const second = roundConfig(dir, 3);
      const result = await runCli(["render", "--config", second.config, "--out", out], { node: NODE24 });
      expect(result.code).toBe(73);
      expect(result.stderr).toMatch(/already exists and secretwrap did not write it/);
      expect(treeHash(out)).toBe(before);
      expect(readFileSync(victim, "utf8")).toBe("must stay intact");
    },
  );

  it("R16: render --user uid:gid owns every file it writes and a dir it creates; a later run may change the owner", async () => {
    const dir = scratch();
    const out = join(shm, `r16-user-${counter}`);
    const { config } = roundConfig(dir, 1);
    const result = await runCli(["render", "--config", config, "--out", out, "--user", "1000:1001"], {
      node: NODE24,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(lstatSync(out)).toMatchObject({ uid: 1000, gid: 1001 });
    for (const file of ["a.txt", "b.txt"])
      expect(lstatSync(join(out, file))).toMatchObject({ uid: 1000, gid: 1001 });
    // 1002 cannot search the 0700 dir 1000 owns: refused until it can (R16: readable by --user).
    const refused = await runCli(["render", "--config", config, "--out", out, "--user", "1002"], {
      node: NODE24,
    });
    expect(refused.code).toBe(73);
    chmodSync(out, 0o711);
    const again = await runCli(["render", "--config", config, "--out", out, "--user", "1002"], {
      node: NODE24,
    });
    expect(again.code, again.stderr).toBe(0);
    for (const file of ["a.txt", "b.txt"])
      expect(lstatSync(join(out, file))).toMatchObject({ uid: 1002, gid: 1002 });
  });

  it("R16: render --user is refused with 64 when secretwrap is not root, before anything is written", async () => {
    const dir = scratch();
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "v"), "v");
    chmodSync(join(dir, "v"), 0o644);
    const out = join(shm, `r16-user-nonroot-${counter}`);
    const result = await runCli(["render", "--out", out, "--user", "1000"], {
      node: NODE24,
      env: { V: `ref+file://${dir}/v` },
      prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
      cwd: "/",
    });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain("--user needs secretwrap to run as root");
    expect(existsSync(out)).toBe(false);
  });
});

const isRoot = process.getuid?.() === 0;
describe.skipIf(!isRoot)(
  "R16 (root only, skipped otherwise): every published file is readable by --user",
  () => {
    /** owner uid:gid and mode of the output dir and its parent; "absent": secretwrap creates the dir. */
    interface Row {
      readonly dir: [number, number, number] | "absent";
      readonly parentMode: number;
      readonly user: string;
      readonly readable: boolean;
      /** The parent is reached through a symlink to a dir inside a root 0700 dir. */
      readonly viaLink?: boolean;
    }
    const rows: [string, Row][] = [
      [
        "root 0700, user 65534",
        { dir: [0, 0, 0o700], parentMode: 0o755, user: "65534:65534", readable: false },
      ],
      [
        "root 0711 (others may search)",
        { dir: [0, 0, 0o711], parentMode: 0o755, user: "65534:65534", readable: true },
      ],
      [
        "group 65534 0750",
        { dir: [0, 65534, 0o750], parentMode: 0o755, user: "65534:65534", readable: true },
      ],
      [
        "group 65534 0701 (the group bits count, not the others')",
        { dir: [0, 65534, 0o701], parentMode: 0o755, user: "65534:65534", readable: false },
      ],
      [
        "group 65534 0750, user 65534 in group 1 (supplementary groups cleared)",
        { dir: [0, 65534, 0o750], parentMode: 0o755, user: "65534:1", readable: false },
      ],
      [
        "owned by 65534, 0700",
        { dir: [65534, 65534, 0o700], parentMode: 0o755, user: "65534:65534", readable: true },
      ],
      [
        "owned by 65534, 0050 (the owner bits count)",
        { dir: [65534, 65534, 0o050], parentMode: 0o755, user: "65534:65534", readable: false },
      ],
      [
        "absent, parent 0755: created for the user",
        { dir: "absent", parentMode: 0o755, user: "65534:65534", readable: true },
      ],
      [
        "absent, parent root 0700",
        { dir: "absent", parentMode: 0o700, user: "65534:65534", readable: false },
      ],
      [
        "owned by 65534 0700, parent root 0700",
        { dir: [65534, 65534, 0o700], parentMode: 0o700, user: "65534:65534", readable: false },
      ],
      [
        "owned by 65534 0700, parent via a symlink into a root 0700 dir",
        {
          dir: [65534, 65534, 0o700],
          parentMode: 0o755,
          user: "65534:65534",
          readable: false,
          viaLink: true,
        },
      ],
      [
        "root 0700, --user 0 (root may search anything)",
        { dir: [0, 0, 0o700], parentMode: 0o755, user: "0:0", readable: true },
      ],
    ];
    /** The dir to write into, under a fresh parent in this test's own tmpfs dir. */
    function setUp(row: Row): { parent: string; out: string } {
      const base = join(shm, `r16-reach-${++counter}`);
      mkdirSync(base, { mode: 0o755 });
      let parent = join(base, "parent");
      mkdirSync(parent);
      chmodSync(parent, row.parentMode);
      if (row.viaLink === true) {
        const hidden = join(base, "hidden");
        mkdirSync(hidden);
        chmodSync(hidden, 0o700);
        renameSync(parent, join(hidden, "parent"));
        symlinkSync(join(hidden, "parent"), join(base, "link"));
        parent = join(base, "link");
      }
      const out = join(parent, "out");
      if (row.dir !== "absent") {
        mkdirSync(out);
        chownSync(out, row.dir[0], row.dir[1]);
        chmodSync(out, row.dir[2]);
      }
      return { parent: row.viaLink === true ? join(base, "hidden") : parent, out };
    }
    const readAs = (user: string, file: string): string => {
      const [uid = "", gid = uid] = user.split(":");
      return execFileSync("setpriv", [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "cat", file], {
        encoding: "utf8",
      });
    };

    it.each(
      rows.flatMap(([label, row]) => (["run", "render"] as const).map((kind) => [kind, label, row] as const)),
    )(
      "R16: %s --user into %s: the user can read every published file, or 73 before any fetch and nothing written",
      async (kind, _label, row) => {
        const src = scratch();
        const value = `reach-${canary("R16")}`;
        writeFileSync(join(src, "a"), value);
        // A FIFO source fails its fetch (69): a refusal with 73 proves nothing was fetched first.
        const fifo = join(src, "fifo");
        execFileSync("mkfifo", [fifo]);
        const { parent, out } = setUp(row);
        const before = treeHash(parent);
        const env: Record<string, string> =
          kind === "run" ? { A_FILE: `ref+file://${src}/a` } : { A: `ref+file://${src}/a` };
        if (!row.readable) env[kind === "run" ? "B_FILE" : "B"] = `ref+file://${fifo}`;
        const args =
          kind === "run"
            ? ["run", "--secrets-dir", out, "--user", row.user, "--", "sh", "-c", 'cat "$A_FILE"']
            : ["render", "--out", out, "--user", row.user];
        const result = await runCli(args, { node: NODE24, env, cwd: "/" });
        if (!row.readable) {
          expect(result.code, result.stderr).toBe(73);
          expect(result.stderr).toContain(`would be unreadable by --user ${row.user}`);
          expect(treeHash(parent)).toBe(before);
          return;
        }
        expect(result.code, result.stderr).toBe(0);
        // run: the app itself, as that user, printed the file (a dir secretwrap created is gone by now).
        if (kind === "run") {
          expect(result.stdout).toBe(value);
          return;
        }
        const files = readdirSync(out).filter((name) => !name.startsWith(".."));
        expect(files).toEqual(["A"]);
        for (const name of files) expect(readAs(row.user, join(out, name))).toBe(value);
      },
    );
  },
);

describe("R8: a warning for output dirs others may change", () => {
  it.each([
    ["0777", true],
    ["0770", true],
    ["0757", true],
    ["1777", false],
    ["1770", false],
    ["0755", false],
    ["0700", false],
  ])("R8: render into a dir of mode %s warns about it: %s", async (mode, warns) => {
    const dir = scratch();
    writeFileSync(join(dir, "v"), "v");
    const out = join(shm, `r8-warn-${counter}`);
    mkdirSync(out);
    chmodSync(out, parseInt(mode, 8));
    const result = await runCli(["render", "--out", out], {
      node: NODE24,
      env: { V: `ref+file://${dir}/v` },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(/warn: .* is writable by other users and has no sticky bit/.test(result.stderr)).toBe(warns);
  });
});

describe("R13-small: audit lines only for delivered secrets", () => {
  it.each([
    ["render", (out: string) => ["render", "--out", out]],
    ["run", (out: string) => ["run", "--secrets-dir", out, "--", "true"]],
  ])("R13-small: %s prints its audit lines only once the files are published", async (_what, args) => {
    const dir = scratch();
    writeFileSync(join(dir, "small"), "small-value");
    // A foreign file at a target: publication fails after every secret resolved.
    const out = join(shm, `audit-${counter}`);
    mkdirSync(out, { mode: 0o700 });
    writeFileSync(join(out, "B"), "not secretwrap's");
    const env = { A_FILE: `ref+file://${dir}/small`, B_FILE: `ref+file://${dir}/small` };
    const refused = await runCli(args(out), { node: NODE24, env });
    expect(refused.code).toBe(73);
    expect(refused.stderr).not.toMatch(/resolved [AB]_FILE/);
    rmSync(join(out, "B"));
    const ok = await runCli(args(out), { node: NODE24, env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr.match(/resolved [AB]_FILE/g)).toHaveLength(2);
  });

  it.skipIf(!canMountTmpfs)(
    "R13-small: no audit line when a private 64 KiB tmpfs fills up (ENOSPC) during render",
    async () => {
      const dir = scratch();
      writeFileSync(join(dir, "small"), "small-value");
      writeFileSync(join(dir, "big"), Buffer.alloc(200 * 1024, 7));
      const mnt = scratch();
      const result = await runCli(["render", "--out", `${mnt}/s`], {
        node: NODE24,
        env: { A: `ref+file://${dir}/small`, B: `ref+file://${dir}/big` },
        prefix: [
          "unshare",
          "--mount",
          "sh",
          "-c",
          `mount -t tmpfs -o size=64k tmpfs "${mnt}" && "$@"; code=$?; ls -A "${mnt}/s" 2>/dev/null | tr '\\n' ' '; echo "[listing]"; exit $code`,
          "sh",
        ],
      });
      expect(result.code, result.stderr).toBe(73);
      expect(result.stderr).toContain("no space left");
      expect(result.stderr).not.toMatch(/resolved [AB]/);
      // Nothing published, nothing staged: the dir secretwrap created for --out is empty.
      expect(result.stdout.trim()).toBe("[listing]");
    },
  );
});
