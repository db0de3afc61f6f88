// Small pieces every provider-level test needs: fetch one reference from a session, expect a typed
// failure that never quotes what the server said, and unique secret names.
import { expect } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import { SecretwrapError } from "../../src/errors.ts";
import type { Session } from "../../src/provider-api.ts";

export const fetchRef = (session: Session, raw: string, signal = AbortSignal.timeout(10_000)) =>
  session.fetch(parseRef(raw), signal);

/** The promise must fail with a SecretwrapError whose message and hint hold none of `forbidden`. */
export async function failureWithout(
  promise: Promise<unknown>,
  ...forbidden: string[]
): Promise<SecretwrapError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SecretwrapError);
    const e = error as SecretwrapError;
    for (const text of forbidden) {
      expect(e.message).not.toContain(text);
      expect(e.hint).not.toContain(text);
    }
    return e;
  }
  throw new Error("expected a failure");
}

export const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("utf8");

let seq = 0;
export const unique = (prefix: string): string => `${prefix}-${++seq}`;
