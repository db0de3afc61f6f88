// Reading the environment secretwrap started with (ctx.env): an empty variable counts as unset, as the
// vendors' own CLIs and SDKs read it.
import type { ProviderContext } from "../../src/provider-api.ts";

export type Env = ProviderContext["env"];

/** The value, or undefined when the variable is unset or empty. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** Whether the variable is set to something (as a type guard, for a value used right after). */
export function isSet(value: string | undefined): value is string {
  return nonEmpty(value) !== undefined;
}
