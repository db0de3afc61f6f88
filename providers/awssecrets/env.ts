// Helpers for ctx.env values (the environment secretwrap started with): empty means unset; "true" flags.
import type { ProviderContext } from "../../src/provider-api.ts";

export type Env = ProviderContext["env"];

export const truthy = (value: string | undefined): boolean =>
  value !== undefined && value.toLowerCase() === "true";

export function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== "";
}

export function nonEmptyOr(value: string | undefined): string | undefined {
  return nonEmpty(value) ? value : undefined;
}
