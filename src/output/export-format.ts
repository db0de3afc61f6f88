// Pure: the env targets as text another tool reads back byte for byte (`secretwrap export`). Each
// format is exactly the grammar its reader applies, so a value with newlines, quotes, `$` or
// backslashes survives the round trip, or is refused with a reason; never altered on the way.
import { SecretwrapError } from "../errors.ts";

export const EXPORT_FORMATS = ["dotenv", "json", "shell"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** name → value (text: env values are checked UTF-8 without NUL before they get here), in plan order. */
export function formatExport(entries: readonly (readonly [string, string])[], format: ExportFormat): string {
  switch (format) {
    case "json":
      // Written pair by pair: a name such as `__proto__` is a key like any other.
      return entries.length === 0
        ? "{}\n"
        : `{\n${entries.map(([name, value]) => `  ${JSON.stringify(name)}: ${JSON.stringify(value)}`).join(",\n")}\n}\n`;
    case "shell":
      // POSIX single quotes take every byte literally but the quote itself, closed, escaped, reopened.
      return entries
        .map(([name, value]) => `export ${shellName(name)}='${value.replaceAll("'", `'\\''`)}'\n`)
        .join("");
    case "dotenv":
      return entries.map(([name, value]) => `${name}=${dotenvValue(name, value)}\n`).join("");
  }
}

/**
 * Names a shell does not keep as assigned: read-only in bash (UID, EUID, PPID, BASHOPTS, SHELLOPTS), or
 * set by the shell itself ($_ after every command, RANDOM, SECONDS, LINENO, …). Sourced, such a line
 * would fail or give another value.
 */
const SHELL_OWNED = new Set([
  "_",
  "UID",
  "EUID",
  "PPID",
  "BASHOPTS",
  "SHELLOPTS",
  "BASHPID",
  "BASH_ARGV0",
  "BASH_COMMAND",
  "BASH_LINENO",
  "BASH_SUBSHELL",
  "DIRSTACK",
  "EPOCHREALTIME",
  "EPOCHSECONDS",
  "FUNCNAME",
  "GROUPS",
  "HISTCMD",
  "LINENO",
  "RANDOM",
  "SECONDS",
  "SRANDOM",
]);

function shellName(name: string): string {
  if (!SHELL_OWNED.has(name)) return name;
  throw new SecretwrapError(
    "VALUE_UNUSABLE",
    `${name}: a shell sets this variable itself, so it cannot be exported for one`,
    {
      hint: "use --format json or dotenv, or another name",
    },
  );
}

/** docker reads an env-file with a bufio.Scanner: a longer line is an error ("token too long"). */
const DOCKER_MAX_LINE_BYTES = 64 * 1024 - 1;

/**
 * `docker run --env-file` (and podman's) read NAME=VALUE lines literally: no quotes, no escapes, no
 * multi-line values, a line at most 64 KiB. What that grammar cannot carry is refused, never mangled.
 */
function dotenvValue(name: string, value: string): string {
  const refuse = (why: string): never => {
    throw new SecretwrapError("VALUE_UNUSABLE", `${name}: the value ${why}`, {
      hint: "use --format json or --format shell, or deliver this secret as a file",
    });
  };
  if (/[\n\r]/.test(value))
    refuse("spans several lines, which a dotenv file (docker --env-file) cannot hold");
  if (Buffer.byteLength(`${name}=${value}`) > DOCKER_MAX_LINE_BYTES)
    refuse("is longer than a dotenv line (docker --env-file) may be, 64 KiB");
  return value;
}
