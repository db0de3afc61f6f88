// Resolves the command the way a shell would, so both exec modes report the same 127/126 before
// anything is started, and process.execve gets the absolute path it needs.
import { accessSync, closeSync, constants, openSync, readSync, statSync } from "node:fs";
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
  checkFormat(path, command);
  return path;
}

// process.execve aborts the whole process when the kernel refuses the file, so everything the
// kernel would check is checked first: a script's interpreter must exist, and the file must be a
// script or an ELF binary (a shell would run anything else with /bin/sh; an exec does not).
function checkFormat(path: string, command: string): void {
  const head = readHead(path);
  if (head === undefined) return; // execute-only file: the kernel may still run it
  if (head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) return;
  if (head.subarray(0, 2).toString("latin1") !== "#!") {
    throw new SecretwrapError(
      "COMMAND_NOT_EXECUTABLE",
      `${command} is neither a script with #! nor a binary`,
      {
        hint: "add a #! line, or run it through its interpreter (e.g. sh script)",
      },
    );
  }
  const line = head.subarray(2).toString("latin1").split("\n")[0] ?? "";
  const interpreter = line.trim().split(/[ \t]+/)[0] ?? "";
  try {
    accessSync(interpreter, constants.X_OK);
    if (statSync(interpreter).isDirectory()) throw new Error("directory");
  } catch {
    throw new SecretwrapError(
      "COMMAND_NOT_FOUND",
      `cannot run ${command}: its interpreter ${interpreter} was not found`,
    );
  }
}

function readHead(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const buffer = Buffer.alloc(256);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0));
  } finally {
    closeSync(fd);
  }
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
  return new SecretwrapError("COMMAND_NOT_EXECUTABLE", `cannot run ${command} (${code ?? "error"})`);
}
