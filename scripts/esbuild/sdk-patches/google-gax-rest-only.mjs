// google-gax 5.0.8, as @google-cloud/secret-manager 6.3.0's generated client uses it.
// What: in the gcpsecrets bundle, "google-gax" is google-gax/fallback (its REST-only entry point) plus
// the four helpers listed in ADDED.
// Why: the provider uses the REST transport (`fallback: true`), for which the generated client takes
// google-gax/fallback (the one the client's docs name "to avoid loading google-gax with gRPC", and the
// package's own `browser` build). But the client also require()s the full "google-gax" at load time,
// for two helpers only, and that pulls in @grpc/grpc-js, @grpc/proto-loader and protobuf.js'
// descriptor set. The build fails if a generated client ever takes anything else from it.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** What the bundle's "google-gax" adds to google-gax/fallback (the generated client's top-level uses,
 * and googleAuthLibrary for providers/gcpsecrets/connect.ts). */
const ADDED = ["loggingUtils", "decodeAnyProtosInArray", "googleAuthLibrary", "fallback"];

export const googleGaxRestOnly = {
  name: "google-gax-rest-only",
  setup(build) {
    build.onResolve({ filter: /^google-gax$/ }, async (args) => {
      const fallback = await build.resolve("google-gax/fallback", {
        kind: "require-call",
        resolveDir: args.resolveDir,
      });
      if (fallback.errors.length > 0) return { errors: fallback.errors };
      checkUses(args.importer, fallback.path);
      return { path: fallback.path, namespace: "gax-rest-only" };
    });
    build.onLoad({ filter: /.*/, namespace: "gax-rest-only" }, (args) => ({
      // Relative requires from gax's own build/src: its exports map does not list util.js.
      contents: [
        `const fallback = require(${JSON.stringify(args.path)});`,
        `const util = require(${JSON.stringify(join(dirname(args.path), "util.js"))});`,
        "module.exports = {",
        "  ...fallback,",
        "  fallback,",
        '  loggingUtils: require("google-logging-utils"),',
        "  decodeAnyProtosInArray: util.decodeAnyProtosInArray,",
        '  googleAuthLibrary: require("google-auth-library"),',
        "};",
      ].join("\n"),
      resolveDir: dirname(args.path),
      loader: "js",
    }));
  },
};

/** A generated client (`google_gax_1.X`) must use only what the REST-only module provides. */
function checkUses(importer, fallbackPath) {
  if (!importer.includes("/node_modules/")) return;
  const provided = new Set([...Object.keys(createRequire(import.meta.url)(fallbackPath)), ...ADDED]);
  const source = readFileSync(importer, "utf8");
  for (const [, name] of source.matchAll(/\bgoogle_gax_\d+\.(\w+)/g)) {
    if (!provided.has(name))
      throw new Error(`${importer} uses google-gax's ${name}, which the REST-only bundle lacks`);
  }
}
