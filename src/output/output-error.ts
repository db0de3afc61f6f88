// The one error type of the output side (exit 73), and the lstat every publisher needs: "no such
// entry" is an answer, any other failure to look is an error.
import { lstatSync, type BigIntStats } from "node:fs";
import { SecretwrapError } from "../errors.ts";

export function outputError(message: string, error?: unknown, hint?: string): SecretwrapError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why = code === "ENOSPC" ? "no space left" : code === "EEXIST" ? "it already exists" : code;
  return new SecretwrapError("OUTPUT_FAILED", why === undefined ? message : `${message}: ${why}`, {
    cause: error,
    ...(hint === undefined ? {} : { hint }),
  });
}

/** The entry's lstat, or undefined when there is none; never follows a symlink. */
export function lstatIfAny(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw outputError(`cannot inspect ${path}`, error);
  }
}
