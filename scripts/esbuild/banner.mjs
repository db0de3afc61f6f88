// The banner of every ESM bundle (scripts/build.mjs, and the bench's floor scripts, which must load the
// way secretwrap does). CommonJS dependencies call require() and read __dirname/__filename (google-gax
// does so when it loads); give every ESM file real ones, through process.getBuiltinModule (Node ≥
// 20.16) instead of ESM imports of builtins, which are slower.
export const banner = {
  js: [
    'const require = process.getBuiltinModule("node:module").createRequire(import.meta.url);',
    'const __filename = process.getBuiltinModule("node:url").fileURLToPath(import.meta.url);',
    "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
  ].join(" "),
};
