// The gcpsecrets provider uses the SDK's REST transport (`fallback: true`), for which the generated
// client takes google-gax's REST-only entry point (`google-gax/fallback`, the one its docs name "to
// avoid loading google-gax with gRPC", and the package's own `browser` build). The client still
// require()s the full "google-gax" at load time, only for two helpers, and that pulls in @grpc/grpc-js,
// @grpc/proto-loader and protobufjs' descriptor set (~40 ms of start-up, measured) that REST never uses.
// In the bundle, "google-gax" is therefore the fallback module plus those helpers; the build fails if a
// generated client ever takes anything else from the top-level module.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** What the bundle's "google-gax" adds to google-gax/fallback (the generated client's top-level uses,
 * and googleAuthLibrary for providers/gcpsecrets/connect.ts). */
const ADDED = ["loggingUtils", "decodeAnyProtosInArray", "googleAuthLibrary", "fallback"];

export const gaxRestOnly = {
  name: "gax-rest-only",
  setup(build) {
    build.onResolve({ filter: /^google-gax$/ }, async (args) => {
      if (args.pluginData === "gax-rest-only") return undefined;
      const fallback = await build.resolve("google-gax/fallback", {
        kind: "require-call",
        resolveDir: args.resolveDir,
        pluginData: "gax-rest-only",
      });
      if (fallback.errors.length > 0) return { errors: fallback.errors };
      checkUses(args.importer, fallback.path);
      return { path: fallback.path, namespace: "gax-rest-only" };
    });
    // google-gax's static protobuf.js modules for its IAM, locations and long-running-operations
    // mixins (~470 KB of code that builds hundreds of classes when it runs). The REST client reads the
    // JSON protos instead; only IamProtos/LocationProtos/operationsProtos exports and LRO polling touch
    // them. Each is evaluated on first property access.
    build.onResolve({ filter: /^\.\.?\/(\.\.\/)*protos\/(iam_service|locations|operations)$/ }, (args) => {
      if (args.pluginData === "gax-lazy-protos" || !args.resolveDir.includes("/google-gax/build/src"))
        return undefined;
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
      pluginData: "gax-lazy-protos",
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
