// File outputs: one private directory per run on tmpfs; every file written to a temporary name
// (O_EXCL|O_NOFOLLOW), fully written, chmod/chown'd and fsynced, then published with link() — which,
// unlike rename(), never replaces an existing file or follows a planted symlink. Nothing is published
// unless every file was staged, and a failure removes everything this run wrote.
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statfsSync,
  unlinkSync,
  writeSync,
  chownSync,
  existsSync,
} from "node:fs";
import { join } from "node:path";
import { SecretwrapError } from "../errors.ts";

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

export interface FileToWrite {
  readonly name: string;
  readonly fileName: string;
  readonly mode: number;
  readonly bytes: Uint8Array;
}

export interface SecretsDir {
  readonly path: string;
  /** True when secretwrap made it, and so may remove it. */
  readonly created: boolean;
}

const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;
export const DEFAULT_SECRETS_PARENT = "/dev/shm";
/** A default secrets dir is this prefix plus mkdtemp's six characters, in DEFAULT_SECRETS_PARENT. */
export const DEFAULT_SECRETS_PREFIX = "secretwrap-";

function outputError(message: string, error?: unknown, hint?: string): SecretwrapError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why = code === "ENOSPC" ? "no space left" : code === "EEXIST" ? "it already exists" : code;
  return new SecretwrapError("OUTPUT_FAILED", why === undefined ? message : `${message}: ${why}`, {
    cause: error,
    ...(hint === undefined ? {} : { hint }),
  });
}

export function isMemoryBacked(path: string): boolean {
  const type = statfsSync(path).type;
  return type === TMPFS_MAGIC || type === RAMFS_MAGIC;
}

export interface PrepareOptions {
  /** --secrets-dir / render --out; default: a fresh directory under /dev/shm. */
  readonly dir?: string;
  readonly allowDisk: boolean;
  readonly owner?: Owner;
  /** render --out shares its directory with another container, whose mode secretwrap does not own. */
  readonly shared?: boolean;
}

export function prepareSecretsDir(options: PrepareOptions): SecretsDir {
  let dir: SecretsDir;
  if (options.dir === undefined) {
    if (!existsSync(DEFAULT_SECRETS_PARENT)) {
      throw new SecretwrapError("NOT_TMPFS", `${DEFAULT_SECRETS_PARENT} does not exist on this system`, {
        hint: "pass --secrets-dir with a tmpfs directory, or --allow-disk",
      });
    }
    checkMemoryBacked(DEFAULT_SECRETS_PARENT, options.allowDisk);
    try {
      dir = { path: mkdtempSync(join(DEFAULT_SECRETS_PARENT, DEFAULT_SECRETS_PREFIX)), created: true };
    } catch (error) {
      throw outputError(`cannot create a secrets dir in ${DEFAULT_SECRETS_PARENT}`, error);
    }
  } else {
    dir = openGivenDir(options.dir, options.shared ?? false);
    checkMemoryBacked(dir.path, options.allowDisk);
  }
  if (options.owner !== undefined && dir.created) {
    try {
      chownSync(dir.path, options.owner.uid, options.owner.gid);
    } catch (error) {
      throw outputError(`cannot give ${dir.path} to ${options.owner.uid}:${options.owner.gid}`, error);
    }
  }
  return dir;
}

function checkMemoryBacked(path: string, allowDisk: boolean): void {
  if (allowDisk || isMemoryBacked(path)) return;
  throw new SecretwrapError("NOT_TMPFS", `${path} is not on tmpfs: secrets would be written to disk`, {
    hint: "use a tmpfs directory (e.g. /dev/shm, or a memory-backed volume) or pass --allow-disk",
  });
}

function openGivenDir(path: string, shared: boolean): SecretsDir {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      throw outputError(`cannot inspect ${path}`, error);
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (mkdirError) {
      throw outputError(`cannot create ${path}`, mkdirError);
    }
    return { path, created: true };
  }
  if (stat.isSymbolicLink()) {
    throw outputError(
      `${path} is a symbolic link`,
      undefined,
      "give the real directory; secretwrap never writes through symlinks",
    );
  }
  if (!stat.isDirectory()) throw outputError(`${path} is not a directory`);
  const uid = process.geteuid?.();
  if (!shared && uid !== undefined && stat.uid !== uid && uid !== 0) {
    throw outputError(
      `${path} belongs to uid ${stat.uid}, not to this user`,
      undefined,
      "use a directory secretwrap's user owns",
    );
  }
  // Others who can write to the directory could swap files between write and use.
  if (!shared && (stat.mode & 0o022) !== 0) {
    throw outputError(
      `${path} is writable by group or others (mode ${(stat.mode & 0o7777).toString(8)})`,
      undefined,
      "chmod it to 0700, or let secretwrap create it",
    );
  }
  return { path, created: false };
}

/** Stages every file, then publishes them all, or none. Returns name → published path. */
export function publishFiles(dir: string, files: readonly FileToWrite[], owner?: Owner): Map<string, string> {
  const staged: { file: FileToWrite; temp: string; final: string }[] = [];
  const published: string[] = [];
  try {
    for (const file of files) {
      // O_EXCL makes the name safe; it only has to be unlikely to exist (no crypto needed at start-up).
      const temp = join(dir, `.tmp-${process.pid}-${Date.now().toString(36)}-${staged.length}`);
      staged.push({ file, temp, final: join(dir, file.fileName) });
      writeStaged(temp, file, owner);
    }
    for (const { temp, final, file } of staged) {
      try {
        linkSync(temp, final);
      } catch (error) {
        throw outputError(`cannot publish ${file.name} as ${final}`, error);
      }
      published.push(final);
      unlinkSync(temp);
    }
    syncDir(dir);
  } catch (error) {
    for (const { temp } of staged) removeQuietly(temp);
    for (const final of published) removeQuietly(final);
    throw error;
  }
  return new Map(staged.map(({ file, final }) => [file.name, final]));
}

function writeStaged(temp: string, file: FileToWrite, owner: Owner | undefined): void {
  let fd: number;
  try {
    fd = openSync(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (error) {
    throw outputError(`cannot create a file for ${file.name} in the secrets dir`, error);
  }
  try {
    // writeSync may write less than asked (ENOSPC on tmpfs shows up as a short count first).
    let offset = 0;
    while (offset < file.bytes.length)
      offset += writeSync(fd, file.bytes, offset, file.bytes.length - offset);
    // Owner before mode, both before publication: the file is never visible with the wrong ones.
    if (owner !== undefined) fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, file.mode);
    fsyncSync(fd);
  } catch (error) {
    throw outputError(`cannot write ${file.name}`, error);
  } finally {
    closeSync(fd);
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** After a supervised child exits: remove the directory this run created, with everything in it. */
export function removeSecretsDir(dir: SecretsDir): void {
  if (dir.created) rmSync(dir.path, { recursive: true, force: true });
}
