// File outputs: one private directory per run on tmpfs (or the --secrets-dir / --out the user gave).
// Every file is published from the descriptor it was written through, never looked up again by path
// (see publishFiles for the steps and what a kill -9 leaves); nothing is published unless every file
// could be staged, and a second run replaces only the files it published before (manifest.ts).
import {
  accessSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SecretwrapError } from "../errors.ts";
import {
  isOwn,
  MANIFEST_NAME,
  readManifest,
  serializeManifest,
  stampOf,
  type Manifest,
  type Stamp,
} from "./manifest.ts";
import { firstUnsearchable } from "./reachable.ts";
import {
  closeStagingDir,
  openDirFd,
  openStagingDir,
  requireProcFd,
  throughFd,
  type StagingDir,
} from "./staging.ts";

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

/** One file on its way out: the descriptor it was written through, and where it goes. */
interface Staged {
  readonly file: FileToWrite;
  readonly fd: number;
  readonly stagedName: string;
  readonly dev: bigint;
  readonly stamp: Stamp;
  published: boolean;
}

/**
 * What to do with a file an earlier run published (the manifest says so, and it is unchanged) that this
 * run no longer declares. run --secrets-dir is the app's own dir: such a file is removed once this run
 * has published its files, so a secret taken out of the config is no longer readable by a restarted app.
 * render --out may be shared by several init containers rendering different sets: it is kept, with a
 * warning naming it. A file secretwrap did not write is never touched.
 */
export interface StaleFiles {
  readonly remove: boolean;
  readonly warn: (message: string) => void;
}

/**
 * Publishes every file, or none, from the descriptors that were written; never re-opens one by path.
 * The steps, and what a kill -9 right after each one leaves behind:
 * 1. every existing target must be a file secretwrap published (its manifest says so): nothing yet;
 * 2. in a private staging dir, each file is created mode 0000, given to --user, and filled with zeros
 *    of the value's length, so a full tmpfs fails here, before anything is published: zero-filled
 *    files in a 0700 dir — no secret byte;
 * 3. the manifest, listing each name's old and new inode, replaces the old one: the same;
 * 4. each file is renamed over its target and checked (fstat of the descriptor = lstat of the
 *    target): targets are 0000 zero-filled files, older ones not yet replaced are intact;
 * 5. each value is written over its zeros through the descriptor, chmod'ed to its mode, fsynced: a
 *    target holds its value or zeros (a value larger than a page may be cut short by the kill);
 * 6. every target is checked again and the dir fsynced: done.
 * Any failure truncates every file this run made (through its descriptor, so wherever another user
 * moved it, no secret byte stays) and unlinks the names it published.
 */
export function publishFiles(
  dir: string,
  files: readonly FileToWrite[],
  owner?: Owner,
  stale: StaleFiles = { remove: false, warn: () => {} },
): Map<string, string> {
  requireProcFd();
  let dirFd: number;
  try {
    dirFd = openDirFd(dir);
  } catch (error) {
    throw outputError(`cannot open ${dir}`, error);
  }
  try {
    publishInto(dirFd, dir, files, owner, stale);
  } finally {
    closeSync(dirFd);
  }
  return new Map(files.map((file) => [file.name, join(dir, file.fileName)]));
}

function publishInto(
  dirFd: number,
  dir: string,
  files: readonly FileToWrite[],
  owner: Owner | undefined,
  stale: StaleFiles,
): void {
  const at = (name: string): string => throughFd(dirFd, name);
  const kept = ownFilesNow(readManifest(at(MANIFEST_NAME)), at);
  refuseForeignTargets(files, dir, at, kept);
  const declared = new Set(files.map((file) => file.fileName));
  const undeclared = [...kept.keys()].filter((name) => !declared.has(name));
  const staging = openStagingDir(dirFd);
  const staged: Staged[] = [];
  try {
    for (const file of files) staged.push(stage(staging, file, owner, `f${staged.length}`));
    publishManifest(staging, at, nextManifest(kept, staged));
    for (const s of staged) {
      try {
        renameSync(staging.entry(s.stagedName), at(s.file.fileName));
      } catch (error) {
        throw outputError(`cannot publish ${s.file.name} as ${join(dir, s.file.fileName)}`, error);
      }
      s.published = true;
      verifyPublished(s, at, dir);
    }
    for (const s of staged) fillIn(s);
    for (const s of staged) verifyPublished(s, at, dir);
    fsyncSync(dirFd);
  } catch (error) {
    rollBack(staged, staging, at);
    closeAll(staged);
    closeStagingDir(staging);
    throw error;
  }
  try {
    // Only after this run's files are out, so a failure above leaves the earlier run's set whole. Until
    // the manifest below replaces the one written above, it still lists these files: a kill -9 in
    // between leaves them to the next run, which removes them then.
    if (stale.remove && undeclared.length > 0) {
      const removed = removeStale(undeclared, kept, at, dir);
      const remaining = new Map([...kept].filter(([name]) => !removed.has(name)));
      publishManifest(staging, at, nextManifest(remaining, staged));
      fsyncSync(dirFd);
    }
  } finally {
    closeAll(staged);
    closeStagingDir(staging);
  }
  if (!stale.remove) {
    for (const name of undeclared) {
      stale.warn(
        `${join(dir, name)} was left by an earlier run and no longer declared: remove it or use a fresh --out`,
      );
    }
  }
}

function closeAll(staged: readonly Staged[]): void {
  for (const s of staged) closeSync(s.fd);
}

/** Unlinks each name that still holds the file the earlier run published; returns the names now gone. */
function removeStale(
  names: readonly string[],
  kept: ReadonlyMap<string, Stamp>,
  at: (name: string) => string,
  dir: string,
): Set<string> {
  const removed = new Set<string>();
  for (const name of names) {
    const stat = lstatIfAny(at(name));
    if (stat === undefined) {
      removed.add(name);
      continue;
    }
    const stamp = kept.get(name);
    if (!isOwn(stat, stamp === undefined ? [] : [stamp])) continue;
    try {
      unlinkSync(at(name));
      removed.add(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") removed.add(name);
      else throw outputError(`cannot remove ${join(dir, name)}, which is no longer declared`, error);
    }
  }
  return removed;
}

/** Names the manifest lists whose file is still the one secretwrap published → its stamp now. */
function ownFilesNow(previous: Manifest, at: (name: string) => string): Map<string, Stamp> {
  const kept = new Map<string, Stamp>();
  for (const [name, stamps] of previous) {
    const stat = lstatIfAny(at(name));
    if (stat !== undefined && isOwn(stat, stamps)) kept.set(name, stampOf(stat));
  }
  return kept;
}

function refuseForeignTargets(
  files: readonly FileToWrite[],
  dir: string,
  at: (name: string) => string,
  kept: ReadonlyMap<string, Stamp>,
): void {
  const foreign = files.filter(
    (file) => !kept.has(file.fileName) && lstatIfAny(at(file.fileName)) !== undefined,
  );
  if (foreign.length === 0) return;
  throw outputError(
    `cannot publish ${foreign.map((f) => `${f.name} as ${join(dir, f.fileName)}`).join(", ")}: it already exists and secretwrap did not write it`,
    undefined,
    `remove it or choose another directory; secretwrap replaces only files it published there (listed in ${MANIFEST_NAME})`,
  );
}

function lstatIfAny(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw outputError(`cannot inspect ${path}`, error);
  }
}

/** Creates the file unreadable (0000), gives it its owner, and reserves its space with zeros. */
function stage(staging: StagingDir, file: FileToWrite, owner: Owner | undefined, stagedName: string): Staged {
  let fd: number;
  try {
    fd = openSync(
      staging.entry(stagedName),
      constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o000,
    );
  } catch (error) {
    throw outputError(`cannot create a file for ${file.name} in the output dir`, error);
  }
  try {
    if (owner !== undefined) fchownSync(fd, owner.uid, owner.gid);
    writeZeros(fd, file.bytes.length);
    const stat = fstatSync(fd, { bigint: true });
    return { file, fd, stagedName, dev: stat.dev, stamp: stampOf(stat), published: false };
  } catch (error) {
    closeSync(fd);
    removeQuietly(staging.entry(stagedName));
    throw outputError(`cannot write ${file.name}`, error);
  }
}

function publishManifest(staging: StagingDir, at: (name: string) => string, manifest: Manifest): void {
  const name = "manifest";
  try {
    const fd = openSync(
      staging.entry(name),
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o400,
    );
    try {
      writeAll(fd, Buffer.from(serializeManifest(manifest)));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(staging.entry(name), at(MANIFEST_NAME));
  } catch (error) {
    removeQuietly(staging.entry(name));
    throw outputError(`cannot write ${MANIFEST_NAME} in the output dir`, error);
  }
}

/** Each name's stamps: the file secretwrap published before (if still there) and the one it stages now. */
function nextManifest(kept: ReadonlyMap<string, Stamp>, staged: readonly Staged[]): Manifest {
  const manifest = new Map<string, Stamp[]>([...kept].map(([name, stamp]) => [name, [stamp]]));
  for (const s of staged) manifest.set(s.file.fileName, [...(manifest.get(s.file.fileName) ?? []), s.stamp]);
  return manifest;
}

function verifyPublished(s: Staged, at: (name: string) => string, dir: string): void {
  const stat = lstatIfAny(at(s.file.fileName));
  if (stat !== undefined && stat.dev === s.dev && String(stat.ino) === s.stamp.ino) return;
  throw outputError(
    `${join(dir, s.file.fileName)} was replaced by another user while secretwrap published ${s.file.name}`,
    undefined,
    "give secretwrap a directory no other user can write to, or one with the sticky bit (chmod +t)",
  );
}

/** The value over the zeros, then its mode: readable only once complete. */
function fillIn(s: Staged): void {
  try {
    writeAll(s.fd, s.file.bytes);
    fchmodSync(s.fd, s.file.mode);
    fsyncSync(s.fd);
  } catch (error) {
    throw outputError(`cannot write ${s.file.name}`, error);
  }
}

/** Writes all of `bytes` from offset 0: writeSync may write less than asked (a full tmpfs does). */
function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset, offset);
}

/** Reserves `length` bytes with zeros from offset 0, in chunks so a large value needs no large buffer. */
function writeZeros(fd: number, length: number): void {
  const zeros = Buffer.alloc(Math.min(length, 64 * 1024));
  let offset = 0;
  while (offset < length) offset += writeSync(fd, zeros, 0, Math.min(zeros.length, length - offset), offset);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function rollBack(staged: readonly Staged[], staging: StagingDir, at: (name: string) => string): void {
  for (const s of staged) {
    try {
      ftruncateSync(s.fd, 0);
    } catch {
      // nothing more can be done through this descriptor
    }
    if (!s.published) {
      removeQuietly(staging.entry(s.stagedName));
      continue;
    }
    // Unlink only the name that still holds this run's file; anything else is not ours to remove.
    try {
      const stat = lstatSync(at(s.file.fileName), { bigint: true });
      if (String(stat.ino) === s.stamp.ino) unlinkSync(at(s.file.fileName));
    } catch {
      // already gone
    }
  }
}

/** After a supervised child exits: remove the directory this run created, with everything in it. */
export function removeSecretsDir(dir: SecretsDir): void {
  if (dir.created) rmSync(dir.path, { recursive: true, force: true });
}
