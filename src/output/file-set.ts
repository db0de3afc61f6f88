// File targets published as one set that is swapped whole (kubelet's AtomicWriter shape), for --watch:
//
//   DIR/TOKEN -> ..data/TOKEN         one relative symlink per target: the path the app was given
//   DIR/..data -> ..2026_12_06_…      the current generation
//   DIR/..2026_12_06_…/TOKEN          the files, published by publish.ts into a fresh directory
//
// WHY: the paths in *_FILE never change, and renaming a new `..data` over the old one moves every path
// to the new set in one step, so the app can never read a new certificate with an old key. Everything
// secretwrap makes here (links, generations) is stamped in the dir's manifest, like plain files are, so
// it replaces only what it made and refuses anything else under a target name or at `..data`.
import { closeSync, fsyncSync, lchownSync, lstatSync, renameSync, symlinkSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { FileToWrite, Owner } from "./files.ts";
import { isOwn, MANIFEST_NAME, readManifest, stampOf, type Manifest, type Stamp } from "./manifest.ts";
import { lstatIfAny, outputError } from "./output-error.ts";
import {
  createGeneration,
  generationMode,
  isEntryName,
  removeGeneration,
  type Generation,
} from "./generation.ts";
import { publishManifest, publishThroughFd, type Publication, type StaleFiles } from "./publish.ts";
import { closeStagingDir, openStagingDir, throughFd, withDirFd, type StagingDir } from "./staging.ts";

/** The symlink to the current generation. Starts with "..": no target file name may (plan.ts). */
export const DATA_NAME = "..data";

/** A manifest that lists a link or a generation: the dir holds a file set and must stay one. */
export const isFileSet = (manifest: Manifest): boolean =>
  [...manifest.values()].some((stamps) => stamps.some((stamp) => stamp.kind !== undefined));

/**
 * Publishes `files` in `dir` as one set: the first time (an empty dir, or one with plain files an earlier
 * run published, which are converted), and for every swap after. Target name → its stable path
 * DIR/<fileName>, the same map publishFiles returns. Throws an OUTPUT_FAILED error (exit 73) if the set
 * cannot be published; the previous set is then whole and visible, as before the call.
 */
export function publishFileSet(
  dir: string,
  files: readonly FileToWrite[],
  owner?: Owner,
  stale: StaleFiles = { remove: false, warn: () => {} },
): Map<string, string> {
  withDirFd(dir, (dirFd) => publishSetThroughFd(dirFd, dir, files, owner, stale));
  return new Map(files.map((file) => [file.name, join(dir, file.fileName)]));
}

/** An entry made in the staging dir (a symlink, or the generation), to be renamed into the output dir. */
interface StagedEntry {
  readonly name: string;
  readonly stagedName: string;
  readonly stamp: Stamp;
}

/**
 * The steps, and what a failure or a kill -9 after each leaves (every entry is stamped in the manifest
 * before it can hold a secret, so the next run removes what an interrupted one left):
 * 1. every target name that exists, and `..data`, must be secretwrap's: nothing has changed yet;
 * 2. a generation dir (--user's; 0700, plus x where a file grants group or others read) and symlinks are made in a private staging dir: `..data` → the
 *    generation, and one per target name that is not yet secretwrap's link; the manifest lists them
 *    beside the current set, then the generation is renamed into the output dir;
 * 3. the files are published into the generation (publish.ts: zeros reserved first, so a full tmpfs
 *    fails here), then the links of new names are renamed in: they dangle until the switch;
 * 4. THE SWITCH: the staged link is renamed over `..data`; every path now reads the new set.
 * A failure up to here truncates every file of the new generation, removes it and the new links, and
 * the previous set is as it was. After the switch nothing fails the publication but a plain file of an
 * earlier non-watch run that cannot be replaced by its link:
 * 5. plain files of an earlier non-watch run are replaced by their links, one by one (each atomically);
 * 6. links of names no longer in the set (dangling since the switch) are unlinked, and old generations
 *    removed; the manifest then lists only what is left.
 * A name dropped from the set always goes with its generation (the set is one unit); `stale` decides
 * only about plain files of an earlier non-watch run, as for publishFiles, and receives the warnings.
 */
export function publishSetThroughFd(
  dirFd: number,
  dir: string,
  files: readonly FileToWrite[],
  owner: Owner | undefined,
  stale: StaleFiles,
): void {
  const at = (name: string): string => throughFd(dirFd, name);
  const own = ownEntries(readManifest(at(MANIFEST_NAME)), at);
  refuseForeign(files, dir, at, own);
  const staging = openStagingDir(dirFd);
  let switched: Switched;
  try {
    switched = switchSet(dirFd, dir, files, owner, staging, own, stale);
  } catch (error) {
    closeStagingDir(staging);
    throw error;
  }
  const unconverted = convertPlainFiles(staging, switched.links, switched.plain, at, dir);
  removeDropped(dirFd, files, own, switched.generation, stale, dir);
  settleManifest(staging, at, switched.union, stale);
  closeStagingDir(staging);
  try {
    fsyncSync(dirFd);
  } catch {
    // only the clean-up's durability: the switch was synced (or warned about)
  }
  if (unconverted.length > 0) {
    throw outputError(
      `the new set is published, but ${unconverted.join(", ")} still hold the files of an earlier run`,
      undefined,
      "run again: each is then replaced by its link to the set",
    );
  }
}

/** What the switch leaves for the clean-up after it. */
interface Switched {
  readonly generation: string;
  /** Staged links of names that were not yet secretwrap's links (those of plain names still staged). */
  readonly links: readonly StagedEntry[];
  /** Names holding a plain file of an earlier non-watch run, to be replaced by their links. */
  readonly plain: ReadonlySet<string>;
  /** The manifest written before the switch: the previous set and everything staged for the new one. */
  readonly union: Manifest;
}

/** Steps 2 to 4: all or nothing. */
function switchSet(
  dirFd: number,
  dir: string,
  files: readonly FileToWrite[],
  owner: Owner | undefined,
  staging: StagingDir,
  own: ReadonlyMap<string, Stamp>,
  stale: StaleFiles,
): Switched {
  const at = (name: string): string => throughFd(dirFd, name);
  const newNames = files.filter((f) => own.get(f.fileName)?.kind !== "link").map((f) => f.fileName);
  const plain = new Set(newNames.filter((name) => own.has(name)));
  const links: StagedEntry[] = [];
  const placed: StagedEntry[] = [];
  let union: Manifest | undefined;
  let gen: Generation | undefined;
  let publication: Publication | undefined;
  let switched: Switched;
  try {
    gen = createGeneration(staging.fd, owner, generationMode(files.map((file) => file.mode)));
    const data = stageLink(staging, DATA_NAME, "data", gen.name, owner);
    newNames.forEach((name, i) =>
      links.push(stageLink(staging, name, `l${i}`, `${DATA_NAME}/${name}`, owner)),
    );
    union = withStamps(own, [{ name: gen.name, stamp: gen.stamp }, data, ...links]);
    publishManifest(staging, at, union);
    placeEntry(staging, { name: gen.name, stagedName: gen.name, stamp: gen.stamp }, at, dir);
    publication = publishThroughFd(gen.fd, join(dir, gen.name), files, owner, {
      remove: false,
      warn: () => {},
    });
    fsyncSync(gen.fd);
    for (const link of links.filter((l) => !plain.has(l.name))) {
      placeEntry(staging, link, at, dir);
      placed.push(link);
    }
    placeEntry(staging, data, at, dir);
    switched = { generation: gen.name, links, plain, union };
  } catch (error) {
    publication?.undo();
    for (const link of placed) unlinkIfOwn(at(link.name), link.stamp);
    if (gen !== undefined) {
      removeGeneration(dirFd, gen.name, gen.stamp);
      removeGeneration(staging.fd, gen.name, gen.stamp);
    }
    for (const link of links) removeQuietly(staging.entry(link.stagedName));
    removeQuietly(staging.entry("data"));
    if (union !== undefined) settleManifest(staging, at, union, stale);
    throw error;
  } finally {
    if (gen !== undefined) closeSync(gen.fd);
  }
  // From here on readers see the new set: nothing may undo it any more.
  publication?.close();
  try {
    fsyncSync(dirFd);
  } catch (error) {
    stale.warn(outputError(`the new set of files in ${dir} may not survive a crash`, error).message);
  }
  return switched;
}

/** Every entry the manifest lists that is still the one secretwrap made → its stamp now. */
function ownEntries(manifest: Manifest, at: (name: string) => string): Map<string, Stamp> {
  const own = new Map<string, Stamp>();
  for (const [name, stamps] of manifest) {
    if (!isEntryName(name)) continue;
    const stat = lstatIfAny(at(name));
    if (stat !== undefined && isOwn(stat, stamps)) own.set(name, stampOf(stat));
  }
  return own;
}

/** A target name or `..data` that exists and is not secretwrap's is never replaced. */
function refuseForeign(
  files: readonly FileToWrite[],
  dir: string,
  at: (name: string) => string,
  own: ReadonlyMap<string, Stamp>,
): void {
  const taken = (name: string): boolean => !own.has(name) && lstatIfAny(at(name)) !== undefined;
  const foreign = files.filter((file) => taken(file.fileName));
  if (foreign.length > 0) {
    throw outputError(
      `cannot publish ${foreign.map((f) => `${f.name} as ${join(dir, f.fileName)}`).join(", ")}: it already exists and secretwrap did not write it`,
      undefined,
      `remove it or choose another directory; secretwrap replaces only files it published there (listed in ${MANIFEST_NAME})`,
    );
  }
  if (taken(DATA_NAME) || (own.has(DATA_NAME) && own.get(DATA_NAME)?.kind !== "link")) {
    throw outputError(
      `cannot publish the files in ${dir}: ${join(dir, DATA_NAME)} already exists and secretwrap did not write it`,
      undefined,
      `remove it or choose another directory; secretwrap switches its file sets through ${DATA_NAME}`,
    );
  }
}

function stageLink(
  staging: StagingDir,
  name: string,
  stagedName: string,
  target: string,
  owner: Owner | undefined,
): StagedEntry {
  const path = staging.entry(stagedName);
  try {
    symlinkSync(target, path);
    // In a sticky world-writable dir the kernel lets a user follow only its own links (or the dir owner's).
    if (owner !== undefined) lchownSync(path, owner.uid, owner.gid);
    return { name, stagedName, stamp: stampOf(lstatSync(path, { bigint: true })) };
  } catch (error) {
    throw outputError(`cannot create the link for ${name} in the output dir`, error);
  }
}

/** Renames a staged link (or the generation) into the output dir and checks that the name now holds it. */
function placeEntry(
  staging: StagingDir,
  entry: StagedEntry,
  at: (name: string) => string,
  dir: string,
): void {
  try {
    renameSync(staging.entry(entry.stagedName), at(entry.name));
  } catch (error) {
    throw outputError(`cannot publish ${join(dir, entry.name)}`, error);
  }
  const stat = lstatIfAny(at(entry.name));
  if (stat !== undefined && isOwn(stat, [entry.stamp])) return;
  throw outputError(
    `${join(dir, entry.name)} was replaced by another user while secretwrap published it`,
    undefined,
    "give secretwrap a directory no other user can write to, or one with the sticky bit (chmod +t)",
  );
}

/** Plain files of an earlier non-watch run in the new set: each replaced by its link. Names that failed. */
function convertPlainFiles(
  staging: StagingDir,
  links: readonly StagedEntry[],
  plain: ReadonlySet<string>,
  at: (name: string) => string,
  dir: string,
): string[] {
  const failed: string[] = [];
  for (const link of links.filter((l) => plain.has(l.name))) {
    try {
      placeEntry(staging, link, at, dir);
    } catch {
      removeQuietly(staging.entry(link.stagedName));
      failed.push(join(dir, link.name));
    }
  }
  return failed;
}

/** After the switch: links of dropped names, plain files of an earlier run (per `stale`), old generations. */
function removeDropped(
  dirFd: number,
  files: readonly FileToWrite[],
  own: ReadonlyMap<string, Stamp>,
  current: string,
  stale: StaleFiles,
  dir: string,
): void {
  const at = (name: string): string => throughFd(dirFd, name);
  const declared = new Set(files.map((file) => file.fileName));
  for (const [name, stamp] of own) {
    if (declared.has(name) || name === DATA_NAME || name === current) continue;
    if (stamp.kind === "dir") {
      if (!removeGeneration(dirFd, name, stamp))
        stale.warn(`${join(dir, name)}, an earlier set of files, could not be removed entirely`);
    } else if (stamp.kind === "link" || stale.remove) {
      if (!unlinkIfOwn(at(name), stamp)) stale.warn(`${join(dir, name)} could not be removed`);
    } else {
      stale.warn(
        `${join(dir, name)} was left by an earlier run and no longer declared: remove it or use a fresh --out`,
      );
    }
  }
}

/** Rewrites the manifest to list exactly what of `union` is still there and secretwrap's. */
function settleManifest(
  staging: StagingDir,
  at: (name: string) => string,
  union: Manifest,
  stale: StaleFiles,
): void {
  try {
    publishManifest(staging, at, asManifest(ownEntries(union, at)));
  } catch {
    // The manifest on disk lists at most entries that are gone: the next publication settles it.
    stale.warn(`cannot update ${MANIFEST_NAME} in the output dir: the next publication will`);
  }
}

function withStamps(
  own: ReadonlyMap<string, Stamp>,
  added: readonly { readonly name: string; readonly stamp: Stamp }[],
): Map<string, Stamp[]> {
  const manifest = asManifest(own);
  for (const { name, stamp } of added) manifest.set(name, [...(manifest.get(name) ?? []), stamp]);
  return manifest;
}

const asManifest = (entries: ReadonlyMap<string, Stamp>): Map<string, Stamp[]> =>
  new Map([...entries].map(([name, stamp]) => [name, [stamp]]));

/** Unlinks `path` if it still holds the entry stamped `stamp`; true when nothing of it is left there. */
function unlinkIfOwn(path: string, stamp: Stamp): boolean {
  try {
    const stat = lstatIfAny(path);
    if (stat === undefined) return true;
    if (!isOwn(stat, [stamp])) return false;
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not staged, or already moved
  }
}
