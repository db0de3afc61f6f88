// Reads a declaration file (--config, --env-file) with a size cap. A path can name anything: a
// directory, /dev/zero, a FIFO from `<(…)`. An unbounded read of /dev/zero would grow until Node
// aborts, so at most MAX_DECLARATION_FILE_BYTES + 1 bytes are ever read, and every failure becomes
// one sentence naming the file and the reason (never Node's own wording, never the content).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** Far more than any config or env-file needs; a file this large is a mistake, not a declaration. */
export const MAX_DECLARATION_FILE_BYTES = 1024 * 1024;

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "does not exist",
  ENOTDIR: "does not exist (a part of the path is not a directory)",
  EISDIR: "is a directory, not a file",
  EACCES: "is not readable (permission denied)",
  EPERM: "is not readable (permission denied)",
  ELOOP: "is a symlink loop",
  ENAMETOOLONG: "has a name that is too long",
};

export type ReadResult = { readonly text: string } | { readonly problem: string };

export function readDeclarationFile(path: string): ReadResult {
  if (path === "") return { problem: "the path is empty" };
  if (path.includes("\0")) return { problem: "the path contains a NUL byte" };
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    return { problem: reason(error) };
  }
  try {
    if (fstatSync(fd).isDirectory()) return { problem: REASONS["EISDIR"] as string };
    const buffer = Buffer.alloc(MAX_DECLARATION_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > MAX_DECLARATION_FILE_BYTES) {
        return { problem: `is larger than ${MAX_DECLARATION_FILE_BYTES / 1024 / 1024} MiB` };
      }
    }
    return { text: buffer.toString("utf8", 0, length) };
  } catch (error) {
    return { problem: reason(error) };
  } finally {
    closeSync(fd);
  }
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? "error";
  return REASONS[code] ?? `cannot be read (${code})`;
}
