// Resolves the command the way a shell would, so both exec modes report the same 127/126 before
// anything is started, and process.execve gets the absolute path it needs.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { SecretwrapError } from "../errors.ts";

export function which(command: string, pathVariable: string | undefined): string {
  if (command === "") throw new SecretwrapError("USAGE", "the command is an empty string");
  if (command.includes("/")) return checkExecutable(resolve(command), command);
  for (const dir of (pathVariable ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, command);
    try {
      if (statSync(candidate).isFile()) return checkExecutable(candidate, command);
    } catch {
      // not in this directory
    }
  }
  throw new SecretwrapError("COMMAND_NOT_FOUND", `command not found: ${command}`, {
    hint: "check the command name and the PATH the app gets",
  });
}

function checkExecutable(path: string, command: string): string {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new SecretwrapError("COMMAND_NOT_FOUND", `command not found: ${command}`);
  }
  if (stat.isDirectory()) throw new SecretwrapError("COMMAND_NOT_EXECUTABLE", `${command} is a directory`);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new SecretwrapError("COMMAND_NOT_EXECUTABLE", `${command} is not executable`);
  }
  // The file's format, #! chain and permission for the app's user: exec-check.ts.
  return path;
}

/** Maps an exec/spawn failure to the shell's codes: missing (or a missing interpreter) 127, else 126. */
export function execFailure(error: unknown, command: string): SecretwrapError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") {
    return new SecretwrapError(
      "COMMAND_NOT_FOUND",
      `cannot run ${command}: it or its interpreter was not found`,
    );
  }
  const why: Record<string, string> = {
    EACCES: "no execute permission, or a noexec mount",
    ENOEXEC: "not a script with #! nor a binary for this machine",
    ELOOP: "too many #! interpreters or symlinks",
    ETXTBSY: "the file is open for writing",
  };
  const reason = code === undefined ? "error" : `${code}${why[code] === undefined ? "" : `: ${why[code]}`}`;
  return new SecretwrapError("COMMAND_NOT_EXECUTABLE", `cannot run ${command} (${reason})`);
}
