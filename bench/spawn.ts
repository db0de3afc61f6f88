// Timing one command from spawn() to its exit. For `secretwrap run -- /bin/true` this is the time to
// exec plus /bin/true's ~1 ms, the same for every variant, so ratios stay fair.
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";

export interface Command {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

/**
 * Wall-clock milliseconds until the process exits; rejects (with its stderr) unless it exits 0.
 * `onStderr` receives everything it printed there.
 */
export function timeCommand(command: Command, onStderr?: (text: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let ended = Number.NaN;
    let stderr = "";
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // The exit event is the end of the measurement; close (stderr drained) only completes the report.
    child.once("exit", () => (ended = performance.now()));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      onStderr?.(stderr);
      if (code === 0) resolve(ended - started);
      else
        reject(
          new Error(
            `${command.file} ${command.args.join(" ")} exited ${code ?? signal}\n${stderr.slice(-2000)}`,
          ),
        );
    });
  });
}
