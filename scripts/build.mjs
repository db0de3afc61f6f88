// One ESM bundle with a lazily loaded chunk per provider (and per SDK), so a run loads only what it
// uses and the published package needs no runtime dependencies.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";

const require = createRequire(import.meta.url);

// An ESM `import … from "node:http"` makes Node build the builtin's full ES namespace, which loads
// undici and costs ~35 ms at start-up; require() of the same builtin costs next to nothing. So every
// builtin an ESM module of the bundle imports is served by a small shim over require().
const builtinsThroughRequire = {
  name: "builtins-through-require",
  setup(build) {
    const builtin = new RegExp(
      `^(node:)?(${builtinModules.map((m) => m.replace(/[/]/g, "\\/")).join("|")})$`,
    );
    build.onResolve({ filter: builtin }, (args) =>
      args.kind === "import-statement" || args.kind === "dynamic-import"
        ? { path: args.path.replace(/^node:/, ""), namespace: "builtin-shim" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "builtin-shim" }, (args) => {
      const names = Object.keys(require(`node:${args.path}`)).filter(
        (n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default",
      );
      return {
        contents: `const m = process.getBuiltinModule("node:${args.path}");\nexport default m;\nexport const { ${names.join(", ")} } = m;\n`,
        loader: "js",
      };
    });
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
