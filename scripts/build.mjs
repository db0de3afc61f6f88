// ESM bundles with a lazily loaded bundle per provider (and chunks per SDK), so a run loads only what
// it uses and the published package needs no runtime dependencies.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { banner } from "./esbuild/banner.mjs";
import { buildStamp } from "./esbuild/build-stamp.mjs";
import { builtinsThroughRequire } from "./esbuild/builtins.mjs";
import { externalize } from "./esbuild/externalize.mjs";
import { buildOptions } from "./esbuild/options.mjs";
import { ownBundles, providersOutsideCore, registryWithExtra } from "./providers.mjs";

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
// --outdir, --plain, --without: see scripts/esbuild/options.mjs.
const { outdir, sdkPatches } = buildOptions(process.argv.slice(2));
const SRC = join(REPO, "src");
const CORE = join(SRC, "core.ts");
/** The one src/ module a provider imports (eslint.config.js); core.ts re-exports it. */
const PROVIDER_API = join(SRC, "provider-api.ts");

// Three kinds of output, so that a run loads two files (bin.js, core.js) before its first provider
// instead of a dozen small shared chunks (each costs the ESM loader ~0.6 ms):
//   dist/bin.js        the entry: installs the signal handlers, then imports core.js
//   dist/core.js       all of src/ (the file provider too), in one file
//   dist/yaml.js       the YAML parser, only for runs with a config file
//   dist/providers/    one bundle per SDK provider (with lazily loaded SDK chunks), importing
//                      secretwrap's own code from ../core.js
//   dist/warm-compile-cache.js  fills the compile cache beside dist/ at install or image build
//                      (src/launch/warm-compile-cache.ts); never loaded by a run
const common = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: process.env.SECRETWRAP_BUILD_DEBUG === undefined,
  define: buildStamp(REPO),
  legalComments: "linked",
  // require, __dirname and __filename for the CommonJS dependencies (see banner.mjs).
  banner,
  logLevel: "warning",
};

rmSync(outdir, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { bin: "src/bin.ts", "warm-compile-cache": "src/launch/warm-compile-cache.ts" },
  outdir,
  plugins: [
    builtinsThroughRequire,
    externalize("core", /core\.ts$/, (path) => (path === CORE ? "./core.js" : undefined)),
  ],
});
const core = await build({
  ...common,
  metafile: true,
  entryPoints: { core: CORE },
  outdir,
  plugins: [
    builtinsThroughRequire,
    registryWithExtra,
    providersOutsideCore,
    externalize("yaml", /^yaml$/, () => "./yaml.js"),
  ],
});
const coreInputs = new Set(Object.keys(core.metafile.inputs).map((input) => resolve(REPO, input)));
await build({
  ...common,
  stdin: {
    contents: 'import yaml from "yaml"; export default yaml;',
    resolveDir: REPO,
    sourcefile: "yaml-entry.js",
  },
  outfile: join(outdir, "yaml.js"),
  plugins: [builtinsThroughRequire],
});
await build({
  ...common,
  entryPoints: Object.fromEntries(ownBundles.map((p) => [p.scheme, join(p.dir, "index.ts")])),
  outdir: join(outdir, "providers"),
  splitting: true,
  // Beside the provider files: an external import ("../core.js") is written as is, so every file
  // that may hold one must sit one level below dist/.
  chunkNames: "[name]-[hash]",
  plugins: [
    builtinsThroughRequire,
    // Edits of SDK source: scripts/esbuild/sdk-patches/README.md.
    ...sdkPatches,
    externalize("core", /^\./, (path, args) => {
      if (!path.startsWith(SRC + "/")) return undefined;
      if (path === PROVIDER_API) return "../core.js";
      // A copy of anything core.js holds would be a second SecretwrapError class, or a second cache.
      if (coreInputs.has(path)) {
        throw new Error(
          `${args.importer} imports ${path}: a provider imports src/ only through provider-api.ts`,
        );
      }
      return undefined;
    }),
  ],
});
