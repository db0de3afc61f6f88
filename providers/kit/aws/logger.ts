// The SDK must not print anything on its own: the logger handed to the credential providers.
import type { ProviderContext } from "../../../src/provider-api.ts";

export interface SdkLogger {
  debug(...content: unknown[]): void;
  info(...content: unknown[]): void;
  warn(...content: unknown[]): void;
  error(...content: unknown[]): void;
}

export function quietLogger(ctx: ProviderContext): SdkLogger {
  // Credential providers fall back to console.warn without a logger; their warnings are configuration
  // notes (e.g. two container token variables), kept for --log-level debug. Content is never logged:
  // it can carry request details.
  const note = (): void =>
    ctx.log.debug("the AWS SDK emitted a warning (not shown: it may carry request details)");
  return { debug: () => {}, info: () => {}, warn: note, error: note };
}
