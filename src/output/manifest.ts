// Which files in an output dir secretwrap wrote: a manifest, `..secretwrap-manifest`, maps each file
// name to the inode numbers (and owners) of the files secretwrap published under it.
//
// WHY a manifest and not just owner + mode: with `--user`, the app owns its secret files, and the same
// app may write files of its own into a shared dir; only the inode says which file secretwrap made. The
// manifest is trusted only when it is a regular file with one link owned by this process's user, so
// another user can at most delete or replace it, which makes every existing file foreign (refused),
// never the other way round.
import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats } from "node:fs";
import { parseJson } from "../json.ts";

/** Starts with "..": no target file name may (plan.ts), so it never collides with one. */
export const MANIFEST_NAME = "..secretwrap-manifest";
const MAX_MANIFEST_BYTES = 1024 * 1024;

/**
 * One entry secretwrap made: its inode number (as a decimal string: exact past 2^53), owner and kind.
 * A plain file has no kind (the only shape older versions wrote, and read back); a file set (file-set.ts)
 * also makes symlinks and generation directories. An older version finds a kind it does not know on
 * something that is not a regular file, so it refuses the name: fail closed.
 */
export interface Stamp {
  readonly ino: string;
  readonly uid: number;
  readonly kind?: StampKind;
}
export type StampKind = "link" | "dir";
const KINDS: readonly unknown[] = ["link", "dir"] satisfies StampKind[];

/** File name → stamps of the entries secretwrap made under it (at most the old and the new one). */
export type Manifest = ReadonlyMap<string, readonly Stamp[]>;

export function stampOf(stat: BigIntStats): Stamp {
  const kind: StampKind | undefined = stat.isSymbolicLink() ? "link" : stat.isDirectory() ? "dir" : undefined;
  return { ino: String(stat.ino), uid: Number(stat.uid), ...(kind === undefined ? {} : { kind }) };
}

/** True when `stat` is an entry secretwrap made under this name, unchanged since. */
export function isOwn(stat: BigIntStats, stamps: readonly Stamp[] | undefined): boolean {
  const now = stampOf(stat);
  // A hard link to a file (or to a symlink) could be renamed elsewhere by another user: not ours.
  if (now.kind === undefined ? !stat.isFile() || stat.nlink !== 1n : now.kind === "link" && stat.nlink !== 1n)
    return false;
  return (stamps ?? []).some((s) => s.ino === now.ino && s.uid === now.uid && s.kind === now.kind);
}

/** The manifest at `path` (reached through a descriptor of its dir), or an empty one if untrusted. */
export function readManifest(path: string): Manifest {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted under the name must not hang the run.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return new Map();
  }
  try {
    const stat = fstatSync(fd, { bigint: true });
    const trusted =
      stat.isFile() &&
      stat.nlink === 1n &&
      Number(stat.uid) === process.geteuid?.() &&
      stat.size <= BigInt(MAX_MANIFEST_BYTES);
    if (!trusted) return new Map();
    const buffer = Buffer.alloc(Number(stat.size));
    let offset = 0;
    while (offset < buffer.length) {
      const n = readSync(fd, buffer, offset, buffer.length - offset, offset);
      if (n === 0) break;
      offset += n;
    }
    return parseManifest(buffer.subarray(0, offset).toString("utf8"));
  } finally {
    closeSync(fd);
  }
}

/** Anything but the exact shape secretwrap writes is an empty manifest. File names are data (a Map). */
export function parseManifest(text: string): Manifest {
  const manifest = new Map<string, Stamp[]>();
  let data: unknown;
  try {
    data = parseJson(text);
  } catch {
    return manifest;
  }
  if (!isRecord(data) || data["secretwrap-manifest"] !== 1 || !isRecord(data["files"])) return manifest;
  for (const [name, stamps] of Object.entries(data["files"])) {
    if (!Array.isArray(stamps)) return new Map();
    const valid = stamps.filter(
      (s): s is Stamp =>
        isRecord(s) &&
        typeof s["ino"] === "string" &&
        /^[0-9]+$/.test(s["ino"]) &&
        Number.isSafeInteger(s["uid"]) &&
        (s["kind"] === undefined || KINDS.includes(s["kind"])),
    );
    if (valid.length !== stamps.length) return new Map();
    manifest.set(
      name,
      valid.map(({ ino, uid, kind }) => (kind === undefined ? { ino, uid } : { ino, uid, kind })),
    );
  }
  return manifest;
}

export function serializeManifest(manifest: Manifest): string {
  const files: Record<string, readonly Stamp[]> = Object.create(null) as Record<string, readonly Stamp[]>;
  for (const [name, stamps] of manifest)
    files[name] = stamps.map(({ ino, uid, kind }) =>
      kind === undefined ? { ino, uid } : { ino, uid, kind },
    );
  return `${JSON.stringify({ "secretwrap-manifest": 1, files })}\n`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
