// Replace secretwrap with the app: same PID, so signals and the exit code are the app's own, and no
// secretwrap memory (with every secret in it) remains.
import { checkExecLimits } from "./exec-limits.ts";
import { execFailure } from "./which.ts";

type Execve = (
  this: void,
  file: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
) => never;

export function execveAvailable(): boolean {
  return typeof (process as { execve?: unknown }).execve === "function";
}

export function replaceProcess(
  path: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): never {
  // Also the hand-over's exec, whose argument and renamed variables make it larger than the app's.
  checkExecLimits(path, argv, env);
  const execve: Execve = (file, args, env) =>
    (process as unknown as { execve: Execve }).execve(file, args, env);
  // process.execve is marked experimental; its one-time warning must not reach the app's stderr.
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = () => {};
  try {
    return execve(path, argv, env);
  } catch (error) {
    throw execFailure(error, argv[0] ?? path);
  } finally {
    process.emitWarning = emitWarning;
  }
}
