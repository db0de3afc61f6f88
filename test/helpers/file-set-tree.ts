// What a file-set test run saw: the tree of an output dir after each step of a plan, with the value
// markers each file holds (test/fixtures/file-set-tmpfs.ts prints it; test/reliability/file-set.test.ts
// checks it). Values start with a marker naming their step and target, so a test can tell whose bytes
// any file holds.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export type Step =
  | { readonly set: readonly { readonly name: string; readonly size: number }[] }
  /** Takes the rest of the filesystem's space (or of its inodes) with files that are not secrets. */
  | { readonly fill: "space" | "inodes" };

export interface Entry {
  readonly path: string;
  readonly type: "file" | "dir" | "link" | "other";
  readonly link?: string;
  readonly mode: number;
  readonly size: number;
  /** Every value marker in the file, and whether it holds only zero bytes. */
  readonly markers?: string[];
  readonly zeros?: boolean;
}

export interface Outcome {
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
  readonly tree: Entry[];
}

export const marker = (step: number, name: string): string => `<S${step}:${name}>`;
export const valueOf = (step: number, name: string, size: number): string =>
  `${marker(step, name)}${"v".repeat(Math.max(0, size - marker(step, name).length))}`;

/** Every entry under `root` (symlinks not followed), paths relative to it. */
export function tree(root: string): Entry[] {
  const entries: Entry[] = [];
  const walk = (path: string): void => {
    const stat = lstatSync(path);
    const base = { path: path.slice(root.length) || "/", mode: stat.mode & 0o7777, size: stat.size };
    if (stat.isSymbolicLink()) entries.push({ ...base, type: "link", link: readlinkSync(path) });
    else if (stat.isDirectory()) {
      entries.push({ ...base, type: "dir" });
      for (const entry of readdirSync(path).sort()) walk(join(path, entry));
    } else if (stat.isFile()) {
      const bytes = readFileSync(path);
      const markers = bytes.toString("latin1").match(/<S\d+:[A-Za-z]+>/g) ?? [];
      entries.push({
        ...base,
        type: "file",
        markers,
        zeros: bytes.length > 0 && bytes.every((b) => b === 0),
      });
    } else entries.push({ ...base, type: "other" });
  };
  walk(root);
  return entries;
}
