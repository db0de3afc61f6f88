// google-gax 5.0.8 (build/src/fallback.js and the modules it requires).
// What: the static protobuf.js modules of its IAM, locations and operations mixins
// (build/protos/{iam_service,locations,operations}.js) are evaluated on first property access.
// Why: google-gax/fallback requires them at load time only to re-export them (IamProtos,
// LocationProtos, operationsProtos, long-running-operation polling), ~470 KB that build hundreds of
// classes when they run; the REST client of the gcpsecrets provider reads JSON protos and never
// touches them.
import { dirname, join } from "node:path";

export const googleGaxLazyProtos = {
  name: "google-gax-lazy-protos",
  setup(build) {
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
  },
};
