// Everything secretwrap says goes to stderr, starts with "secretwrap:" (or is one JSON object a line),
// and passes through the redactor. stdout belongs to the app.
import { writeSync } from "node:fs";
import type { Redactor } from "./redact.ts";

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  redactor: Redactor;
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const write = options.write ?? ((line: string) => writeStderr(line));
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (LOG_LEVELS.indexOf(level) > threshold) return;
    const line = options.format === "json" ? formatJson(level, msg, fields) : formatText(level, msg, fields);
    write(options.redactor.mask(line) + "\n");
  };
  return {
    error: (msg, fields) => emit("error", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    debug: (msg, fields) => emit("debug", msg, fields),
    enabled: (level) => LOG_LEVELS.indexOf(level) <= threshold,
  };
}

function formatText(level: LogLevel, msg: string, fields: LogFields): string {
  const prefix = level === "info" ? "secretwrap:" : `secretwrap: ${level}:`;
  const extras = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${quoteIfNeeded(String(v))}`);
  // Fields go on the first line; continuation lines keep the prefix so every line is attributable.
  const [first, ...rest] = msg.split("\n");
  return [[prefix, first, ...extras].join(" "), ...rest.map((line) => `secretwrap: ${line}`)].join("\n");
}

function quoteIfNeeded(value: string): string {
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

function formatJson(level: LogLevel, msg: string, fields: LogFields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
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
