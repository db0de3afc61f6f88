// dist/warm-compile-cache.js: fills secretwrap's compile cache (compile-cache.ts) once, at install or
// image build, as the user that installed secretwrap (root in an image):
//
//   node /opt/secretwrap/dist/warm-compile-cache.js --uid 1000
//
// It compiles every module of dist/ (core, YAML parser, each provider and SDK chunk) with Node's compile
// cache on, writes the cache and makes it readable by everyone and writable by its owner only: the user
// that runs secretwrap later only reads it. Node keeps one subdirectory per user id (its name ends in
// getuid()), so the entries are copied for each --uid that will run secretwrap; without --uid, for this
// user only. Run it again after an upgrade of secretwrap or of Node (it starts from an empty cache).
import { chmodSync, cpSync, lstatSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { keepYoungGenerationSmall } from "../young-generation.ts";
import { compileCacheDirOf, distDirOf, trustedCompileCache } from "./compile-cache.ts";

function fail(message: string): never {
  process.stderr.write(`secretwrap: error: ${message}\n`);
  process.exit(1);
}

function uidsOf(args: readonly string[]): number[] {
  const uids: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const value = args[i] === "--uid" ? args[++i] : undefined;
    if (value === undefined || !/^[0-9]{1,10}$/.test(value) || Number(value) > 0xfffffffe) {
      fail("usage: node dist/warm-compile-cache.js [--uid N]... (N: a numeric user id)");
    }
    uids.push(Number(value));
  }
  return uids;
}

/** Every .js module under dist/ but the entry (dist/bin.js, which would run secretwrap) and this file. */
function modulesOf(distDir: string, skip: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const name of readdirSync(distDir, { recursive: true, encoding: "utf8" })) {
    const path = join(distDir, name);
    if (name.endsWith(".js") && !skip.has(name) && lstatSync(path).isFile()) found.push(path);
  }
  return found.sort();
}

/** Directories 0755, files 0644, whatever the umask and Node's 0600 made them. */
function makeReadOnlyForOthers(path: string): void {
  const directory = lstatSync(path).isDirectory();
  chmodSync(path, directory ? 0o755 : 0o644);
  if (directory) for (const name of readdirSync(path)) makeReadOnlyForOthers(join(path, name));
}

const { enableCompileCache, flushCompileCache, getCompileCacheDir, constants } =
  process.getBuiltinModule("node:module");
// enableCompileCache from Node 22.1, flushCompileCache from 22.10 (typed as always present).
if (typeof enableCompileCache !== "function" || typeof flushCompileCache !== "function") {
  process.stdout.write(`secretwrap: Node ${process.version} has no compile cache to fill; nothing done\n`);
  process.exit(0);
}
const uids = uidsOf(process.argv.slice(2));
const distDir = distDirOf(import.meta.url);
const dir = compileCacheDirOf(distDir);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { mode: 0o755 });
const enabled = enableCompileCache(dir);
// This user's subdirectory of it (…-<getuid()>).
const own = getCompileCacheDir();
if (enabled.status !== constants.compileCacheStatus.ENABLED || own === undefined) {
  fail(`could not use ${dir} as a compile cache: ${enabled.message ?? "unknown reason"}`);
}
const modules = modulesOf(distDir, new Set(["bin.js", "warm-compile-cache.js"]));
const inProviders = (path: string): boolean => path.startsWith(join(distDir, "providers") + "/");
/** A module that cannot be loaded on its own is left out of the cache; a run starts without its entry. */
const skipped: string[] = [];
const load = async (path: string): Promise<void> => {
  try {
    await import(pathToFileURL(path).href);
  } catch {
    skipped.push(relative(distDir, path));
  }
};
for (const path of modules.filter((p) => !inProviders(p))) await load(path);
// V8 keys its code cache by its flags too: a run sets this one just before it loads a provider bundle
// (src/provider.ts), so the bundles and their SDK chunks are compiled with it here as well.
keepYoungGenerationSmall();
for (const path of modules.filter(inProviders)) await load(path);
flushCompileCache();
// Copied under the name Node looks for when it runs as each other user.
const ownUid = process.getuid?.() ?? 0;
for (const uid of uids) {
  if (uid !== ownUid) cpSync(own, own.replace(/-[0-9]+$/, `-${uid}`), { recursive: true });
}
makeReadOnlyForOthers(dir);
if (![ownUid, ...uids].every((uid) => trustedCompileCache(dir, distDir, uid))) {
  fail(`${dir} is filled but secretwrap would not use it: run this as root or as the owner of ${distDir}`);
}
if (skipped.length > 0) {
  process.stderr.write(`secretwrap: warning: not cached (they did not load): ${skipped.join(", ")}\n`);
}
process.stdout.write(
  `secretwrap: compile cache filled: ${dir} (${modules.length - skipped.length} modules, user ids ${[...new Set([ownUid, ...uids])].join(", ")})\n`,
);
