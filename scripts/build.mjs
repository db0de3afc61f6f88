// ESM bundles with a lazily loaded bundle per provider (and chunks per SDK), so a run loads only what
// it uses and the published package needs no runtime dependencies.
import { build } from "esbuild";
import { readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gaxRestOnly } from "./gax-rest.mjs";

// An ESM `import … from "node:http"` makes Node build the builtin's full ES namespace, reading every
// export (node:http's load undici: ~35 ms at start-up; node:fs's load its streams). So every builtin an
// ESM module of the bundle imports is served by a small shim over process.getBuiltinModule().
// Builtins that modules import or require() at load time but call only on rare paths: commander
// requires child_process for git-style subcommands we never use, and secretwrap itself spawns only in
// --supervise mode; child_process alone brings in net, streams, dgram and readline (~5 ms of
// start-up). They load on first property access instead.
const LOADED_ON_FIRST_USE = new Set(["child_process"]);

const builtinOf = (args) => args.path.slice(args.path.lastIndexOf("|") + 1);

const builtinsThroughRequire = {
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
      if (LOADED_ON_FIRST_USE.has(name) && !esm) return { path, namespace: "builtin-first-use-cjs" };
      // Our own named imports only: dependencies also import the default, which cannot be lazy.
      if (LOADED_ON_FIRST_USE.has(name) && !args.importer.includes("/node_modules/")) {
        return { path, namespace: "builtin-first-use-esm" };
      }
      return esm ? { path, namespace: "builtin-shim" } : undefined;
    });
    // A CommonJS shim: esbuild then turns each named import into a property access at its use site,
    // so the builtin's lazy getters (fs.promises, fs.ReadStream, …) run only if really used.
    build.onLoad({ filter: /.*/, namespace: "builtin-shim" }, (args) => ({
      contents: `module.exports = process.getBuiltinModule("node:${builtinOf(args)}");\n`,
      loader: "js",
    }));
    const load = (name) => `const load = () => process.getBuiltinModule("node:${name}");`;
    // For require(): an object whose every property access loads the builtin.
    build.onLoad({ filter: /.*/, namespace: "builtin-first-use-cjs" }, (args) => ({
      contents: `${load(builtinOf(args))}\nmodule.exports = new Proxy({}, { get: (_, key) => load()[key] });\n`,
      loader: "js",
    }));
    // For ESM imports (which esbuild reads through a namespace copy, so no proxy): each function the
    // builtin exports, as a wrapper. Importing anything else (a class, a constant) fails the build.
    build.onLoad({ filter: /.*/, namespace: "builtin-first-use-esm" }, (args) => {
      const functions = Object.entries(process.getBuiltinModule(`node:${builtinOf(args)}`))
        .filter(([name, value]) => typeof value === "function" && /^[a-z]/.test(name))
        .map(([name]) => `export const ${name} = (...args) => load().${name}(...args);`);
      return { contents: [load(builtinOf(args)), ...functions].join("\n"), loader: "js" };
    });
  },
};

// CommonJS packages that a dependency imports when it loads but calls only on paths secretwrap rarely
// takes: @azure/msal-node imports jsonwebtoken (which loads semver and parses ranges at once) only to
// sign client-certificate assertions. Served to that importer as a proxy that loads the package on
// first property access (~7 ms of every Azure run). Every other importer gets the package as usual.
const LAZY_FOR = { jsonwebtoken: /[\\/]node_modules[\\/]@azure[\\/]msal-node[\\/]/ };

const lazyPackages = {
  name: "lazy-packages",
  setup(build) {
    const names = new RegExp(`^(${Object.keys(LAZY_FOR).join("|")})$`);
    build.onResolve({ filter: names }, (args) => {
      if (args.namespace === "lazy-package" || !LAZY_FOR[args.path].test(args.importer)) return undefined;
      return { path: args.path, namespace: "lazy-package", pluginData: { resolveDir: args.resolveDir } };
    });
    build.onLoad({ filter: /.*/, namespace: "lazy-package" }, (args) => ({
      contents: [
        `const load = () => require(${JSON.stringify(args.path)});`,
        "module.exports = new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });",
      ].join("\n"),
      loader: "js",
      resolveDir: args.pluginData.resolveDir,
    }));
  },
};

// axios (Vault's HTTP client) reads globalThis.fetch, Request, Response and FormData when it loads: its
// fetch adapter and its FormData checks. In Node those globals are lazy getters that load undici, which
// costs a Vault run ~30 ms for a client that only ever uses its http adapter here. These two edits
// remove the reads; the build fails if axios no longer has the code they expect.
const AXIOS_EDITS = [
  {
    file: /node_modules\/axios\/lib\/adapters\/fetch\.js$/,
    replace: /^[\s\S]*$/,
    with: "export const getFetch = () => false;\nexport default false;\n",
  },
  {
    file: /node_modules\/axios\/lib\/utils\.js$/,
    replace: "typeof G.FormData !== 'undefined' ? G.FormData : undefined",
    with: "undefined",
  },
];

const axiosWithoutWebFetch = {
  name: "axios-without-web-fetch",
  setup(build) {
    // node-vault's require("axios") would bundle axios's CommonJS build, a second copy with the same
    // reads; it never calls it (our transport replaces its HTTP layer), so it gets the one ESM copy.
    build.onResolve({ filter: /^axios$/ }, () => ({ path: join(REPO, "node_modules/axios/index.js") }));
    const applied = new Set();
    for (const edit of AXIOS_EDITS) {
      build.onLoad({ filter: edit.file }, (args) => {
        const source = readFileSync(args.path, "utf8");
        const edited = source.replace(edit.replace, edit.with);
        if (edited === source) throw new Error(`axios changed: ${args.path} no longer has ${edit.replace}`);
        applied.add(edit);
        return { contents: edited, loader: "js" };
      });
    }
    build.onEnd((result) => {
      if (result.errors.length === 0 && applied.size !== AXIOS_EDITS.length) {
        throw new Error("axios changed: not every edit of AXIOS_EDITS applied (is lib/ still bundled?)");
      }
    });
  },
};

// Node defines the global FormData as a lazy getter that loads its whole fetch implementation
// (undici, 15–30 ms), and the Azure SDK's HTTP runtime reads it for every request body, so the first
// Key Vault or Entra ID request pays for it. A FormData always has the tag "FormData", so checking the
// tag first gives the same answer and touches the global only for a body that may be one. The build
// fails if the SDK's code changes, rather than silently keep the old cost or a wrong guess.
const FORM_DATA_CHECK = 'typeof FormData !== "undefined" && body instanceof FormData';
const formDataCheckFirst = {
  name: "form-data-check-first",
  setup(build) {
    const files =
      /[\\/]@typespec[\\/]ts-http-runtime[\\/]dist[\\/]esm[\\/](formData|client[\\/]sendRequest)\.js$/;
    build.onLoad({ filter: files }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(FORM_DATA_CHECK)) {
        return {
          errors: [{ text: `form-data-check-first: "${FORM_DATA_CHECK}" not found in ${args.path}` }],
        };
      }
      const guarded = `body?.[Symbol.toStringTag] === "FormData" && ${FORM_DATA_CHECK}`;
      return { contents: source.replaceAll(FORM_DATA_CHECK, guarded), loader: "js" };
    });
  },
};

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const SRC = join(REPO, "src");
/** Providers with an SDK: each is its own bundle, loaded only by a run that uses it. */
const PROVIDERS = ["vault", "awssecrets", "gcpsecrets", "azurekeyvault"];
const CORE = join(SRC, "core.ts");
/** The src/ modules src/core.ts re-exports for the providers (`export * from "./x.ts"`). */
const sharedWithProviders = new Set(
  [...readFileSync(CORE, "utf8").matchAll(/^export \* from "(\.\/[^"]+)";$/gm)].map((m) =>
    resolve(SRC, m[1] ?? ""),
  ),
);

/** Imports matching `filter` are left to Node at run time as `to(resolved path)`. */
const externalize = (name, filter, to) => ({
  name,
  setup(build) {
    build.onResolve({ filter }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      const target = to(path, args);
      return target === undefined ? undefined : { path: target, external: true };
    });
  },
});

// Three kinds of output, so that a run loads two files (bin.js, core.js) before its first provider
// instead of a dozen small shared chunks (each costs the ESM loader ~0.6 ms):
//   dist/bin.js        the entry: installs the signal handlers, then imports core.js
//   dist/core.js       all of src/ (the file provider too), in one file
//   dist/yaml.js       the YAML parser, only for runs with a config file
//   dist/providers/    one bundle per SDK provider (with lazily loaded SDK chunks), importing
//                      secretwrap's own code from ../core.js
const common = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: process.env.SECRETWRAP_BUILD_DEBUG === undefined,
  legalComments: "linked",
  // CommonJS dependencies call require() and read __dirname/__filename (google-gax does so when it
  // loads); give every ESM file real ones.
  banner: {
    // process.getBuiltinModule (Node ≥ 20.16) instead of ESM imports of builtins, which are slower.
    js: [
      'const require = process.getBuiltinModule("node:module").createRequire(import.meta.url);',
      'const __filename = process.getBuiltinModule("node:url").fileURLToPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(" "),
  },
  logLevel: "warning",
};

rmSync("dist", { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { bin: "src/bin.ts" },
  outdir: "dist",
  plugins: [
    builtinsThroughRequire,
    externalize("core", /core\.ts$/, (path) => (path === CORE ? "./core.js" : undefined)),
  ],
});
const core = await build({
  ...common,
  metafile: true,
  entryPoints: { core: CORE },
  outdir: "dist",
  plugins: [
    builtinsThroughRequire,
    externalize("providers", /providers\/[a-z]+\.ts$/, (path) => {
      const name = basename(path, ".ts");
      return PROVIDERS.includes(name) && path === join(REPO, "providers", `${name}.ts`)
        ? `./providers/${name}.js`
        : undefined;
    }),
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
  outfile: "dist/yaml.js",
  plugins: [builtinsThroughRequire],
});
await build({
  ...common,
  entryPoints: Object.fromEntries(PROVIDERS.map((name) => [name, `providers/${name}.ts`])),
  outdir: "dist/providers",
  splitting: true,
  // Beside the provider files: an external import ("../core.js") is written as is, so every file
  // that may hold one must sit one level below dist/.
  chunkNames: "[name]-[hash]",
  plugins: [
    builtinsThroughRequire,
    axiosWithoutWebFetch,
    gaxRestOnly,
    lazyPackages,
    formDataCheckFirst,
    externalize("core", /^\./, (path, args) => {
      if (!path.startsWith(SRC + "/")) return undefined;
      if (sharedWithProviders.has(path)) return "../core.js";
      // Code only providers use (endpoint.ts, network.ts) is bundled with them, so that its builtins
      // (net, tls) load with the first provider that needs them; a copy of anything core.js holds
      // would be a second SecretwrapError class, or a second cache.
      if (coreInputs.has(path)) {
        throw new Error(`${args.importer} imports ${path}: add it to src/core.ts's re-exports`);
      }
      return undefined;
    }),
  ],
});
