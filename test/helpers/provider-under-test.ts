// The provider a provider suite exercises. By default its source, loaded through its descriptor as the
// core loads it. With SECRETWRAP_TEST_PROVIDERS_FROM=<dir> (npm test sets dist for one more pass of
// these suites: scripts/test.mjs), the built bundle <dir>/providers/<scheme>.js instead, with its SDK
// chunks as shipped and patched (scripts/esbuild/sdk-patches/): what users run.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DESCRIPTORS } from "../../providers/registry.ts";
import type { Provider } from "../../src/provider-api.ts";

export const PROVIDERS_FROM = process.env["SECRETWRAP_TEST_PROVIDERS_FROM"];

export async function providerUnderTest<Options>(scheme: string): Promise<Provider<Options>> {
  if (PROVIDERS_FROM !== undefined) {
    const bundle = pathToFileURL(resolve(PROVIDERS_FROM, "providers", `${scheme}.js`)).href;
    return ((await import(bundle)) as { provider: Provider<Options> }).provider;
  }
  const descriptor = DESCRIPTORS.find((d) => d.scheme === scheme);
  if (descriptor === undefined) throw new Error(`no provider is registered for ${scheme}`);
  return descriptor.load();
}
