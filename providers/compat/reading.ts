// What the peer forms share: a reading that is a problem, and percent-decoding as Go's net/url does it.
import type { PeerReading } from "../../src/provider-api.ts";

export function problem(why: string, hint: string): PeerReading {
  return { problem: why, hint };
}

/** %XX decoded (and + as a space in a query, as Go's url.QueryUnescape); undefined for a broken escape. */
export function decoded(text: string, query = false): string | undefined {
  try {
    return decodeURIComponent(query ? text.replaceAll("+", " ") : text);
  } catch {
    return undefined;
  }
}
