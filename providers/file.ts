// ref+file://<path>[#field]: local files, for development and for secrets already mounted by an
// orchestrator (Kubernetes secret volumes, Docker secrets). Symlinks are followed, because that is how
// Kubernetes publishes secret volumes (..data); FIFOs, devices and directories are refused so a run can
// never block or read forever.
import { constants, promises as fs } from "node:fs";
import { resolve } from "node:path";
import { safeParse, strictObject } from "zod/mini";
import { toIssues } from "../src/config/issues.ts";
import { SecretwrapError } from "../src/errors.ts";
import type { Provider, Session } from "../src/provider.ts";
import { MAX_SECRET_BYTES } from "../src/limits.ts";

const Options = strictObject({});

const session: Session = {
  consumedEnv: [],
  async fetch(ref) {
    const path = resolve(ref.locator);
    let handle: fs.FileHandle;
    try {
      // O_NONBLOCK: opening a FIFO must not wait for a writer.
      handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (error) {
      throw openError(error as NodeJS.ErrnoException, path);
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) {
        throw new SecretwrapError("FETCH_FAILED", `${path} is not a regular file`, {
          hint: "point the reference at a regular file (not a directory, FIFO or device)",
        });
      }
      if (stat.size > MAX_SECRET_BYTES) {
        throw new SecretwrapError("FETCH_FAILED", `${path} is larger than ${MAX_SECRET_BYTES} bytes`, {
          hint: "a secret file may hold at most 1 MiB",
        });
      }
      const bytes = await handle.readFile();
      return { bytes, version: stat.mtime.toISOString() };
    } finally {
      await handle.close();
    }
  },
  async close() {},
};

function openError(error: NodeJS.ErrnoException, path: string): SecretwrapError {
  switch (error.code) {
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
      return new SecretwrapError("FETCH_FAILED", `${path} could not be opened (${error.code ?? "error"})`);
  }
}

export const provider: Provider = {
  scheme: "file",
  validateOptions: (options) => {
    const result = safeParse(Options, options);
    return result.success ? [] : toIssues(result.error.issues);
  },
  connect: () => Promise.resolve(session),
};
