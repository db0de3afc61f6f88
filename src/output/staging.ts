// A private 0700 staging directory inside the output dir, used only through its descriptor.
//
// WHY: the output dir may be shared and writable by other users without the sticky bit (a Kubernetes
// emptyDir is 0777), so any of them can rename, unlink or replace any name in it. A name inside a
// directory we opened, reached as /proc/self/fd/<dirfd>/<name>, cannot be substituted: the kernel always
// follows an intermediate /proc/self/fd component to the very directory we hold, wherever it has been
// renamed to, and only its owner (0700) can add or remove entries in it. Node has no
// linkat(AT_SYMLINK_FOLLOW) or AT_EMPTY_PATH, so an O_TMPFILE inode cannot be given a name from Node
// (link("/proc/self/fd/N", …) links the magic link itself and fails with EXDEV); a private directory
// reached through its descriptor is the portable equivalent.
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readlinkSync,
  rmdirSync,
} from "node:fs";
import { basename } from "node:path";
import { SecretwrapError } from "../errors.ts";
import { outputError } from "./output-error.ts";

/** Starts with "..": no target file name may (plan.ts), so it never collides with one. */
export const STAGING_PREFIX = "..secretwrap-staging-";

/** A path that reaches `name` inside the directory open as `fd`, wherever that directory now is. */
export const throughFd = (fd: number, name: string): string => `/proc/self/fd/${fd}/${name}`;

/** Fails closed where /proc is not mounted: without it no name in a shared dir can be trusted. */
export function requireProcFd(): void {
  if (existsSync("/proc/self/fd")) return;
  throw new SecretwrapError("OUTPUT_FAILED", "/proc/self/fd is missing: files cannot be published safely", {
    hint: "mount /proc in the container (every container runtime does by default)",
  });
}

/** Opens a directory as a descriptor, never through a symlink. */
export function openDirFd(path: string): number {
  return openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
}

/**
 * Runs `work` with the output dir open as a descriptor (never through a symlink, /proc required), so
 * every name in it is reached through that descriptor; closes it after.
 */
export function withDirFd<T>(dir: string, work: (dirFd: number) => T): T {
  requireProcFd();
  let dirFd: number;
  try {
    dirFd = openDirFd(dir);
  } catch (error) {
    throw outputError(`cannot open ${dir}`, error);
  }
  try {
    return work(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

export interface StagingDir {
  readonly fd: number;
  /** A path to `name` inside the staging dir that no other user can redirect. */
  readonly entry: (name: string) => string;
}

/** Creates the staging dir inside the directory open as `parentFd` and opens it. */
export function openStagingDir(parentFd: number): StagingDir {
  return openPrivateDir(parentFd, STAGING_PREFIX, "staging directory").dir;
}

/**
 * Creates a fresh directory named `prefix` + six random characters inside the directory open as
 * `parentFd`, and opens it. Between mkdtemp and open another user may swap the name; the descriptor is
 * accepted only if it is a 0700 directory owned by this process's user, which no other (non-root) user
 * can create. `what` names it in errors.
 */
export function openPrivateDir(
  parentFd: number,
  prefix: string,
  what: string,
): { readonly dir: StagingDir; readonly name: string } {
  let path: string;
  try {
    path = mkdtempSync(throughFd(parentFd, prefix));
  } catch (error) {
    // Full, read-only or unwritable: the plain reason, not the hint about a shared dir.
    throw outputError(`cannot create a ${what} in the output dir`, error);
  }
  let fd: number;
  try {
    fd = openDirFd(path);
  } catch (error) {
    throw stagingError(`the ${what} was replaced before it could be opened`, error);
  }
  const stat = fstatSync(fd);
  if (!stat.isDirectory() || stat.uid !== process.geteuid?.() || (stat.mode & 0o777) !== 0o700) {
    closeSync(fd);
    throw stagingError(`the ${what} was replaced by another user before it could be opened`);
  }
  return { dir: { fd, entry: (name) => throughFd(fd, name) }, name: basename(path) };
}

/** Removes the (by now empty) staging dir under whatever name it has, and closes it. */
export function closeStagingDir(staging: StagingDir): void {
  try {
    // rmdir cannot go through the descriptor; the kernel's name for it is where it is now. Should that
    // name have been swapped meanwhile, rmdir removes at most someone's empty directory.
    const where = readlinkSync(`/proc/self/fd/${staging.fd}`);
    if (!where.endsWith(" (deleted)")) rmdirSync(where);
  } catch {
    // Not empty (a failure left a zero-filled file) or already gone: it holds no secret bytes.
  } finally {
    closeSync(staging.fd);
  }
}

function stagingError(message: string, cause?: unknown): SecretwrapError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new SecretwrapError("OUTPUT_FAILED", code === undefined ? message : `${message}: ${code}`, {
    cause,
    hint: "the output dir is shared with a user who changes it: give secretwrap a private or sticky (chmod +t) dir",
  });
}
