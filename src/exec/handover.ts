// --supervise on Node ≥ 22.15: once every secret is resolved, secretwrap replaces itself (execve,
// same PID) with a slim supervisor, the same Node running only src/exec/supervisor.ts. The SDKs,
// parsed config and buffers of the resolving process would otherwise stay resident for the app's
// whole lifetime (~90 MB with a cloud SDK), and so would the bootstrap credentials in
// /proc/<pid>/environ. What is handed over is one JSON argument after SUPERVISOR_ARG, holding no
// secret: the command line, the secrets dir and the *names* of the secret variables, whose values
// travel in the environment the app gets anyway.
import { APP_ONLY_VARIABLES, LAUNCHER_PREFIX } from "../appenv.ts";
import { SecretwrapError } from "../errors.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../log.ts";
import type { Owner } from "../output/files.ts";
import { replaceProcess } from "./execve.ts";

export const SUPERVISOR_ARG = "--secretwrap-supervisor";

export interface Handover {
  readonly path: string;
  readonly argv: readonly string[];
  readonly stopTimeoutMs: number;
  readonly terminal: boolean;
  /** Removed when the app has exited (only a directory this run created). */
  readonly secretsDir?: string;
  readonly owner?: Owner;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Variables holding secret values, so the supervisor's own messages can still mask them. */
  readonly secretNames: readonly string[];
}

export function handOverToSupervisor(handover: Handover, appEnv: Readonly<Record<string, string>>): never {
  // Node would apply NODE_OPTIONS and its kin to the supervisor itself: move them aside as
  // bin/secretwrap does; the supervisor hands them back to the app.
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(appEnv)) {
    const appOnly = (APP_ONLY_VARIABLES as readonly string[]).includes(name);
    env[appOnly ? LAUNCHER_PREFIX + name : name] = value;
  }
  // A single executable is its own entry point; otherwise Node runs bin.js again.
  const isSea = process.getBuiltinModule("node:sea")?.isSea() === true;
  const entry = isSea ? [] : [process.argv[1] ?? ""];
  return replaceProcess(
    process.execPath,
    [process.execPath, ...entry, SUPERVISOR_ARG, JSON.stringify(handover)],
    env,
  );
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((item) => typeof item === "string");
const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** Strict, because a person can type the argument too: anything else is a usage error. */
export function decodeHandover(text: string): Handover {
  let v: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) v = parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  const owner = v?.["owner"] as Record<string, unknown> | undefined;
  const valid =
    v !== undefined &&
    typeof v["path"] === "string" &&
    isStringArray(v["argv"]) &&
    v["argv"].length > 0 &&
    isId(v["stopTimeoutMs"]) &&
    typeof v["terminal"] === "boolean" &&
    (v["secretsDir"] === undefined || typeof v["secretsDir"] === "string") &&
    (owner === undefined || (isId(owner["uid"]) && isId(owner["gid"]))) &&
    LOG_LEVELS.includes(v["logLevel"] as LogLevel) &&
    LOG_FORMATS.includes(v["logFormat"] as LogFormat) &&
    isStringArray(v["secretNames"]);
  if (!valid) {
    throw new SecretwrapError("USAGE", `${SUPERVISOR_ARG} is secretwrap's own internal argument`, {
      hint: "use `secretwrap run --supervise -- CMD`",
    });
  }
  return v as unknown as Handover;
}
