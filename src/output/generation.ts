// One generation of a file set (file-set.ts): a directory `..<UTC time>.<random>` in the output dir that
// holds one complete set of files. `..data` points to the current one.
//
// WHY a directory per generation: the set is switched by renaming one symlink, so every file of the new
// set must already exist, complete, beside the old set, which readers may still be using.
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  openSync,
  readdirSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  type BigIntStats,
} from "node:fs";
import type { Owner } from "./files.ts";
import { isOwn, MANIFEST_NAME, readManifest, stampOf, type Stamp } from "./manifest.ts";
import { lstatIfAny, outputError } from "./output-error.ts";
import { openPrivateDir, STAGING_PREFIX, throughFd } from "./staging.ts";

export interface Generation {
  /** The directory, open: files are published into it through this descriptor. */
  readonly fd: number;
  readonly name: string;
  /** Taken after the chown, so the manifest records the owner it keeps. */
  readonly stamp: Stamp;
}

/** `..2026_12_06_07_05_02.`: sorts by time (UTC), starts with ".." so no target name can collide. */
export function generationPrefix(now: Date): string {
  const [date = "", time = ""] = now.toISOString().split("T");
  return `..${date.replaceAll("-", "_")}_${time.slice(0, 8).replaceAll(":", "_")}.`;
}

/**
 * The generation dir's mode for files of these modes: only its owner may list it (0700), and group or
 * others may pass through it (x) only where a file grants them read, so a file keeps the mode it was
 * given (render --out with mode 0444 for an app of another uid) and 0400 files get a 0700 dir.
 */
export function generationMode(fileModes: readonly number[]): number {
  return fileModes.reduce((mode, fileMode) => mode | ((fileMode & 0o044) >> 2), 0o700);
}

/**
 * Creates a fresh generation dir in the private staging dir open as `stagingFd`, with `mode`
 * (generationMode), owned by --user when given so the app can reach its files. It is renamed into the
 * output dir only once the manifest lists it (file-set.ts), so a kill -9 never leaves a generation there
 * that no manifest claims.
 */
export function createGeneration(
  stagingFd: number,
  owner: Owner | undefined,
  mode: number,
  now = new Date(),
): Generation {
  const { dir, name } = openPrivateDir(stagingFd, generationPrefix(now), "generation directory");
  try {
    if (owner !== undefined) fchownSync(dir.fd, owner.uid, owner.gid);
    fchmodSync(dir.fd, mode);
    return { fd: dir.fd, name, stamp: stampOf(fstatSync(dir.fd, { bigint: true })) };
  } catch (error) {
    closeSync(dir.fd);
    removeQuietly(() => rmdirSync(throughFd(stagingFd, name)));
    throw outputError("cannot set the owner and mode of a generation directory", error);
  }
}

/**
 * Removes the generation `name` of the directory open as `dirFd` (the output dir or the staging dir), if it is still the one secretwrap made
 * (`stamp`): the files its own manifest lists (unlinked, never truncated: a reader that opened one before
 * the switch reads it whole), staging leftovers of an interrupted publication (zero-filled), the manifest,
 * then the directory. Anything else in it is not secretwrap's: it stays, and so does the directory.
 * Returns whether the generation is gone.
 */
export function removeGeneration(dirFd: number, name: string, stamp: Stamp): boolean {
  const at = (entry: string): string => throughFd(dirFd, entry);
  let fd: number;
  try {
    fd = openSync(at(name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    return false;
  }
  try {
    if (!isOwn(fstatSync(fd, { bigint: true }), [stamp])) return false;
    const inside = (entry: string): string => throughFd(fd, entry);
    for (const [file, stamps] of readManifest(inside(MANIFEST_NAME))) {
      if (!isEntryName(file)) continue;
      const stat = lstatIfAny(inside(file));
      if (stat !== undefined && isOwn(stat, stamps)) unlinkSync(inside(file));
    }
    for (const entry of readdirSync(throughFd(fd, "."))) {
      if (entry.startsWith(STAGING_PREFIX) && isMine(lstatIfAny(inside(entry)), "dir"))
        rmSync(inside(entry), { recursive: true, force: true });
    }
    if (isMine(lstatIfAny(inside(MANIFEST_NAME)), "file")) unlinkSync(inside(MANIFEST_NAME));
    // By name: rmdir cannot go through a descriptor. Checked again just before, so at most a directory
    // that another user swapped in within that instant, and only if empty, could be removed instead.
    const now = lstatIfAny(at(name));
    if (now !== undefined && isOwn(now, [stamp])) rmdirSync(at(name));
    return lstatIfAny(at(name)) === undefined;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** A single entry name: what secretwrap writes in a manifest, checked anyway before it is used in a path. */
export const isEntryName = (name: string): boolean =>
  name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");

/** Made by this process's user (so by secretwrap: no one else can create an entry owned by it). */
function isMine(stat: BigIntStats | undefined, kind: "dir" | "file"): boolean {
  if (stat === undefined || Number(stat.uid) !== process.geteuid?.()) return false;
  return kind === "dir" ? stat.isDirectory() : stat.isFile() && stat.nlink === 1n;
}

function removeQuietly(remove: () => void): void {
  try {
    remove();
  } catch {
    // already gone, or not empty: nothing of this run's is in it
  }
}
