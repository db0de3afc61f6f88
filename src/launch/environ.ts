// The caller's environment exactly as the kernel handed it over (/proc/self/environ), against the one
// Node shows as process.env. Node changes it before any JavaScript runs: a variable whose name is not
// UTF-8 is dropped, bytes of a value that are not UTF-8 become U+FFFD, and `--env-file` anywhere before
// a `--` in argv (even after the script name) adds the file's variables. secretwrap cannot hand such
// bytes on (process.execve and spawn take JavaScript strings), so it refuses to run rather than start
// the app with a variable silently dropped or rewritten (one may be a reference: fail closed), and it
// removes what Node added, so that process.env is the caller's environment again.
import { readFileSync } from "node:fs";
import { isUtf8 } from "node:buffer";
import { escapeUnsafe } from "../printable.ts";

export interface RawVariable {
  readonly name: Buffer;
  readonly value: Buffer;
}

/** NAME=value entries of an environ block (NUL-separated). An entry without '=' has an empty value. */
export function parseEnviron(block: Buffer): RawVariable[] {
  const variables: RawVariable[] = [];
  let start = 0;
  while (start < block.length) {
    let end = block.indexOf(0, start);
    if (end === -1) end = block.length;
    const entry = block.subarray(start, end);
    const eq = entry.indexOf(0x3d);
    // An entry with no '=', or one starting with '=', is legal for the kernel but never reaches
    // process.env: an empty name stands for both.
    if (entry.length > 0) {
      variables.push(
        eq <= 0
          ? { name: Buffer.alloc(0), value: entry }
          : { name: entry.subarray(0, eq), value: entry.subarray(eq + 1) },
      );
    }
    start = end + 1;
  }
  return variables;
}

/** The environment the kernel gave this process, or undefined where /proc is not available. */
export function readRawEnviron(): RawVariable[] | undefined {
  try {
    return parseEnviron(readFileSync("/proc/self/environ"));
  } catch {
    return undefined;
  }
}

/** A name as printable text: bytes that are not UTF-8 as \xNN, the rest by the one rule (printable.ts). */
export function printableName(name: Buffer): string {
  if (isUtf8(name)) return escapeUnsafe(name.toString("utf8"));
  return [...name]
    .map((byte) =>
      byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, "0")}`,
    )
    .join("");
}

/**
 * The variables Node cannot represent in process.env exactly: a name or value that is not UTF-8, an
 * empty name, or no '=' at all; and a name the kernel holds twice with different values (getenv() and
 * Node see only the first: a later `ref+…` would be dropped), each later entry that differs from the
 * first. They cannot reach the app byte for byte. Identical duplicates collapse into one. (A UTF-8
 * variable Node consumed itself, such as the IPC channel's NODE_CHANNEL_FD, is not one of them.)
 */
export function unrepresentable(raw: readonly RawVariable[]): RawVariable[] {
  const first = new Map<string, Buffer>();
  return raw.filter(({ name, value }) => {
    if (name.length === 0 || !isUtf8(name) || !isUtf8(value)) return true;
    const text = name.toString("utf8");
    const seen = first.get(text);
    if (seen === undefined) first.set(text, value);
    return seen !== undefined && !seen.equals(value);
  });
}

/** Deletes from `env` what Node added on its own (an `--env-file` it parsed out of argv). */
export function removeAddedByNode(raw: readonly RawVariable[], env: NodeJS.ProcessEnv): void {
  const given = new Set(raw.filter((v) => isUtf8(v.name)).map((v) => v.name.toString("utf8")));
  for (const name of Object.keys(env)) if (!given.has(name)) delete env[name];
}

/**
 * The caller's environment as a plain (null-prototype) object, built from the kernel's copy where
 * there is one: process.env hides names that look like array indices ("0", "42": reading them gives
 * undefined, so a spread drops them) and holds what an `--env-file` of Node's added. Entries that
 * are not UTF-8 are left out here; the run is refused over them (environ-problem.ts).
 */
export function environmentObject(
  raw: readonly RawVariable[] | undefined = readRawEnviron(),
): Record<string, string> {
  const env = Object.create(null) as Record<string, string>;
  if (raw === undefined) {
    for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
    return env;
  }
  for (const { name, value } of raw) {
    if (name.length === 0 || !isUtf8(name) || !isUtf8(value)) continue;
    const text = name.toString("utf8");
    // The kernel keeps a duplicate; getenv() and Node take the first (one with another value is
    // refused: unrepresentable).
    if (!Object.hasOwn(env, text)) env[text] = value.toString("utf8");
  }
  return env;
}
