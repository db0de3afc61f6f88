// An ESM `import … from "node:http"` makes Node build the builtin's full ES namespace, reading every
// export (node:http's load undici: ~35 ms at start-up; node:fs's load its streams). So every builtin an
// ESM module of the bundle imports is served by a small shim over process.getBuiltinModule().
// Builtins that CommonJS dependencies require() at load time but call only on rare paths: commander
// requires child_process for git-style subcommands we never use, and child_process alone brings in
// net, streams, dgram and readline (~5 ms of start-up). They load on first property access instead.
// (secretwrap's own use, in --supervise mode, sits in modules that are themselves imported lazily.)
import { builtinModules } from "node:module";

const LOADED_ON_FIRST_USE = new Set(["child_process"]);

const builtinOf = (args) => args.path.slice(args.path.lastIndexOf("|") + 1);

export const builtinsThroughRequire = {
  name: "builtins-through-require",
  setup(build) {
    const builtin = new RegExp(
      `^(node:)?(${builtinModules.map((m) => m.replace(/[/]/g, "\\/")).join("|")})$`,
    );
    build.onResolve({ filter: builtin }, (args) => {
      const name = args.path.replace(/^node:/, "");
      const esm = args.kind === "import-statement" || args.kind === "dynamic-import";
      // One shim per importing file: a shim shared by two provider bundles would become a chunk
      // file of its own, and every file costs the ESM loader about half a millisecond.
      const path = `${args.importer}|${name}`;
      if (LOADED_ON_FIRST_USE.has(name) && !esm) return { path, namespace: "builtin-on-first-use" };
      return esm ? { path, namespace: "builtin-shim" } : undefined;
    });
    // A CommonJS shim: esbuild then turns each named import into a property access at its use site,
    // so the builtin's lazy getters (fs.promises, fs.ReadStream, …) run only if really used.
    build.onLoad({ filter: /.*/, namespace: "builtin-shim" }, (args) => ({
      contents: `module.exports = process.getBuiltinModule("node:${builtinOf(args)}");\n`,
      loader: "js",
    }));
    // An object whose every property access loads the builtin.
    build.onLoad({ filter: /.*/, namespace: "builtin-on-first-use" }, (args) => ({
      contents: [
        `const load = () => process.getBuiltinModule("node:${builtinOf(args)}");`,
        "module.exports = new Proxy({}, { get: (_, key) => load()[key] });",
      ].join("\n"),
      loader: "js",
    }));
  },
};
