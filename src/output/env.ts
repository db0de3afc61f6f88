// Pure: the environment the app starts with. Inherited env − references − secretwrap's own settings −
// consumed bootstrap credentials + resolved values and _FILE paths.
import { isRef } from "../config/ref.ts";
import { SecretwrapError } from "../errors.ts";
import { MAX_ENV_VALUE_BYTES } from "../limits.ts";

export interface ChildEnvInput {
  /** The app's view of the environment secretwrap started with (app-only variables restored). */
  readonly inherited: Readonly<Record<string, string | undefined>>;
  readonly pristine: boolean;
  readonly keepEnv: readonly string[];
  readonly envFileValues: Readonly<Record<string, string>>;
  /** Every declared name: its reference is removed even when an optional secret was not found. */
  readonly declaredNames: ReadonlySet<string>;
  /** Names and values to set (env outputs and the paths of file outputs). */
  readonly assigned: ReadonlyMap<string, string>;
  readonly consumedEnv: readonly string[];
}

/** With --pristine the app still gets what any program expects to find. */
export const PRISTINE_BASE = ["PATH", "HOME", "TERM", "LANG"] as const;

export function buildChildEnv(input: ChildEnvInput): Record<string, string> {
  const keep = new Set(input.keepEnv);
  // Variable names are data: with a null prototype, `__proto__` is set like any name and `name in env`
  // sees only real variables (not `constructor`, `toString`, … from Object.prototype).
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(input.inherited)) {
    if (value === undefined) continue;
    if (input.pristine && !keep.has(name) && !(PRISTINE_BASE as readonly string[]).includes(name)) continue;
    if (name.startsWith("SECRETWRAP_")) continue;
    if (input.consumedEnv.includes(name) && !keep.has(name)) continue;
    if (input.declaredNames.has(name)) continue;
    env[name] = value;
  }
  for (const [name, value] of Object.entries(input.envFileValues)) {
    if (!(name in env)) env[name] = value;
  }
  for (const [name, value] of Object.entries(env)) {
    // Fail closed: a reference must never reach the app as if it were the value.
    if (isRef(value)) {
      throw new SecretwrapError("INTERNAL", `${name} would reach the app as an unresolved reference`);
    }
  }
  // Fetched values are opaque: one that looks like a reference is still just a value.
  for (const [name, value] of input.assigned) env[name] = value;
  return env;
}

/**
 * With --user the app runs as another account, so the caller's HOME (root's, typically) is not its
 * home: HOME becomes the account's (see exec/user.ts), as `docker run --user` and `su -` do. A caller
 * who wants to keep its own HOME says so with --keep-env HOME.
 */
export function withAccountHome(
  inherited: Readonly<Record<string, string | undefined>>,
  home: string,
  keepEnv: readonly string[],
): Readonly<Record<string, string | undefined>> {
  if (keepEnv.includes("HOME") && inherited["HOME"] !== undefined) return inherited;
  return { ...inherited, HOME: home };
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** An env value must be text without NUL and small enough for the kernel's per-string limit. */
export function envValue(bytes: Uint8Array, name: string): string {
  const refuse = (why: string): never => {
    throw new SecretwrapError(
      "VALUE_UNUSABLE",
      `${name}: the value ${why}, so it cannot be an environment variable`,
    );
  };
  if (bytes.includes(0)) refuse("contains a NUL byte");
  // The kernel's limit is on the whole NAME=value string (plus its NUL), not on the value alone.
  const entry = bytes.length + name.length + 1;
  if (entry > MAX_ENV_VALUE_BYTES)
    refuse(
      `is larger than 128 KiB together with its name and NUL (${name}=value is ${entry} bytes; at most ${MAX_ENV_VALUE_BYTES} fit)`,
    );
  try {
    return decoder.decode(bytes);
  } catch {
    return refuse("is not valid UTF-8 text");
  }
}
