// Everything secretwrap says goes to stderr, starts with "secretwrap:" (or is one JSON object a line),
// and passes through the redactor. stdout belongs to the app.
//
// One record is one line, whatever its fields hold: records are formatted here and nowhere else, so
// every part that is not secretwrap's own frame (message, field names and values) is masked and then
// escaped (printable.ts) here, and no caller can forget to.
import { writeSync } from "node:fs";
import { escapeUnsafe, escapeUnsafeJson } from "./printable.ts";
import { knownWordsOf, type Redactor } from "./redact.ts";

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * @param known texts of this record the reader already has (secret names, references): a value is
 * never masked inside their words, where a mask would only point at it.
 */
type LogMethod = (msg: string, fields?: LogFields, known?: readonly string[]) => void;

export interface Logger {
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  redactor: Redactor;
  write?: (line: string) => void;
  /**
   * Texts every reader already has, for every record: secretwrap's own command line (the app's
   * command included), which anyone on the machine can read in /proc/<pid>/cmdline. A value that
   * happens to be one of its words is not masked there: the mask would only point at the value.
   */
  known?: readonly string[];
}

// Fields that name things from the configuration or secretwrap itself, never a value: shown as they
// are, and their words are known to the reader (a value inside them is not masked in the message).
const IDENTIFIER_FIELDS: ReadonlySet<string> = new Set([
  "secret",
  "ref",
  "provider",
  "target",
  "code",
  "exitCode",
  "version",
  "durationMs",
  "attempt",
  "delayMs",
  "method",
  "source",
  "command",
  "dir",
]);

type Value = string | number | boolean;

export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const write = options.write ?? ((line: string) => writeStderr(line));
  const emit = (
    level: LogLevel,
    msg: string,
    fields: LogFields = {},
    known: readonly string[] = [],
  ): void => {
    if (LOG_LEVELS.indexOf(level) > threshold) return;
    const defined = Object.entries(fields).filter(
      (entry): entry is [string, Value] => entry[1] !== undefined,
    );
    const identifiers = defined.filter(([k]) => IDENTIFIER_FIELDS.has(k)).map(([, v]) => String(v));
    const knownWords = knownWordsOf([...(options.known ?? []), ...known, ...identifiers]);
    const mask = (text: string): string => options.redactor.mask(text, knownWords);
    const masked: [string, Value][] = defined.map(([k, v]) => [
      mask(k),
      IDENTIFIER_FIELDS.has(k) || typeof v !== "string" ? v : mask(v),
    ]);
    const line =
      options.format === "json" ? formatJson(level, mask(msg), masked) : formatText(level, mask(msg), masked);
    write(line + "\n");
  };
  return {
    error: (msg, fields, known) => emit("error", msg, fields, known),
    warn: (msg, fields, known) => emit("warn", msg, fields, known),
    info: (msg, fields, known) => emit("info", msg, fields, known),
    debug: (msg, fields, known) => emit("debug", msg, fields, known),
    enabled: (level) => LOG_LEVELS.indexOf(level) <= threshold,
  };
}

function formatText(level: LogLevel, msg: string, fields: readonly [string, Value][]): string {
  const prefix = level === "info" ? "secretwrap:" : `secretwrap: ${level}:`;
  const extras = fields.map(([k, v]) => `${escapeUnsafe(k)}=${escapeUnsafe(quoteIfNeeded(String(v)))}`);
  return [prefix, escapeUnsafe(msg), ...extras].join(" ");
}

// logfmt style: a value with space, quote or = is quoted, so `k=v` pairs always parse back.
function quoteIfNeeded(value: string): string {
  return /^[^\s"=]+$/u.test(value) ? value : `"${value.replace(/["\\]/g, "\\$&")}"`;
}

function formatJson(level: LogLevel, msg: string, fields: readonly [string, Value][]): string {
  // The frame's keys win over a field of the same name, and a key such as __proto__ is just a key.
  const record: Record<string, Value> = Object.create(null) as Record<string, Value>;
  record["time"] = new Date().toISOString();
  record["level"] = level;
  record["msg"] = msg;
  for (const [k, v] of fields) if (!Object.hasOwn(record, k)) record[k] = v;
  return escapeUnsafeJson(JSON.stringify(record));
}

/** Synchronous, so nothing is lost when the process is replaced by exec right after. */
export function writeStderr(text: string): void {
  writeAll(2, text);
}

export function writeStdout(data: string | Uint8Array): void {
  writeAll(1, data);
}

function writeAll(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") continue;
      return; // the reader is gone (EPIPE): nothing sensible is left to do with the output
    }
  }
}
