// How failures and per-secret results are told to people (and to machines with --log-format json).
import { SecretsFailedError, type SecretwrapError } from "./errors.ts";
import type { Logger } from "./log.ts";

export function reportError(log: Logger, error: SecretwrapError, consequence: string): void {
  log.error(`${error.message}; ${consequence}`, { code: error.code, exitCode: error.exitCode });
  if (!(error instanceof SecretsFailedError)) {
    log.error(`  fix: ${error.hint}`);
    return;
  }
  for (const failure of error.failures) {
    const who = failure.subject.secret ?? failure.subject.provider;
    log.error(
      `  ✖ ${who === undefined ? "" : `${who} `}${failure.code}: ${failure.message}\n    fix: ${failure.hint}`,
      {
        secret: failure.subject.secret,
        ref: failure.subject.ref,
        code: failure.code,
      },
    );
  }
}

export interface SecretReport {
  readonly name: string;
  readonly provider: string;
  readonly ref: string;
  readonly version: string | undefined;
  readonly target: string;
  readonly durationMs: number | undefined;
  readonly status: "ok" | "absent" | "failed";
  readonly code?: string;
  readonly error?: string;
  readonly audit?: Readonly<Record<string, string>>;
}

export function auditLine(log: Logger, report: SecretReport): void {
  log.info(
    `${report.status === "ok" ? "resolved" : report.status === "absent" ? "absent (optional)" : "failed"} ${report.name}`,
    {
      provider: report.provider,
      ref: report.ref,
      version: report.version,
      target: report.target,
      durationMs: report.durationMs,
      ...report.audit,
    },
  );
}

/** `check`: JSON on stdout with --json, else one line per secret on stderr. Never a value. */
export function printCheck(
  writeOut: (text: string) => void,
  log: Logger,
  reports: readonly SecretReport[],
  json: boolean,
): void {
  if (json) {
    const ok = reports.every((r) => r.status !== "failed");
    writeOut(JSON.stringify({ ok, secrets: reports }, null, 2) + "\n");
    return;
  }
  for (const report of reports) {
    const status =
      report.status === "failed"
        ? `FAILED ${report.code ?? ""}`
        : report.status === "absent"
          ? "absent (optional)"
          : "ok";
    const fields = {
      provider: report.provider,
      ref: report.ref,
      version: report.version,
      target: report.target,
      durationMs: report.durationMs,
    };
    // A failure is an error; a good result is information, not an "error:" line.
    if (report.status === "failed") log.error(`check ${report.name}: ${status}`, fields);
    else log.info(`check ${report.name}: ${status}`, fields);
  }
}
