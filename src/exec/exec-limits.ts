// The kernel refuses an exec whose arguments and environment do not fit (E2BIG). Node 24's
// process.execve then aborts the whole process with a native stack (SIGABRT, 134) and spawn fails
// with an error that is no user's fault, so the sizes are checked here first, with the kernel's own
// arithmetic (fs/exec.c: bprm_stack_limits, copy_strings; binfmt_script.c), before anything starts.
import { readFileSync } from "node:fs";
import { SecretwrapError } from "../errors.ts";
import { MAX_ARG_STRLEN } from "../limits.ts";

// Linux on x86-64 and arm64 with 4 KiB pages; larger pages (and 32-bit pointers) only raise the
// kernel's limits, so these values are the strict side everywhere.
const PAGE_SIZE = 4096;
const POINTER_SIZE = 8;
/** Arguments and environment together may always use 32 pages (ARG_MAX), however small the stack. */
const ARG_MAX_FLOOR = 32 * PAGE_SIZE;
/** ... and never more than 3/4 of the default 8 MiB stack (_STK_LIM / 4 * 3), however large it is. */
const ARG_SPACE_CEILING = ((8 * 1024 * 1024) / 4) * 3;
// A #! script is run again with its interpreter and optional argument (one line of at most
// BINPRM_BUF_SIZE bytes) and its path added: room is kept for that, whatever the file is.
const SCRIPT_LINE = 256;

/** The stack rlimit (soft) from /proc/self/limits; undefined when unlimited or unreadable. */
export function stackLimitFrom(limits: string): number | undefined {
  const match = /^Max stack size\s+(\d+|unlimited)\s/m.exec(limits);
  if (match === null || match[1] === "unlimited") return undefined;
  return Number(match[1]);
}

function ownStackLimit(): number | undefined {
  try {
    // Node has no getrlimit; the exec'd program inherits this soft limit, and the kernel uses it.
    return stackLimitFrom(readFileSync("/proc/self/limits", "utf8"));
  } catch {
    return undefined; // not Linux, or no /proc: assume the common 8 MiB below
  }
}

/** Bytes the kernel allows for argument and environment strings plus their pointers. */
export function argumentSpace(stackLimit: number | undefined): number {
  const quarter = stackLimit === undefined ? ARG_SPACE_CEILING : Math.floor(stackLimit / 4);
  return Math.max(Math.min(ARG_SPACE_CEILING, quarter), ARG_MAX_FLOOR);
}

export interface ExecSize {
  /** What the kernel counts against argumentSpace, the room kept for a #! interpreter included. */
  readonly total: number;
  /** Environment variables by the size of NAME=value plus NUL, largest first. */
  readonly variables: readonly (readonly [name: string, bytes: number])[];
  /** Bytes of each argument plus NUL, in order. */
  readonly args: readonly number[];
}

export function execSize(
  path: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): ExecSize {
  const variables = Object.entries(env)
    .map(([name, value]) => [name, Buffer.byteLength(`${name}=${value}`) + 1] as const)
    .sort((a, b) => b[1] - a[1]);
  const args = argv.map((arg) => Buffer.byteLength(arg) + 1);
  const pathBytes = Buffer.byteLength(path) + 1;
  const strings = pathBytes + args.reduce((a, b) => a + b, 0) + variables.reduce((a, [, b]) => a + b, 0);
  const pointers = (Math.max(argv.length, 1) + variables.length) * POINTER_SIZE;
  return { total: strings + pointers + SCRIPT_LINE + pathBytes, variables, args };
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** Throws a clear error (never E2BIG later) when the kernel would refuse this exec. */
export function checkExecLimits(
  path: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  space: number = argumentSpace(ownStackLimit()),
  needs = "the command's environment and arguments need",
): void {
  const size = execSize(path, argv, env);
  const tooLong = size.variables.filter(([, bytes]) => bytes > MAX_ARG_STRLEN);
  if (tooLong.length > 0) {
    throw new SecretwrapError(
      "VALUE_UNUSABLE",
      `${tooLong.map(([name, bytes]) => `${name} (NAME=value is ${bytes - 1} bytes)`).join(", ")}: the kernel takes at most ${MAX_ARG_STRLEN - 1} bytes of NAME=value per environment variable`,
      { hint: "deliver these secrets as files: name the variable X_FILE or set `file:` in the config" },
    );
  }
  const longArg = size.args.findIndex((bytes) => bytes > MAX_ARG_STRLEN);
  if (longArg !== -1) {
    throw new SecretwrapError(
      "USAGE",
      `argument ${longArg} of the command is ${(size.args[longArg] ?? 0) - 1} bytes: the kernel takes at most ${MAX_ARG_STRLEN - 1} per argument`,
      { hint: "pass large data in a file or on stdin" },
    );
  }
  if (size.total > space) {
    const largest = size.variables
      .slice(0, 3)
      .map(([name, bytes]) => `${name} (${kib(bytes)})`)
      .join(", ");
    throw new SecretwrapError(
      "VALUE_UNUSABLE",
      `${needs} ${size.total} bytes, more than the ${space} the kernel allows (a quarter of the stack limit, at least 128 KiB, at most 6 MiB); largest variables: ${largest}`,
      {
        hint: "deliver the largest secrets as files (name the variable X_FILE or set `file:` in the config), or raise the stack limit (ulimit -s)",
      },
    );
  }
}

/**
 * `check` knows the app's environment but not its command: the environment with the smallest command
 * (an empty path, no argument) must fit, else no command `run` could start would (same 69, the same
 * largest variables named). The command's own path and arguments come on top of this at `run`.
 */
export function checkEnvironmentLimits(
  env: Readonly<Record<string, string>>,
  space: number = argumentSpace(ownStackLimit()),
): void {
  checkExecLimits("", [], env, space, "the app's environment alone, before any command and arguments, needs");
}
