// Error mapping: messages name the vault, secret, status and the service's error code, never a body
// (Entra ID descriptions and Key Vault messages are response bodies), a token or a header.
// The helpers both mappings share (token-errors.ts, vault-errors.ts).
import { SecretwrapError } from "../../src/provider-api.ts";
import { networkError } from "../kit/network-failure.ts";
import { NAME } from "./options.ts";

interface ErrorLike {
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

export function chain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let current: unknown = error;
  while (typeof current === "object" && current !== null && out.length < 8) {
    const e: ErrorLike = current;
    out.push(e);
    current = e.cause;
  }
  return out;
}

export function firstOf<T>(
  errors: ErrorLike[],
  pick: (e: ErrorLike) => unknown,
  is: (v: unknown) => v is T,
): T | undefined {
  for (const e of errors) {
    const v = pick(e);
    if (is(v)) return v;
  }
  return undefined;
}
export const isText = (v: unknown): v is string => typeof v === "string" && v !== "";
export const isNumber = (v: unknown): v is number => typeof v === "number";

/**
 * A failure below HTTP (DNS, refused, reset, TLS), by the one rule every provider uses
 * (providers/kit/network-failure.ts); an abort without one is an attempt cut short, worth another.
 */
export function transportFailure(
  error: unknown,
  aborted: boolean,
  where: string,
  endpoint: string | undefined,
): SecretwrapError | undefined {
  const network = networkError(error, { where, endpoint, subject: { provider: NAME } });
  if (network !== undefined) return network;
  if (aborted) return new SecretwrapError("FETCH_FAILED", `${where}: request aborted`, { transient: true });
  return undefined;
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
