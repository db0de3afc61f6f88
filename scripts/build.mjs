// One ESM bundle with a lazily loaded chunk per provider (and per SDK), so a run loads only what it
// uses and the published package needs no runtime dependencies.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { builtinModules } from "node:module";

// An ESM `import … from "node:http"` makes Node build the builtin's full ES namespace, reading every
// export (node:http's load undici: ~35 ms at start-up; node:fs's load its streams). So every builtin an
// ESM module of the bundle imports is served by a small shim over process.getBuiltinModule().
// Builtins that CommonJS dependencies require() at load time but call only on rare paths: commander
// requires child_process for git-style subcommands we never use, and child_process alone brings in
// net, streams, dgram and readline (~5 ms of start-up). They load on first property access instead.
const LOADED_ON_FIRST_USE = new Set(["child_process"]);

const builtinsThroughRequire = {
  name: "builtins-through-require",
  setup(build) {
    const builtin = new RegExp(
      `^(node:)?(${builtinModules.map((m) => m.replace(/[/]/g, "\\/")).join("|")})$`,
    );
    build.onResolve({ filter: builtin }, (args) => {
      const name = args.path.replace(/^node:/, "");
      if (args.kind === "import-statement" || args.kind === "dynamic-import") {
        return { path: name, namespace: "builtin-shim" };
      }
      return args.kind === "require-call" && LOADED_ON_FIRST_USE.has(name)
        ? { path: name, namespace: "builtin-on-first-use" }
        : undefined;
    });
    // A CommonJS shim: esbuild then turns each named import into a property access at its use site,
    // so the builtin's lazy getters (fs.promises, fs.ReadStream, …) run only if really used.
    build.onLoad({ filter: /.*/, namespace: "builtin-shim" }, (args) => ({
      contents: `module.exports = process.getBuiltinModule("node:${args.path}");\n`,
      loader: "js",
    }));
    build.onLoad({ filter: /.*/, namespace: "builtin-on-first-use" }, (args) => ({
      contents: [
        `const load = () => process.getBuiltinModule("node:${args.path}");`,
        "module.exports = new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });",
      ].join("\n"),
      loader: "js",
    }));
  },
};

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: { bin: "src/bin.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: process.env.SECRETWRAP_BUILD_DEBUG === undefined,
  legalComments: "linked",
  chunkNames: "chunks/[name]-[hash]",
  // CommonJS dependencies call require() and read __dirname/__filename (google-gax does so when it
  // loads); give every ESM chunk real ones.
  banner: {
    // process.getBuiltinModule (Node ≥ 20.16) instead of ESM imports of builtins, which are slower.
    js: [
      'const require = process.getBuiltinModule("node:module").createRequire(import.meta.url);',
      'const __filename = process.getBuiltinModule("node:url").fileURLToPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(" "),
  },
  plugins: [builtinsThroughRequire],
  logLevel: "warning",
});
