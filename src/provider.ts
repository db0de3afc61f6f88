// The providers this build knows, as the core sees them: their descriptors (providers/registry.ts),
// and the lazy loading of a provider's schema and implementation. No provider is ever loaded from a
// user-supplied path: only a registered descriptor's own load().
import type { OptionSchema, PeerForms, Provider, ProviderDescriptor } from "./provider-api.ts";
import { keepYoungGenerationSmall } from "./young-generation.ts";
import { PEER_FORMS } from "../providers/compat/peers.ts";
import { DESCRIPTORS } from "../providers/registry.ts";

/** A registered provider's scheme (ref+<scheme>://). */
export type Scheme = string;

export const SCHEMES: readonly Scheme[] = DESCRIPTORS.map((d) => d.scheme);

const BY_SCHEME: ReadonlyMap<Scheme, ProviderDescriptor> = new Map(DESCRIPTORS.map((d) => [d.scheme, d]));

/** The peer tools `--compat` knows (providers/compat/). */
export const PEER_TOOLS: readonly string[] = PEER_FORMS.map((f) => f.tool);

export function peerForms(): readonly PeerForms[] {
  return PEER_FORMS;
}

export function isScheme(value: string): boolean {
  return BY_SCHEME.has(value);
}

export function descriptorOf(scheme: Scheme): ProviderDescriptor {
  const descriptor = BY_SCHEME.get(scheme);
  if (descriptor === undefined) throw new Error(`no provider is registered for ${scheme}`);
  return descriptor;
}

export function allDescriptors(): readonly ProviderDescriptor[] {
  return DESCRIPTORS;
}

/** Loads what `load` gives; an own bundle is an SDK, whose loading is secretwrap's peak memory. */
function loading<T>(descriptor: ProviderDescriptor, load: () => Promise<T>): Promise<T> {
  // Before an SDK allocates (src/young-generation.ts).
  if (descriptor.ownBundle) keepYoungGenerationSmall();
  return load();
}

export function loadProvider(scheme: Scheme): Promise<Provider> {
  const descriptor = descriptorOf(scheme);
  return loading(descriptor, () => descriptor.load());
}

export function loadOptionSchema(scheme: Scheme): Promise<OptionSchema> {
  const descriptor = descriptorOf(scheme);
  return loading(descriptor, () => descriptor.options());
}

/**
 * The references help text shows: the examples of the registry's first two providers, and of its
 * first provider without an SDK (one that works on any machine).
 */
export function helpExamples(): { readonly first: string; readonly second: string; readonly local: string } {
  const [first, second] = DESCRIPTORS;
  const local = DESCRIPTORS.find((d) => !d.ownBundle);
  if (first === undefined || second === undefined || local === undefined) {
    throw new Error("the registry needs two providers, one of them without an own bundle, for help text");
  }
  return { first: first.example, second: second.example, local: local.example };
}
