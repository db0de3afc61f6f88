// Reads a declaration file (--config, --env-file, a template's source) with a size cap. A path can name anything: a
// directory, /dev/zero, a FIFO, a pipe from `<(…)` (which Node has already drained when it was named
// on the command line). Only a regular file is read (src/regular-file.ts: opening never blocks), at
// most MAX_DECLARATION_FILE_BYTES + 1 bytes, and every failure becomes one sentence naming the file
// and the reason (never Node's own wording, never the content).
import { readRegularFile } from "../regular-file.ts";

/** Far more than any config or env-file needs; a file this large is a mistake, not a declaration. */
export const MAX_DECLARATION_FILE_BYTES = 1024 * 1024;

export type ReadResult = { readonly text: string } | { readonly problem: string };

export function readDeclarationFile(path: string): ReadResult {
  const read = readDeclarationBytes(path);
  return "problem" in read ? read : { text: read.bytes.toString("utf8") };
}

/** The same rule, as bytes: a template file must be valid UTF-8, which its reader checks. */
export function readDeclarationBytes(
  path: string,
): { readonly bytes: Buffer } | { readonly problem: string } {
  const read = readRegularFile(path, MAX_DECLARATION_FILE_BYTES);
  return "problem" in read ? { problem: read.problem } : { bytes: read.bytes };
}
