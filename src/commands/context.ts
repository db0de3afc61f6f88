// What every command runs with: the process's I/O and environment as main.ts received them, the
// logger the command line chose, and the run's redactor.
import type { Logger } from "../log.ts";
import type { Redactor } from "../redact.ts";
import type { SignalRouter } from "../signals.ts";

export interface CommandContext {
  /** The environment secretwrap started with, as the app sees it (app-only variables restored). */
  readonly appView: Readonly<Record<string, string | undefined>>;
  readonly router: SignalRouter;
  readonly writeOut: (text: string | Uint8Array) => void;
  /** Asked only in --supervise mode: process.stdin alone loads Node's streams (~4 ms of start-up). */
  readonly stdinIsTerminal: () => boolean;
  /** Asked only by export, which refuses to print values on a terminal. */
  readonly stdoutIsTerminal: () => boolean;
  readonly log: Logger;
  readonly redactor: Redactor;
}
