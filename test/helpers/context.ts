// The one ProviderContext the provider suites connect with: the environment given, a debug-level
// logger whose lines are kept, every value the provider hands to addSecret kept as text, so a test
// can check what would be masked and what was logged, and a RunState of its own, as the core gives
// each run.
import { createLogger } from "../../src/log.ts";
import type { ProviderContext } from "../../src/provider-api.ts";
import { Redactor } from "../../src/redact.ts";
import { createRunState } from "../../src/run-state.ts";

export interface TestContext {
  readonly ctx: ProviderContext;
  /** Every value the provider gave to addSecret, in order, as UTF-8 text. */
  readonly masked: string[];
  /** Every log line, formatted as secretwrap prints it (text, debug level, nothing masked yet). */
  readonly logs: string[];
}

export function providerContext(env: Record<string, string>, attemptTimeoutMs = 5_000): TestContext {
  const masked: string[] = [];
  const logs: string[] = [];
  const log = createLogger({
    level: "debug",
    format: "text",
    redactor: new Redactor(),
    write: (line) => void logs.push(line),
  });
  return {
    ctx: {
      env,
      log,
      addSecret: (value) =>
        void masked.push(typeof value === "string" ? value : Buffer.from(value).toString()),
      attemptTimeoutMs,
      runState: createRunState(),
    },
    masked,
    logs,
  };
}
