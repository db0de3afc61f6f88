// Whether the --user can reach the files secretwrap publishes in a directory.
//
// WHY: the files are chowned to the --user, but to open one by path the kernel also needs search (x)
// permission on every directory it walks to get there, symlinked ones included. An existing dir that
// stays root 0700 (or a 0700 parent) would let the app start without being able to read its secrets.
// Permission is computed as the kernel does for that user after secretwrap drops to it: the owner bits
// if it owns the directory, else the group bits if the directory's group is its gid (supplementary groups
// are cleared), else the other bits; only root bypasses them. ACLs are not read (Node cannot).
import { lstatSync, readlinkSync, statSync, type Stats } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Owner } from "./files.ts";

export interface Unsearchable {
  readonly path: string;
  readonly stat: Stats;
}

/** Whether `who` may search (x) a directory with this owner, group and mode. */
export function canSearch(stat: Pick<Stats, "uid" | "gid" | "mode">, who: Owner): boolean {
  if (who.uid === 0) return true;
  const shift = stat.uid === who.uid ? 6 : stat.gid === who.gid ? 3 : 0;
  return ((stat.mode >> shift) & 0o1) !== 0;
}

const MAX_LINKS = 40; // the kernel's ELOOP limit

/**
 * The first directory on the kernel's walk to `path` (from `/`, following symlinks, `path` itself
 * included) that `who` cannot search; undefined if every one can be. The walk stops quietly where a
 * component does not exist yet (secretwrap creates the last one for the user) or loops: the caller's
 * own checks report those.
 */
export function firstUnsearchable(path: string, who: Owner): Unsearchable | undefined {
  const pending = resolve(path)
    .split("/")
    .filter((part) => part !== "");
  let current = "/";
  let links = 0;
  for (;;) {
    let stat: Stats;
    try {
      stat = statSync(current);
    } catch {
      return undefined;
    }
    if (stat.isDirectory() && !canSearch(stat, who)) return { path: current, stat };
    const name = pending.shift();
    if (name === undefined) return undefined;
    if (name === ".") continue;
    if (name === "..") {
      current = dirname(current);
      continue;
    }
    const next = join(current, name);
    let link: string | undefined;
    try {
      link = lstatSync(next).isSymbolicLink() ? readlinkSync(next) : undefined;
    } catch {
      return undefined;
    }
    if (link === undefined) {
      current = next;
      continue;
    }
    if (++links > MAX_LINKS) return undefined;
    pending.unshift(...link.split("/").filter((part) => part !== ""));
    if (link.startsWith("/")) current = "/";
  }
}
