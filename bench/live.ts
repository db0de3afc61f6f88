// A long-running process the bench talks to through its stdout lines: used for `secretwrap run
// --supervise -- node signal-app.ts` and for signal-app.ts alone (the bare-Node reference).
import { spawn, type ChildProcess } from "node:child_process";
import type { Command } from "./spawn.ts";

export class LiveProcess {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #waiter: (() => void) | undefined;
  #stderr = "";
  #exited = false;
  readonly #closed: Promise<void>;

  constructor(command: Command) {
    this.#child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let partial = "";
    this.#child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      this.#lines.push(...parts);
      this.#waiter?.();
    });
    this.#child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.#stderr += chunk));
    this.#closed = new Promise((resolve) =>
      this.#child.once("close", () => {
        this.#exited = true;
        this.#waiter?.();
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** The next line starting with `prefix` (earlier other lines are dropped). */
  async line(prefix: string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return this.#lines.splice(0, i + 1).pop() ?? "";
      if (this.#exited) throw new Error(`exited before printing "${prefix}": ${this.#stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`no "${prefix}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** SIGTERM and wait until it is gone (secretwrap forwards it and exits as the app did). */
  async stop(): Promise<void> {
    if (!this.#exited) this.#child.kill("SIGTERM");
    await this.#closed;
  }
}
