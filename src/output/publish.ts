// The hardened one-shot publication of files into a directory held open as a descriptor: every file is
// published from the descriptor it was written through, never looked up again by path, and nothing is
// published unless every file could be staged. publishFiles (files.ts) uses it for an output dir; a file
// set (file-set.ts) uses it to fill a fresh generation dir, and keeps the descriptors open until the set
// is switched, so a later failure can still truncate what was written.
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { FileToWrite, Owner } from "./files.ts";
import {
  isOwn,
  MANIFEST_NAME,
  readManifest,
  serializeManifest,
  stampOf,
  type Manifest,
  type Stamp,
} from "./manifest.ts";
import { lstatIfAny, outputError } from "./output-error.ts";
import { closeStagingDir, openStagingDir, throughFd, type StagingDir } from "./staging.ts";

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

/** Files just published whose descriptors are still open. */
export interface Publication {
  /** Truncates every file (through its descriptor: no secret byte stays) and unlinks the names still holding them. */
  readonly undo: () => void;
  /** Closes the descriptors: the files stay published. */
  readonly close: () => void;
}

/**
 * Publishes every file, or none, into the directory open as `dirFd` (`dir` names it in messages).
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
 * moved it, no secret byte stays) and unlinks the names it published. On success the descriptors stay
 * open until the caller closes or undoes the publication.
 */
export function publishThroughFd(
  dirFd: number,
  dir: string,
  files: readonly FileToWrite[],
  owner: Owner | undefined,
  stale: StaleFiles,
): Publication {
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
  } catch (error) {
    closeAll(staged);
    throw error;
  } finally {
    closeStagingDir(staging);
  }
  if (!stale.remove) {
    for (const name of undeclared) {
      stale.warn(
        `${join(dir, name)} was left by an earlier run and no longer declared: remove it or use a fresh --out`,
      );
    }
  }
  let open = true;
  const closeOnce = (): void => {
    if (open) closeAll(staged);
    open = false;
  };
  return {
    undo: () => {
      if (open) rollBack(staged, undefined, at);
      closeOnce();
    },
    close: closeOnce,
  };
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
    // Only files: a file set's links and dirs are file-set.ts's to judge, never this publisher's.
    const files = stamps.filter((stamp) => stamp.kind === undefined);
    if (stat !== undefined && isOwn(stat, files)) kept.set(name, stampOf(stat));
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

/** Writes `manifest` in the staging dir and renames it over the dir's manifest. */
export function publishManifest(staging: StagingDir, at: (name: string) => string, manifest: Manifest): void {
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

function rollBack(
  staged: readonly Staged[],
  staging: StagingDir | undefined,
  at: (name: string) => string,
): void {
  for (const s of staged) {
    try {
      ftruncateSync(s.fd, 0);
    } catch {
      // nothing more can be done through this descriptor
    }
    if (!s.published) {
      if (staging !== undefined) removeQuietly(staging.entry(s.stagedName));
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
