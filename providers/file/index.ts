// ref+file://<path>[#field]: local files, for development and for secrets already mounted by an
// orchestrator (Kubernetes secret volumes, Docker secrets). Symlinks are followed, because that is how
// Kubernetes publishes secret volumes (..data); FIFOs, devices and directories are refused so a run can
// never block or read forever. Synchronous fs on purpose: fs/promises costs ~9 ms of start-up, and
// reading a local file does not benefit from overlapping.
//
// A file's version is a keyed hash of its content (version.ts): what `--watch` compares to notice a
// change (checkVersion), and what the audit line shows.
import { resolve } from "node:path";
import {
  type Fetched,
  MAX_SECRET_BYTES,
  type Provider,
  SecretwrapError,
  type Session,
  readRegularFile,
} from "../../src/provider-api.ts";
import type { FileOptions } from "./options.ts";
import { type ContentVersion, contentVersion } from "./version.ts";

/** The bytes of a regular file of at most MAX_SECRET_BYTES, or the failure a fetch reports. */
function read(path: string): Buffer {
  const read = readRegularFile(path, MAX_SECRET_BYTES);
  if ("bytes" in read) return read.bytes;
  switch (read.kind) {
    case "open":
      throw openError(read.errno, path);
    case "type":
      throw new SecretwrapError("FETCH_FAILED", `${path} is not a regular file`, {
        hint: "point the reference at a regular file (not a directory, FIFO or device)",
      });
    case "size":
      throw new SecretwrapError("FETCH_FAILED", `${path} is larger than ${MAX_SECRET_BYTES} bytes`, {
        hint: "a secret file may hold at most 1 MiB",
      });
  }
}

function open(): Session {
  // A key of this session's own: versions compare within it, and mean nothing outside it.
  const versionOf: ContentVersion = contentVersion();
  const fetchFile = (path: string): Fetched => {
    const bytes = read(path);
    return { bytes, version: versionOf(bytes) };
  };
  return {
    consumedEnv: [],
    fetch: (ref) => Promise.resolve().then(() => fetchFile(resolve(ref.locator))),
    // Reads the file as fetch does (same checks, same errors): a local read is the cheapest check.
    checkVersion: (ref) => Promise.resolve().then(() => versionOf(read(resolve(ref.locator)))),
    close: () => Promise.resolve(),
  };
}

function openError(errno: string | undefined, path: string): SecretwrapError {
  switch (errno) {
    case "ENOENT":
    case "ENOTDIR":
      return new SecretwrapError("SECRET_NOT_FOUND", `${path} does not exist`);
    case "EACCES":
    case "EPERM":
      return new SecretwrapError("ACCESS_DENIED", `${path} is not readable by this user`, {
        hint: "make the file readable by the user secretwrap runs as",
      });
    case "ELOOP":
      return new SecretwrapError("FETCH_FAILED", `${path}: too many levels of symbolic links`);
    default:
      return new SecretwrapError("FETCH_FAILED", `${path} could not be opened (${errno ?? "error"})`);
  }
}

export const provider: Provider<FileOptions> = { connect: () => Promise.resolve().then(open) };
