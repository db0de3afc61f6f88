// CommonJS packages that a dependency imports when it loads but calls only on paths secretwrap rarely
// takes: @azure/msal-node imports jsonwebtoken (which loads semver and parses ranges at once) only to
// sign client-certificate assertions. Served to that importer as a proxy that loads the package on
// first property access (~7 ms of every Azure run). Every other importer gets the package as usual.
const LAZY_FOR = { jsonwebtoken: /[\\/]node_modules[\\/]@azure[\\/]msal-node[\\/]/ };

export const lazyPackages = {
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
