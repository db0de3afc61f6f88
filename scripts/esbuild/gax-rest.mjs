// What the gcpsecrets provider's SDK loads in the bundle. It uses the REST transport (`fallback: true`),
// for which the generated client takes google-gax's REST-only entry point (`google-gax/fallback`, the
// one the client's docs name "to avoid loading google-gax with gRPC", and the package's own `browser`
// build). Two things still loaded code that REST never runs (measured on the bench's gcp scenario):
//   1. The client require()s the full "google-gax" at load time, for two helpers only, and that pulls
//      in @grpc/grpc-js, @grpc/proto-loader and protobuf.js' descriptor set. In the bundle "google-gax"
//      is the fallback module plus those helpers; the build fails if a generated client ever takes
//      anything else from it.
//   2. google-gax/fallback requires the static protobuf.js modules of its IAM, locations and operations
//      mixins (~470 KB that build hundreds of classes when they run) only to re-export them; the REST
//      client reads JSON protos. Each is evaluated on first property access instead.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** What the bundle's "google-gax" adds to google-gax/fallback (the generated client's top-level uses,
 * and googleAuthLibrary for providers/gcpsecrets/connect.ts). */
const ADDED = ["loggingUtils", "decodeAnyProtosInArray", "googleAuthLibrary", "fallback"];

export const gaxRestOnly = {
  name: "gax-rest-only",
  setup(build) {
    // 1
    build.onResolve({ filter: /^google-gax$/ }, async (args) => {
      const fallback = await build.resolve("google-gax/fallback", {
        kind: "require-call",
        resolveDir: args.resolveDir,
      });
      if (fallback.errors.length > 0) return { errors: fallback.errors };
      checkUses(args.importer, fallback.path);
      return { path: fallback.path, namespace: "gax-rest-only" };
    });
    // 2: IamProtos, LocationProtos, operationsProtos and long-running-operation polling use them.
    build.onResolve({ filter: /^\.\.?\/(\.\.\/)*protos\/(iam_service|locations|operations)$/ }, (args) => {
      if (!args.resolveDir.includes("/google-gax/build/src")) return undefined;
      return { path: join(args.resolveDir, `${args.path}.js`), namespace: "gax-lazy-protos" };
    });
    build.onLoad({ filter: /.*/, namespace: "gax-lazy-protos" }, (args) => ({
      contents: [
        "let real;",
        `const load = () => (real ??= require(${JSON.stringify(args.path)}));`,
        // __importStar() passes an __esModule object through untouched, so it reads no key up front.
        "module.exports = new Proxy({}, {",
        '  get: (_, key) => (key === "__esModule" ? true : load()[key]),',
        "  has: (_, key) => key in load(),",
        "  ownKeys: () => Reflect.ownKeys(load()),",
        "  getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(load(), key),",
        "});",
      ].join("\n"),
      resolveDir: dirname(args.path),
      loader: "js",
    }));
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
