// secretwrap's own compile cache (DESIGN.md §9): V8 code compiled from dist/, kept in
// `.compile-cache` beside dist/ (filled at install or image build by dist/warm-compile-cache.js), so a
// start skips most of the parsing of core.js and of a provider's SDK chunks. Enabled from secretwrap's
// own code with module.enableCompileCache, never through NODE_COMPILE_CACHE: an environment variable
// would reach the app, and this call changes nothing outside this process.
//
// A cache entry is code this process runs. Node and V8 check it against the source only loosely (a
// CRC of the source and its length), so whoever can write the cache can make secretwrap run code of
// their choosing, with every secret in reach. It is used only when nobody but the owner of dist/ (or
// root) could have written anything in it: every directory and file in it owned by root or by dist/'s
// owner, none writable by group or others, no symlink. Otherwise, and when it is missing, unreadable,
// corrupt or stale, secretwrap starts without it, silently: the cache only ever saves time.
import { lstatSync, readdirSync, statSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The cache directory's name, beside dist/ (not in the package's `files`: never published). */
export const COMPILE_CACHE_DIR = ".compile-cache";

/** More entries than this is not a cache dist/warm-compile-cache.js made: not worth the walk. */
const MAX_ENTRIES = 256;

/** dist/ of the running bundle, from the URL of one of its files (dist/bin.js). */
export function distDirOf(moduleUrl: string): string {
  return dirname(fileURLToPath(moduleUrl));
}

export function compileCacheDirOf(distDir: string): string {
  return join(dirname(distDir), COMPILE_CACHE_DIR);
}

/** Owned by someone the code already trusts, writable by nobody else, not a symlink. */
function safeEntry(stat: Stats, owners: ReadonlySet<number>): boolean {
  return !stat.isSymbolicLink() && owners.has(stat.uid) && (stat.mode & 0o022) === 0;
}

/**
 * Whether the cache at `dir` can be trusted as much as the code in `distDir`: the directory, and all
 * that this user's Node would read in it (its subdirectories for user id `uid`: Node keeps one per Node
 * version, V8 flags and user, with one file per module), owned by root or by dist/'s owner and writable
 * by no one else. Another user's subdirectories are never read. Any error (missing, unreadable) is a no.
 */
export function trustedCompileCache(dir: string, distDir: string, uid: number): boolean {
  try {
    const owners = new Set([0, statSync(distDir).uid]);
    if (!safeEntry(lstatSync(dir), owners)) return false;
    const pending = readdirSync(dir)
      .filter((name) => name.endsWith(`-${uid}`))
      .map((name) => join(dir, name));
    let seen = 0;
    for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
      const stat = lstatSync(path);
      if (!safeEntry(stat, owners) || ++seen > MAX_ENTRIES) return false;
      if (stat.isDirectory()) pending.push(...readdirSync(path).map((name) => join(path, name)));
      else if (!stat.isFile()) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns Node's compile cache on for this process when the bundle's cache is there and trusted. Costs
 * nothing where it cannot help: Node without module.enableCompileCache (before 22.1), the single
 * executable (its code is in its own V8 code cache, build-sea.mjs), no cache directory.
 */
export function enableOwnCompileCache(moduleUrl: string): void {
  const { enableCompileCache } = process.getBuiltinModule("node:module");
  // Node 20 has no such function (typed as always present by @types/node 24).
  if (typeof enableCompileCache !== "function") return;
  if (process.getBuiltinModule("node:sea")?.isSea() === true) return;
  const distDir = distDirOf(moduleUrl);
  const dir = compileCacheDirOf(distDir);
  // Node names its directories after getuid(), POSIX only: elsewhere, no cache.
  const uid = process.getuid?.();
  if (uid === undefined || !trustedCompileCache(dir, distDir, uid)) return;
  try {
    // A cache Node cannot use (unwritable, another Node's) comes back as a status, never as output.
    enableCompileCache(dir);
  } catch {
    // start without it
  }
}
