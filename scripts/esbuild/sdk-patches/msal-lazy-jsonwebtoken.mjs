// @azure/msal-node 5.6.0 (its import of jsonwebtoken 9.0.3).
// What: msal-node's jsonwebtoken is a proxy that loads the package on first property access; every
// other importer gets the package as usual.
// Why: msal-node imports jsonwebtoken (which loads semver and parses ranges at once) when it loads,
// but calls it only to sign client-certificate assertions, a path most Azure runs never take.
const MSAL_NODE = /[\\/]node_modules[\\/]@azure[\\/]msal-node[\\/]/;

export const msalLazyJsonwebtoken = {
  name: "msal-lazy-jsonwebtoken",
  setup(build) {
    build.onResolve({ filter: /^jsonwebtoken$/ }, (args) => {
      if (args.namespace === "lazy-jsonwebtoken" || !MSAL_NODE.test(args.importer)) return undefined;
      return { path: args.path, namespace: "lazy-jsonwebtoken", pluginData: { resolveDir: args.resolveDir } };
    });
    build.onLoad({ filter: /.*/, namespace: "lazy-jsonwebtoken" }, (args) => ({
      contents: [
        'const load = () => require("jsonwebtoken");',
        "module.exports = new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });",
      ].join("\n"),
      loader: "js",
      resolveDir: args.pluginData.resolveDir,
    }));
  },
};
