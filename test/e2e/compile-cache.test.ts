// secretwrap's compile cache end to end (src/launch/compile-cache.ts, dist/warm-compile-cache.js), on a
// copy of the built package (bin/, dist/, package.json) with .compile-cache beside its dist/:
// - a cache that is missing, warm, read-only (another user runs secretwrap), corrupt or stale changes
//   nothing a run shows: same exit code, same stdout, the same stderr lines, no secret in any of it;
// - a cache someone else could have written is not used: an entry planted in it (compiled from a
//   same-length core.js that prints a marker, its header's source CRC set to the real file's, which
//   Node and V8 accept) runs when the cache is trusted (the control) and never when it is group- or
//   world-writable, owned by another user or a symlink;
// - the app never uses secretwrap's cache nor gets NODE_COMPILE_CACHE, on every start path (exec,
//   --supervise, Node 20's spawn, the --watch supervisor, Node's relaunch without NODE_OPTIONS).
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { crc32 } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { NODE24, NODES, REPO, START_PATHS, type NodeBuild } from "../helpers/nodes.ts";

const OTHER_UID = 65534;
const isRoot = process.getuid?.() === 0;
const MARKER = "INJECTED_BY_A_CACHE_ENTRY";

const work = mkdtempSync(join(tmpdir(), "secretwrap-compile-cache-"));
// Readable by the other user of the read-only case.
chmodSync(work, 0o755);
const shmDirs: string[] = [];
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  for (const dir of shmDirs) rmSync(dir, { recursive: true, force: true });
});

const secrets = { a: canary("CACHE_A"), b: canary("CACHE_B") };
for (const [name, value] of Object.entries(secrets)) writeFileSync(join(work, name), value, { mode: 0o644 });
// The app reports what it got and whether it runs with a compile cache, never a value.
const APP = join(work, "app.mjs");
writeFileSync(
  APP,
  `import { getCompileCacheDir } from "node:module";
import { readFileSync } from "node:fs";
process.stdout.write(JSON.stringify({
  a: process.env.A?.length ?? null,
  b: readFileSync(process.env.B_FILE, "utf8").length,
  NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? null,
  cacheDir: getCompileCacheDir?.() ?? null,
}) + "\\n");
`,
);

let packages = 0;
/** A copy of the built package; its cache is <pkg>/.compile-cache. */
function makePackage(): string {
  const pkg = join(work, `pkg${++packages}`);
  for (const part of ["bin", "dist", "package.json"])
    cpSync(join(REPO, part), join(pkg, part), { recursive: true });
  chmodSync(pkg, 0o755);
  return pkg;
}

const cacheOf = (pkg: string): string => join(pkg, ".compile-cache");

function warm(pkg: string, uids: readonly number[] = []): void {
  const result = spawnSync(
    NODE24.bin,
    [join(pkg, "dist/warm-compile-cache.js"), ...uids.flatMap((uid) => ["--uid", String(uid)])],
    { encoding: "utf8" },
  );
  expect(result.status, result.stderr).toBe(0);
}

/** Every file of the cache, with its size and mtime: what a run may not change when it cannot write. */
function entriesOf(dir: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    const stat = statSync(join(dir, name));
    if (stat.isFile()) found[name] = `${stat.size}:${stat.mtimeMs}`;
  }
  return found;
}

interface RunOptions {
  readonly node?: NodeBuild;
  readonly extra?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly uid?: number;
}

interface Shown {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(pkg: string, options: RunOptions = {}): Shown {
  const secretsDir = mkdtempSync("/dev/shm/secretwrap-cc-test-");
  chmodSync(secretsDir, 0o777);
  shmDirs.push(secretsDir);
  const target = join(secretsDir, "s");
  const node = options.node ?? NODE24;
  const command = [
    node.bin,
    join(pkg, "bin/secretwrap"),
    "run",
    "--secrets-dir",
    target,
    ...(options.extra ?? []),
    "--",
    NODE24.bin,
    APP,
  ];
  const asUser =
    options.uid === undefined
      ? command
      : ["setpriv", `--reuid=${options.uid}`, `--regid=${options.uid}`, "--clear-groups", ...command];
  const result = spawnSync(asUser[0] ?? "", asUser.slice(1), {
    encoding: "utf8",
    cwd: work,
    timeout: 30_000,
    env: {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      A: `ref+file://${work}/a`,
      B_FILE: `ref+file://${work}/b`,
      ...options.env,
    },
  });
  const hits = scanForCanaries(Object.values(secrets), {
    texts: { stdout: result.stdout, stderr: result.stderr },
  });
  expect(hits).toEqual([]);
  // What differs between any two runs: the per-run keyed versions, durations, the secrets dir.
  const stderr = result.stderr
    .replaceAll(target, "<secrets-dir>")
    .replace(/version=[0-9a-f]+/g, "version=<v>")
    .replace(/durationMs=[0-9]+/g, "durationMs=<ms>");
  return { status: result.status, stdout: result.stdout, stderr };
}

/**
 * Plants an entry for <pkg>/dist/core.js compiled from a same-length source that prints MARKER,
 * with the real source's CRC in its header: the attack a cache writable by someone else allows.
 */
function plantEntry(pkg: string): void {
  const core = join(pkg, "dist/core.js");
  const original = readFileSync(core, "utf8");
  const planted = `;process.stderr.write(${JSON.stringify(MARKER + "\n")});`;
  const filler = `;/*${" ".repeat(planted.length - 5)}*/`;
  expect(filler.length).toBe(planted.length);
  writeFileSync(core, original + planted);
  const compile = spawnSync(
    NODE24.bin,
    [
      "--input-type=module",
      "-e",
      `import m from "node:module"; m.enableCompileCache(${JSON.stringify(cacheOf(pkg))});` +
        `await import(${JSON.stringify(pathToFileURL(core).href)}); m.flushCompileCache();`,
    ],
    { encoding: "utf8" },
  );
  expect(compile.status, compile.stderr).toBe(0);
  writeFileSync(core, original + filler);
  const [plantedCrc, realCrc] = [crc32(original + planted), crc32(original + filler)];
  let patched = 0;
  const cache = cacheOf(pkg);
  for (const name of readdirSync(cache, { recursive: true, encoding: "utf8" })) {
    const path = join(cache, name);
    if (!statSync(path).isFile()) continue;
    const bytes = readFileSync(path);
    const header = new Uint32Array(bytes.buffer, bytes.byteOffset, 5);
    // magic, code size, cache size, code CRC, cache CRC (as Node 24 writes them)
    if (header[3] === plantedCrc) {
      header[3] = realCrc;
      patched++;
    }
    writeFileSync(path, bytes);
    chmodSync(path, 0o644);
  }
  expect(patched).toBe(1);
  chmodSync(cache, 0o755);
  for (const name of readdirSync(cache)) chmodSync(join(cache, name), 0o755);
}

describe.skipIf(!isRoot)("secretwrap's compile cache", () => {
  let pkg = "";
  let baseline: Shown;
  beforeAll(() => {
    pkg = makePackage();
    baseline = run(pkg);
    expect(baseline.status, baseline.stderr).toBe(0);
    expect(JSON.parse(baseline.stdout)).toEqual({
      a: secrets.a.length,
      b: secrets.b.length,
      NODE_COMPILE_CACHE: null,
      cacheDir: null,
    });
  });

  const fresh = (): void => rmSync(cacheOf(pkg), { recursive: true, force: true });

  describe("whatever state it is in, a run shows the same as with none", () => {
    it("warm", () => {
      fresh();
      warm(pkg);
      expect(run(pkg)).toEqual(baseline);
    });

    it.each([
      ["random bytes, same size", (b: Buffer) => Buffer.from(b.map(() => Math.floor(Math.random() * 256)))],
      [
        "a valid header over random bytes",
        (b: Buffer) => Buffer.concat([b.subarray(0, 20), Buffer.alloc(b.length - 20, 0x5a)]),
      ],
      ["cut short", (b: Buffer) => b.subarray(0, 7)],
      ["empty", () => Buffer.alloc(0)],
    ])("corrupt: every entry is %s", (_label, corrupt) => {
      fresh();
      warm(pkg);
      const cache = cacheOf(pkg);
      for (const name of Object.keys(entriesOf(cache))) {
        const path = join(cache, name);
        writeFileSync(path, corrupt(readFileSync(path)));
      }
      expect(run(pkg)).toEqual(baseline);
    });

    it("stale: warmed for an older dist/ (every module has changed since)", () => {
      const stale = makePackage();
      warm(stale);
      const before = run(stale);
      for (const name of readdirSync(join(stale, "dist"), { recursive: true, encoding: "utf8" })) {
        if (name.endsWith(".js")) writeFileSync(join(stale, "dist", name), "\n// rebuilt\n", { flag: "a" });
      }
      expect(run(stale)).toEqual(before);
      expect(before).toEqual(baseline);
    });

    it("read-only: filled by root for the user that runs secretwrap, who cannot write it", () => {
      const shared = makePackage();
      const asOther = run(shared, { uid: OTHER_UID });
      expect(asOther.status, asOther.stderr).toBe(0);
      warm(shared, [OTHER_UID]);
      const entries = entriesOf(cacheOf(shared));
      expect(readdirSync(cacheOf(shared)).filter((dir) => dir.endsWith(`-${OTHER_UID}`))).toHaveLength(1);
      expect(run(shared, { uid: OTHER_UID })).toEqual(asOther);
      // Stale for that user: Node cannot write the new entries, and says nothing.
      writeFileSync(join(shared, "dist/core.js"), "\n// rebuilt\n", { flag: "a" });
      expect(run(shared, { uid: OTHER_UID })).toEqual(asOther);
      expect(entriesOf(cacheOf(shared))).toEqual(entries);
    });
  });

  describe("a cache someone else could have written is never used", () => {
    const planted = join(work, "planted");
    let target = "";
    beforeAll(() => {
      target = makePackage();
      plantEntry(target);
      cpSync(cacheOf(target), planted, { recursive: true });
    });
    const replant = (): string => {
      rmSync(cacheOf(target), { recursive: true, force: true });
      cpSync(planted, cacheOf(target), { recursive: true });
      return cacheOf(target);
    };
    const versionDir = (cache: string): string => join(cache, readdirSync(cache)[0] ?? "");
    const entry = (cache: string): string => {
      const dir = versionDir(cache);
      return join(dir, readdirSync(dir)[0] ?? "");
    };

    it("control: the planted entry runs when the cache is trusted (root's, 0755/0644)", () => {
      replant();
      const shown = run(target);
      expect(shown.stderr).toContain(MARKER);
    });

    it.each([
      ["the cache dir is group-writable", (c: string) => chmodSync(c, 0o775)],
      ["the cache dir is world-writable (sticky)", (c: string) => chmodSync(c, 0o1777)],
      ["the per-version dir is world-writable", (c: string) => chmodSync(versionDir(c), 0o777)],
      ["an entry is group-writable", (c: string) => chmodSync(entry(c), 0o664)],
      ["the cache dir belongs to another user", (c: string) => chownSync(c, OTHER_UID, OTHER_UID)],
      ["an entry belongs to another user", (c: string) => chownSync(entry(c), OTHER_UID, OTHER_UID)],
      [
        "the cache dir is a symlink to the planted cache",
        (c: string) => {
          rmSync(c, { recursive: true });
          symlinkSync(planted, c);
        },
      ],
    ])("%s: not used, the run shows what it shows without one", (_label, weaken) => {
      weaken(replant());
      const shown = run(target);
      expect(shown.stderr).not.toContain(MARKER);
      expect(shown).toEqual(baseline);
    });
  });

  describe("the app never uses secretwrap's cache", () => {
    const paths = [
      ...START_PATHS.map((p) => ({ label: p.label, options: { node: p.node, extra: p.extra } })),
      { label: "node24 --watch", options: { extra: ["--watch"] } },
      {
        label: "node24 started again without NODE_OPTIONS",
        options: { env: { NODE_OPTIONS: "--no-deprecation" } },
      },
      ...NODES.filter((n) => !n.hasExecve).map((node) => ({
        label: `${node.name} started again without NODE_OPTIONS`,
        options: { node, env: { NODE_OPTIONS: "--no-deprecation" } },
      })),
    ];

    it.each(paths)("$label", ({ options }) => {
      fresh();
      warm(pkg);
      const before = Object.keys(entriesOf(cacheOf(pkg)));
      const shown = run(pkg, options);
      expect(shown.status, shown.stderr).toBe(0);
      const app = JSON.parse(shown.stdout) as Record<string, unknown>;
      expect(app).toMatchObject({ NODE_COMPILE_CACHE: null, cacheDir: null });
      // Its script would have an entry of its own there.
      expect(Object.keys(entriesOf(cacheOf(pkg)))).toEqual(before);
    });
  });
});
