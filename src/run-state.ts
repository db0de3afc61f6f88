// The RunState the core gives each provider with its ProviderContext (the contract is in provider-api.ts).
import type { RunState } from "./provider-api.ts";

export function createRunState(): RunState {
  const instances = new Map<new () => object, object>();
  return {
    get<T extends object>(kind: new () => T): T {
      const known = instances.get(kind);
      if (known !== undefined) return known as T;
      const made = new kind();
      instances.set(kind, made);
      return made;
    },
  };
}
