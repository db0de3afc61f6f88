// npm run build:sea: a single executable (Node SEA) for images that have no Node at all.
//
//   1. esbuild bundles src/bin.ts into ONE CommonJS file: Node 24's SEA runs its main script as
//      CommonJS only (an ES module main, `mainFormat`, is not in Node 24), and its embedded `require`
//      loads built-in modules only, so every dependency and provider is inlined. Providers stay lazy:
//      esbuild turns their `import()` into an init function that runs only when a provider is used.
//   2. `node --experimental-sea-config` writes the preparation blob, with a V8 code cache
//      (`useCodeCache`) and `execArgvExtension: "none"`: NODE_OPTIONS is ignored by the executable
//      itself (a `--require` preload or `--inspect` in it never runs inside the process that holds the
//      secrets) and secretwrap hands it to the app unchanged. Node's other start-up knobs
//      (NODE_DEBUG, NODE_EXTRA_CA_CERTS, …) are handled by src/bin.ts's first call, as in the bundle:
//      src/launch/relaunch.ts re-executes the executable without them.
//   3. postject injects the blob into a copy of the same Node binary. Never `strip` the result: it
//      crashes afterwards.
//
// Output: dist-sea/secretwrap (about 120 MB; the Node binary is most of it). Intermediate files go to
// .cache/sea/. `--if-stale` skips the build when the executable is newer than every input (the test
// suites call it that way, under a lock, so one run builds at most once).
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildStamp } from "./esbuild/build-stamp.mjs";
import { googleGaxRestOnly } from "./esbuild/sdk-patches/google-gax-rest-only.mjs";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = join(REPO, "dist-sea");
const OUT = join(OUT_DIR, "secretwrap");
const WORK = join(REPO, ".cache", "sea");
// The blob must be made by the very Node binary it is injected into.
const HOST_NODE = realpathSync(process.env.SECRETWRAP_SEA_NODE ?? join(REPO, "node_modules/node/bin/node"));
const FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

function newestInput() {
  let newest = 0;
  const walk = (path) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const path of ["src", "providers", "package-lock.json", "scripts/build-sea.mjs", "scripts/esbuild"])
    walk(join(REPO, path));
  return Math.max(newest, statSync(HOST_NODE).mtimeMs);
}

function isFresh() {
  try {
    return statSync(OUT).mtimeMs > newestInput();
  } catch {
    return false;
  }
}

/**
 * src/bin.ts uses top-level await, which a CommonJS bundle cannot have. Keep its leading import
 * declarations and run the rest of it, unchanged, inside an async function. The entry stays the one
 * real src/bin.ts; if its shape ever changes so this no longer applies, the build fails here.
 */
const wrapTopLevelAwait = {
  name: "sea-entry",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]bin\.ts$/ }, (args) => {
      const lines = readFileSync(args.path, "utf8").split("\n");
      let i = 0;
      const head = [];
      while (i < lines.length) {
        const line = lines[i] ?? "";
        if (line.trim() === "" || line.startsWith("//")) {
          head.push(line);
          i++;
        } else if (line.startsWith("import ")) {
          // One declaration, possibly over several lines, ends with `;`.
          while (i < lines.length && !(lines[i] ?? "").trimEnd().endsWith(";")) head.push(lines[i++] ?? "");
          head.push(lines[i++] ?? "");
        } else break;
      }
      const body = lines.slice(i).join("\n");
      if (/^\s*(export|import)\s/m.test(body)) {
        throw new Error("src/bin.ts: an import/export after its first statement; update build-sea.mjs");
      }
      return {
        contents: `${head.join("\n")}\nvoid (async () => {\n${body}\n})();\n`,
        loader: "ts",
        resolveDir: dirname(args.path),
      };
    });
  },
};

if (process.argv.includes("--if-stale") && isFresh()) {
  console.log(`build-sea: ${OUT} is up to date`);
  process.exit(0);
}

const started = Date.now();
mkdirSync(WORK, { recursive: true });
mkdirSync(OUT_DIR, { recursive: true });
// Not a .js/.cjs name: `eslint .` would lint a bundle left under .cache/.
const bundle = join(WORK, "sea-main.bundle");
const blob = join(WORK, "sea-prep.blob");

await build({
  entryPoints: [join(REPO, "src/bin.ts")],
  outfile: bundle,
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node24",
  minify: true,
  legalComments: "eof",
  // A few dependencies `import()` Node built-ins (the AWS SDK's IMDS client imports node:http). In an
  // executable with a code cache `import()` throws, so esbuild turns every `import()` into require().
  supported: { "dynamic-import": false },
  // `import.meta.url` is empty in CommonJS; code that derives a path from it (createRequire in some
  // SDK builds) gets the executable's own path instead.
  define: { "import.meta.url": "__swImportMetaUrl", ...buildStamp(REPO) },
  banner: { js: 'var __swImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  // The same google-gax module graph as the bundle (scripts/esbuild/sdk-patches/google-gax-rest-only.mjs).
  plugins: [wrapTopLevelAwait, googleGaxRestOnly],
  logLevel: "warning",
});

const config = join(WORK, "sea-config.json");
writeFileSync(
  config,
  JSON.stringify(
    {
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: true,
      execArgvExtension: "none",
    },
    null,
    2,
  ),
);
execFileSync(HOST_NODE, ["--experimental-sea-config", config], { stdio: ["ignore", "ignore", "inherit"] });

const tmp = `${OUT}.${process.pid}.tmp`;
copyFileSync(HOST_NODE, tmp);
chmodSync(tmp, 0o755);
const { inject } = createRequire(import.meta.url)("postject");
// postject prints harmless "Can't find string offset for section name '.note…'" warnings on Linux.
const warn = console.warn;
console.warn = () => {};
try {
  await inject(tmp, "NODE_SEA_BLOB", readFileSync(blob), { sentinelFuse: FUSE });
} finally {
  console.warn = warn;
}

// A broken executable must not be published: it has to start and report its version.
const version = execFileSync(tmp, ["version"], { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } }).trim();
renameSync(tmp, OUT);
rmSync(blob, { force: true });
rmSync(bundle, { force: true });
const size = (statSync(OUT).size / 1024 / 1024).toFixed(1);
console.log(`build-sea: ${OUT} (${size} MiB, ${version}) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
