// Which compile caches secretwrap trusts (src/launch/compile-cache.ts): everything in one owned by root
// or by dist/'s owner and writable by no one else, no symlink, nothing but directories and files. The
// rule over every combination of modes and owners of a cache laid out as Node lays it out (a
// directory per Node version and uid, one file per module; only this user's is read), and the other
// shapes by example. Owners
// other than the test's own user need root (the CI and the sandbox run as root).
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  COMPILE_CACHE_DIR,
  compileCacheDirOf,
  distDirOf,
  trustedCompileCache,
} from "../../../src/launch/compile-cache.ts";

const root = mkdtempSync(join(tmpdir(), "secretwrap-compile-cache-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const UID = process.getuid?.() ?? 0;
const isRoot = UID === 0;
const OTHER_UID = 65534;
let cases = 0;

interface Layout {
  readonly dist: string;
  readonly cache: string;
  /** The cache dir, its per-version dir, two entries: each gets a mode and an owner. */
  readonly paths: readonly string[];
}

function layout(): Layout {
  const pkg = join(root, `pkg${cases++}`);
  const dist = join(pkg, "dist");
  mkdirSync(dist, { recursive: true });
  const cache = compileCacheDirOf(dist);
  const version = join(cache, `v24.0.0-x64-00000000-${UID}`);
  mkdirSync(version, { recursive: true });
  const entries = ["0a1b2c3d", "4e5f6a7b"].map((name) => join(version, name));
  for (const entry of entries) writeFileSync(entry, "entry");
  return { dist, cache, paths: [cache, version, ...entries] };
}

describe("where the cache is", () => {
  it("is .compile-cache beside dist/, found from the URL of a dist/ file", () => {
    const dist = distDirOf("file:///opt/secretwrap/dist/bin.js");
    expect(dist).toBe("/opt/secretwrap/dist");
    expect(compileCacheDirOf(dist)).toBe(`/opt/secretwrap/${COMPILE_CACHE_DIR}`);
  });
});

describe("a cache is trusted only if nobody but root or dist/'s owner could have written it", () => {
  it("every combination of modes: trusted exactly when no group- or other-writable bit is set", () => {
    const mode = fc.integer({ min: 0o400, max: 0o777 }).map((m) => m | 0o700);
    fc.assert(
      fc.property(fc.tuple(mode, mode, mode, mode), (modes) => {
        const { dist, cache, paths } = layout();
        paths.forEach((path, i) => chmodSync(path, modes[i] ?? 0o755));
        const expected = modes.every((m) => (m & 0o022) === 0);
        expect(trustedCompileCache(cache, dist, UID)).toBe(expected);
      }),
      { numRuns: 60 },
    );
  });

  it.runIf(isRoot)("every combination of owners: trusted exactly when each is root or dist/'s owner", () => {
    const owner = fc.constantFrom(0, OTHER_UID, 4242);
    fc.assert(
      fc.property(owner, fc.tuple(owner, owner, owner, owner), (distOwner, owners) => {
        const { dist, cache, paths } = layout();
        chownSync(dist, distOwner, distOwner);
        for (const path of paths) chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
        paths.forEach((path, i) => chownSync(path, owners[i] ?? 0, 0));
        const expected = owners.every((uid) => uid === 0 || uid === distOwner);
        expect(trustedCompileCache(cache, dist, UID)).toBe(expected);
      }),
      { numRuns: 60 },
    );
  });

  it("a missing cache, or a missing dist/, is not trusted (and does not throw)", () => {
    const { dist, cache } = layout();
    expect(trustedCompileCache(join(cache, "nothing"), dist, UID)).toBe(false);
    expect(trustedCompileCache(cache, join(dist, "nothing"), UID)).toBe(false);
  });

  it("a cache dir that is a symlink (even to a good cache) is not trusted", () => {
    const { dist, cache } = layout();
    const link = join(dist, "..", "linked-cache");
    symlinkSync(cache, link);
    expect(trustedCompileCache(cache, dist, UID)).toBe(true);
    expect(trustedCompileCache(link, dist, UID)).toBe(false);
  });

  it("an entry that is a symlink or a FIFO is not trusted", () => {
    const link = layout();
    symlinkSync("/etc/hostname", join(link.paths[1] ?? "", "deadbeef"));
    expect(trustedCompileCache(link.cache, link.dist, UID)).toBe(false);
    const fifo = layout();
    execFileSync("mkfifo", [join(fifo.paths[1] ?? "", "deadbeef")]);
    expect(trustedCompileCache(fifo.cache, fifo.dist, UID)).toBe(false);
  });

  it("only this user's directories count: Node never reads another user's", () => {
    const { dist, cache, paths } = layout();
    const other = join(cache, `v24.0.0-x64-00000000-${UID + 1}`);
    mkdirSync(other);
    writeFileSync(join(other, "0a1b2c3d"), "entry");
    chmodSync(join(other, "0a1b2c3d"), 0o666);
    chmodSync(other, 0o777);
    expect(trustedCompileCache(cache, dist, UID)).toBe(true);
    expect(trustedCompileCache(cache, dist, UID + 1)).toBe(false);
    chmodSync(paths[1] ?? "", 0o777);
    expect(trustedCompileCache(cache, dist, UID)).toBe(false);
  });

  it("a cache with more entries than a warm step makes is not walked", () => {
    const { dist, cache, paths } = layout();
    for (let i = 0; i < 300; i++) writeFileSync(join(paths[1] ?? "", `e${i}`), "");
    expect(trustedCompileCache(cache, dist, UID)).toBe(false);
  });
});
