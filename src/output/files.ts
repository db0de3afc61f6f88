// File outputs: one private directory per run on tmpfs (or the --secrets-dir / --out the user gave).
// Every file is published from the descriptor it was written through, never looked up again by path
// (see publishFiles for the steps and what a kill -9 leaves); nothing is published unless every file
// could be staged, and a second run replaces only the files it published before (manifest.ts).
import {
  accessSync,
  chownSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statfsSync,
  statSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SecretwrapError } from "../errors.ts";
import { isFileSet, publishSetThroughFd } from "./file-set.ts";
import { MANIFEST_NAME, readManifest } from "./manifest.ts";
import { outputError } from "./output-error.ts";
import { publishThroughFd, type StaleFiles } from "./publish.ts";
import { firstUnsearchable } from "./reachable.ts";
import { throughFd, withDirFd } from "./staging.ts";

export type { StaleFiles } from "./publish.ts";

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
  /** Something the user should know about the dir (a shared dir that others may change), to log. */
  readonly warning?: string;
}

const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;
export const DEFAULT_SECRETS_PARENT = "/dev/shm";
/** A default secrets dir is this prefix plus mkdtemp's six characters, in DEFAULT_SECRETS_PARENT. */
export const DEFAULT_SECRETS_PREFIX = "secretwrap-";

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

/**
 * What prepareSecretsDir will do, decided without writing anything: every rule it applies to the dir
 * (memory-backed unless --allow-disk, not a symlink, a directory, owned by this user and private unless
 * shared, or else creatable: its parent exists and is writable). `check` runs this alone; a failure is
 * the same error, with the same exit code, that run gets.
 */
export type DirPlan =
  | { readonly kind: "fresh"; readonly parent: string }
  | { readonly kind: "create"; readonly path: string }
  | { readonly kind: "existing"; readonly dir: SecretsDir };

export function validateSecretsDir(options: PrepareOptions): DirPlan {
  if (options.dir === undefined) {
    if (!existsSync(DEFAULT_SECRETS_PARENT)) {
      throw new SecretwrapError("NOT_TMPFS", `${DEFAULT_SECRETS_PARENT} does not exist on this system`, {
        hint: "pass --secrets-dir with a tmpfs directory, or --allow-disk",
      });
    }
    checkMemoryBacked(DEFAULT_SECRETS_PARENT, options.allowDisk);
    requireWritable(DEFAULT_SECRETS_PARENT, `cannot create a secrets dir in ${DEFAULT_SECRETS_PARENT}`);
    return { kind: "fresh", parent: DEFAULT_SECRETS_PARENT };
  }
  const plan = inspectGivenDir(options.dir, options.shared ?? false);
  if (plan.kind === "existing") {
    checkMemoryBacked(plan.dir.path, options.allowDisk);
    requireWritable(plan.dir.path, `cannot write to ${plan.dir.path}`);
  } else {
    // The new dir is on its parent's filesystem: checked before anything is created.
    const parent = dirname(resolve(plan.path));
    let stat;
    try {
      stat = statSync(parent);
    } catch (error) {
      throw outputError(`cannot create ${plan.path}: its parent ${parent} cannot be used`, error);
    }
    if (!stat.isDirectory()) throw outputError(`cannot create ${plan.path}: ${parent} is not a directory`);
    checkMemoryBacked(parent, options.allowDisk);
    requireWritable(parent, `cannot create ${plan.path}`);
  }
  if (options.owner !== undefined) requireReachable(plan, options.owner);
  return plan;
}

/**
 * With --user, the app must be able to open every file secretwrap publishes: the files are its own, but
 * the kernel also needs search permission for it on every directory on the way (reachable.ts). A dir
 * secretwrap creates is given to the user, so only its parents are checked; an existing dir is never
 * chmod'ed or chowned behind the user's back, so one the user cannot search is refused.
 */
function requireReachable(plan: DirPlan, owner: Owner): void {
  const walk =
    plan.kind === "fresh"
      ? plan.parent
      : plan.kind === "create"
        ? dirname(resolve(plan.path))
        : plan.dir.path;
  const denied = firstUnsearchable(walk, owner);
  if (denied === undefined) return;
  const where =
    plan.kind === "existing"
      ? plan.dir.path
      : plan.kind === "create"
        ? plan.path
        : `a secrets dir in ${plan.parent}`;
  const self = plan.kind === "existing" ? statSync(plan.dir.path) : undefined;
  const itself = self !== undefined && self.dev === denied.stat.dev && self.ino === denied.stat.ino;
  const { uid, gid, mode } = denied.stat;
  throw outputError(
    `${where} would be unreadable by --user ${owner.uid}:${owner.gid}: that user cannot search ${denied.path} (owner ${uid}:${gid}, mode ${(mode & 0o7777).toString(8)}), so the app could not open its files`,
    undefined,
    itself
      ? `chown ${owner.uid}:${owner.gid} ${denied.path} or chmod o+x ${denied.path}, or give a directory that does not exist yet (secretwrap creates it for that user)`
      : `chmod o+x ${denied.path}, or choose a directory that user can reach`,
  );
}

export function prepareSecretsDir(options: PrepareOptions): SecretsDir {
  const plan = validateSecretsDir(options);
  let dir: SecretsDir;
  if (plan.kind === "existing") {
    dir = plan.dir;
  } else {
    try {
      dir =
        plan.kind === "fresh"
          ? { path: mkdtempSync(join(plan.parent, DEFAULT_SECRETS_PREFIX)), created: true }
          : (mkdirSync(plan.path, { mode: 0o700 }), { path: plan.path, created: true });
    } catch (error) {
      throw outputError(
        plan.kind === "fresh"
          ? `cannot create a secrets dir in ${plan.parent}`
          : `cannot create ${plan.path}`,
        error,
      );
    }
    try {
      checkMemoryBacked(dir.path, options.allowDisk);
    } catch (error) {
      removeSecretsDir(dir);
      throw error;
    }
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

function requireWritable(path: string, message: string): void {
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw outputError(message, error);
  }
}

function inspectGivenDir(path: string, shared: boolean): Exclude<DirPlan, { kind: "fresh" }> {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      throw outputError(`cannot inspect ${path}`, error);
    return { kind: "create", path };
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
  return { kind: "existing", dir: { path, created: false, ...sharedDirWarning(path, stat.mode) } };
}

/**
 * WHY only a warning: a Kubernetes emptyDir is 0777 without the sticky bit and is the normal place for
 * render --out. secretwrap publishes safely into it, but once it has exited, any user who can write to
 * the dir can replace what it wrote; with the sticky bit only a file's owner can.
 */
function sharedDirWarning(path: string, mode: number): { warning?: string } {
  if ((mode & 0o022) === 0 || (mode & 0o1000) !== 0) return {};
  return {
    warning: `${path} is writable by other users and has no sticky bit (mode ${(mode & 0o7777).toString(8)}): any of them can replace the files secretwrap writes once it has exited; chmod +t or 0755 it`,
  };
}

/**
 * Publishes every file, or none, into `dir` (publish.ts has the steps and what a kill -9 leaves); target
 * name → its path. A dir that holds a file set (an earlier or a running --watch published it) stays one:
 * the files are swapped in as a new set (file-set.ts), so the paths and the guarantee stay the same.
 */
export function publishFiles(
  dir: string,
  files: readonly FileToWrite[],
  owner?: Owner,
  stale: StaleFiles = { remove: false, warn: () => {} },
): Map<string, string> {
  withDirFd(dir, (dirFd) => {
    if (isFileSet(readManifest(throughFd(dirFd, MANIFEST_NAME)))) {
      publishSetThroughFd(dirFd, dir, files, owner, stale);
    } else {
      publishThroughFd(dirFd, dir, files, owner, stale).close();
    }
  });
  return new Map(files.map((file) => [file.name, join(dir, file.fileName)]));
}

/** After a supervised child exits: remove the directory this run created, with everything in it. */
export function removeSecretsDir(dir: SecretsDir): void {
  if (dir.created) rmSync(dir.path, { recursive: true, force: true });
}
