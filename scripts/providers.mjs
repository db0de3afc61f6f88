// The build's providers, read from providers/registry.ts (Node strips the types): which get a bundle
// of their own, and how core.js reaches them. SECRETWRAP_BUILD_EXTRA_PROVIDER=<folder> adds the
// provider in that folder (its descriptor.ts) as one more registry entry: the test-only provider of
// test/fixtures/provider-echo is built this way, into a separate --outdir; a normal build never has it.
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "..");
const REGISTRY = join(REPO, "providers", "registry.ts");
const PROVIDER_MODULE = join(REPO, "src", "provider.ts");
const EXTRA = process.env["SECRETWRAP_BUILD_EXTRA_PROVIDER"];

/** A provider as the build sees it: its scheme, whether it is its own bundle, and its folder. */
const built = (descriptor, dir) => ({ scheme: descriptor.scheme, ownBundle: descriptor.ownBundle, dir });

const { DESCRIPTORS } = await import(REGISTRY);
// A registered provider lives in providers/<scheme>/ (test/unit/registry.test.ts checks it).
const registered = DESCRIPTORS.map((d) => built(d, join(REPO, "providers", d.scheme)));
const extra =
  EXTRA === undefined
    ? undefined
    : built((await import(resolve(EXTRA, "descriptor.ts"))).descriptor, resolve(EXTRA));

/** Every provider of this build. */
const providers = extra === undefined ? registered : [...registered, extra];

/** Providers with a bundle of their own (dist/providers/<scheme>.js, an SDK's), loaded only when used. */
export const ownBundles = providers.filter((p) => p.ownBundle);

/**
 * core.js side: a descriptor's load() and options() import its folder's index.ts and options.ts; for
 * a provider with its own bundle, both are that bundle (whose index.ts re-exports the schema).
 */
export const providersOutsideCore = {
  name: "providers-outside-core",
  setup(build) {
    build.onResolve({ filter: /\/(index|options)\.ts$/ }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      const owner = ownBundles.find(
        (p) => path === join(p.dir, "index.ts") || path === join(p.dir, "options.ts"),
      );
      return owner === undefined ? undefined : { path: `./providers/${owner.scheme}.js`, external: true };
    });
  },
};

/** The registry as src/provider.ts imports it, with the extra provider's entry when there is one. */
export const registryWithExtra = {
  name: "registry-with-extra",
  setup(build) {
    if (extra === undefined) return;
    build.onResolve({ filter: /registry\.ts$/ }, (args) =>
      args.importer === PROVIDER_MODULE ? { path: REGISTRY, namespace: "registry-with-extra" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "registry-with-extra" }, () => ({
      resolveDir: REPO,
      loader: "ts",
      contents: [
        `import { DESCRIPTORS as registered } from ${JSON.stringify(REGISTRY)};`,
        `import { descriptor } from ${JSON.stringify(join(extra.dir, "descriptor.ts"))};`,
        "export const DESCRIPTORS = [...registered, descriptor];",
      ].join("\n"),
    }));
  },
};
