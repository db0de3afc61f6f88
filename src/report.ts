// How failures and per-secret results are told to people (and to machines with --log-format json).
// Every line is its own log record (one record, one line), and each passes the secret's name and
// reference as known text, so a value equal to part of them is not masked where it would show.
import { SecretsFailedError, type SecretwrapError } from "./errors.ts";
import type { Logger } from "./log.ts";
import type { Redactor } from "./redact.ts";
import { knownWordsOf } from "./redact.ts";

export function reportError(log: Logger, error: SecretwrapError, consequence: string): void {
  const subject = Object.values(error.subject).filter((v): v is string => v !== undefined);
  log.error(`${error.message}; ${consequence}`, { code: error.code, exitCode: error.exitCode }, subject);
  if (!(error instanceof SecretsFailedError)) {
    log.error(`  fix: ${error.hint}`, {}, subject);
    return;
  }
  for (const failure of error.failures) {
    const who = failure.subject.secret ?? failure.subject.provider;
    const known = Object.values(failure.subject).filter((v): v is string => v !== undefined);
    log.error(
      `  ✖ ${who === undefined ? "" : `${who} `}${failure.code}: ${failure.message}`,
      {
        secret: failure.subject.secret,
        ref: failure.subject.ref,
        code: failure.code,
      },
      known,
    );
    log.error(`    fix: ${failure.hint}`, {}, known);
  }
}

export interface SecretReport {
  readonly name: string;
  readonly provider: string;
  readonly ref: string;
  /** A config template: every reference it uses (`ref` holds them too, space-separated). */
  readonly refs?: readonly string[];
  readonly version: string | undefined;
  readonly target: string;
  readonly durationMs: number | undefined;
  readonly status: "ok" | "absent" | "failed";
  /** absent, and the target got the declaration's `default:` instead. */
  readonly defaulted?: boolean;
  readonly code?: string;
  readonly error?: string;
  readonly audit?: Readonly<Record<string, string>>;
  /** Declared in a peer tool's form (--compat): the tool, and the form as written (printed as a reference). */
  readonly compat?: { readonly tool: string; readonly form: string; readonly source: string };
  /** A key of an expanded declaration: its pattern (`DB_*`). */
  readonly from?: string;
}

/** One line per secret: resolved (at start) or rotated (under --watch), absent, or failed. Never a value. */
export function auditLine(log: Logger, report: SecretReport, okVerb = "resolved"): void {
  log.info(
    `${report.status === "ok" ? okVerb : report.status === "absent" ? absentText(report) : "failed"} ${report.name}`,
    {
      provider: report.provider,
      ref: report.ref,
      version: report.version,
      target: report.target,
      durationMs: report.durationMs,
      ...(report.from === undefined ? {} : { from: report.from }),
      ...report.audit,
    },
    [report.name],
  );
}

/**
 * A local check of `run` that is about the whole run, not one secret: the secrets dir, or the size of
 * the app's environment. `check` reports it once, next to the secrets.
 */
export interface CheckProblem {
  readonly check: "secrets-dir" | "environment";
  readonly error: SecretwrapError;
}

const absentText = (report: SecretReport): string =>
  report.defaulted === true ? "absent (optional, default used)" : "absent (optional)";

/** `check`: JSON on stdout with --json, else one line per secret on stderr. Never a value. */
export function printCheck(
  writeOut: (text: string) => void,
  log: Logger,
  reports: readonly SecretReport[],
  json: boolean,
  redactor: Redactor,
  problems: readonly CheckProblem[] = [],
): void {
  if (json) {
    const ok = reports.every((r) => r.status !== "failed") && problems.length === 0;
    // stdout does not pass the logger: the one foreign-derived part, the error text, is masked here.
    const masked = reports.map((r) =>
      r.error === undefined
        ? r
        : { ...r, error: redactor.mask(r.error, knownWordsOf([r.name, r.ref, r.provider, r.target])) },
    );
    const known = knownWordsOf(reports.map((r) => r.name));
    const local = problems.map((p) => ({
      check: p.check,
      code: p.error.code,
      error: redactor.mask(p.error.message, known),
      hint: redactor.mask(p.error.hint, known),
    }));
    writeOut(JSON.stringify({ ok, secrets: masked, problems: local }, null, 2) + "\n");
    return;
  }
  for (const report of reports) {
    const status =
      report.status === "failed"
        ? `FAILED ${report.code ?? ""}`
        : report.status === "absent"
          ? absentText(report)
          : "ok";
    const fields = {
      provider: report.provider,
      ref: report.ref,
      version: report.version,
      target: report.target,
      durationMs: report.durationMs,
      ...(report.from === undefined ? {} : { from: report.from }),
    };
    // A failure is an error; a good result is information, not an "error:" line.
    if (report.status === "failed") log.error(`check ${report.name}: ${status}`, fields, [report.name]);
    else log.info(`check ${report.name}: ${status}`, fields, [report.name]);
  }
  for (const problem of problems) log.error(`check ${problem.check}: FAILED ${problem.error.code}`);
}

/** What did not happen, said for the command that failed: only `run` starts a command. */
export function consequenceOf(kind: string | undefined, error: SecretwrapError): string {
  if (error.code === "USAGE") return "see --help";
  if (error.consequence !== undefined) return error.consequence;
  switch (kind) {
    case "run":
      return "the command was not started";
    case "check":
      // check's verdict is whether run would succeed
      return "`run` would not start the command";
    case "get":
    case "export":
      return "no value was printed";
    case "render":
      return "no file was written";
    default:
      return "nothing was done";
  }
}
