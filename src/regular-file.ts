// Every file secretwrap reads, or lets an SDK read on its behalf (config, env-file, token and key
// files, CA bundles), must be a regular file. Opening a FIFO without a writer blocks the main thread
// in open(2), where no signal handler runs; reading a pipe or a terminal can block forever too; and a
// pipe named on the command line has already been drained by Node (src/launch/env-file-flag.ts). So a
// path is opened with O_NONBLOCK (never waits) or, when an SDK opens it itself, stat-ed (never opens),
// and anything but a regular file is refused with a reason naming the kind, never the content.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";

const OPEN_REASONS: Readonly<Record<string, string>> = {
  ENOENT: "does not exist",
  ENOTDIR: "does not exist (a part of the path is not a directory)",
  EISDIR: "is a directory, not a file",
  EACCES: "is not readable (permission denied)",
  EPERM: "is not readable (permission denied)",
  ELOOP: "is a symlink loop",
  ENAMETOOLONG: "has a name that is too long",
};

/** Why a path cannot be opened or read, in a few words ("does not exist", …). */
export function fileErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? "error";
  return OPEN_REASONS[code] ?? `cannot be read (${code})`;
}

/** undefined for a regular file, else what it is instead ("is a FIFO or pipe, not a regular file"). */
function notRegular(stat: Stats): string | undefined {
  if (stat.isFile()) return undefined;
  if (stat.isDirectory()) return OPEN_REASONS["EISDIR"];
  if (stat.isFIFO()) return "is a FIFO or pipe, not a regular file";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "is a device, not a regular file";
  if (stat.isSocket()) return "is a socket, not a regular file";
  return "is not a regular file";
}

/**
 * What reading a regular file gave: its bytes and stat, or why not, with the kind of failure so a
 * caller can word it its own way (`open`: the OS error `errno`; `type`: not a regular file; `size`:
 * over `maxBytes`). `problem` is a reason in a few words, for callers that take it as it is.
 */
export type FileRead =
  | { readonly bytes: Buffer; readonly stat: Stats }
  | {
      readonly problem: string;
      readonly kind: "open" | "type" | "size";
      readonly errno?: string;
    };

const failed = (kind: "open" | "type" | "size", problem: string, error?: unknown): FileRead => {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  return errno === undefined ? { kind, problem } : { kind, problem, errno };
};

/**
 * Reads a regular file, at most `maxBytes` (a larger file is a problem, read no further). Never
 * blocks: a FIFO, pipe, device, socket or directory is a problem, found before any read.
 */
export function readRegularFile(path: string, maxBytes: number): FileRead {
  if (path === "") return failed("open", "the path is empty");
  if (path.includes("\0")) return failed("open", "the path contains a NUL byte");
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: a terminal never becomes ours.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    return failed("open", fileErrorReason(error), error);
  }
  try {
    const stat = fstatSync(fd);
    const kind = notRegular(stat);
    if (kind !== undefined) return failed("type", kind);
    if (stat.size > maxBytes) return failed("size", tooLarge(maxBytes));
    // Sized by fstat, not by the cap: the value is kept for the run (for --watch, its whole life), and
    // a slice of a cap-sized buffer would keep all of it. The file may still grow while it is read.
    let buffer = Buffer.alloc(Math.min(maxBytes, stat.size) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const larger = Buffer.alloc(Math.min(maxBytes + 1, buffer.length * 2));
        buffer.copy(larger);
        buffer.fill(0);
        buffer = larger;
      }
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxBytes) {
        buffer.fill(0);
        return failed("size", tooLarge(maxBytes));
      }
    }
    return { bytes: buffer.subarray(0, length), stat };
  } catch (error) {
    return failed("open", fileErrorReason(error), error);
  } finally {
    closeSync(fd);
  }
}

/**
 * For a path an SDK opens itself: undefined when it names a regular file (or nothing: the SDK's own
 * "not found" stays), else why not. stat(2) follows symlinks and does not open, so it cannot block.
 */
export function notARegularFile(path: string): string | undefined {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? undefined : fileErrorReason(error);
  }
  return notRegular(stat);
}

function tooLarge(maxBytes: number): string {
  return maxBytes % (1024 * 1024) === 0
    ? `is larger than ${maxBytes / 1024 / 1024} MiB`
    : `is larger than ${maxBytes} bytes`;
}
