// Error mapping: messages name the vault, secret, status and the service's error code, never a body
// (Entra ID descriptions and Key Vault messages are response bodies), a token or a header.
// What both mappings (token-errors.ts, vault-errors.ts) share beyond the kit: the fields Azure's errors
// carry, and an abort that is an attempt cut short.
import { SecretwrapError } from "../../src/provider-api.ts";
import { networkError } from "../kit/network-failure.ts";
import { NAME } from "./options.ts";

/** A link of an error's cause chain (providers/kit/cause-chain.ts), as @azure/* and MSAL shape them. */
export interface ErrorLike {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  status?: unknown;
  message?: unknown;
  cause?: unknown;
  errorCode?: unknown;
  errorNo?: unknown;
  response?: { headers?: { get(name: string): string | undefined } };
  details?: unknown;
}

export const isText = (v: unknown): v is string => typeof v === "string" && v !== "";

/**
 * A failure below HTTP (DNS, refused, reset, TLS), by the one rule every provider uses
 * (providers/kit/network-failure.ts); an abort without one is an attempt cut short, worth another.
 * `fromMessage`: the pipeline's own words count too (see networkFailureOf), for Key Vault's requests
 * only: the token endpoint's errors carry Entra ID's text.
 */
export function transportFailure(
  error: unknown,
  aborted: boolean,
  where: string,
  endpoint: string | undefined,
  fromMessage = false,
): SecretwrapError | undefined {
  const network = networkError(error, { where, endpoint, subject: { provider: NAME }, fromMessage });
  if (network !== undefined) return network;
  if (aborted) return new SecretwrapError("FETCH_FAILED", `${where}: request aborted`, { transient: true });
  return undefined;
}
