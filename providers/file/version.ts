// A file secret's version: HMAC-SHA256 of its content under a random key made per session, the first
// 16 hex digits. Not a plain hash: the version is printed in the audit line, and a plain SHA-256 of a
// short or low-entropy secret (a PIN, a word) can be reversed offline by trying candidates. With a key
// that never leaves the process, the version says only "same as before" or "changed" within one run.
// 64 bits keep an accidental match between two contents of one file out of reach.
import { createHmac, randomBytes } from "node:crypto";

/** Bytes → their version, under one key. */
export type ContentVersion = (bytes: Uint8Array) => string;

const KEY_BYTES = 32;
const VERSION_HEX_DIGITS = 16;

export function contentVersion(): ContentVersion {
  const key = randomBytes(KEY_BYTES);
  return (bytes) => createHmac("sha256", key).update(bytes).digest("hex").slice(0, VERSION_HEX_DIGITS);
}
