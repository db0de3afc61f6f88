// The hand-over argument's shape (see handover.ts), read by the slim supervisor only: a person can
// type the argument too, so anything else is a usage error.
import {
  array,
  boolean,
  enum as oneOf,
  int,
  maximum,
  minLength,
  nonnegative,
  optional,
  safeParse,
  strictObject,
  string,
  type infer as Infer,
} from "zod/mini";
import { MAX_DURATION_MS } from "../duration.ts";
import { SecretwrapError } from "../errors.ts";
import { parseJson } from "../json.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../log.ts";

const id = int().check(nonnegative());

export const Handover = strictObject({
  path: string(),
  argv: array(string()).check(minLength(1)),
  // The same bound as --stop-timeout: a typed argument must not overflow the supervisor's timer either.
  stopTimeoutMs: id.check(maximum(MAX_DURATION_MS)),
  terminal: boolean(),
  /** Removed when the app has exited (only a directory this run created). */
  secretsDir: optional(string()),
  owner: optional(strictObject({ uid: id, gid: id })),
  logLevel: oneOf(LOG_LEVELS),
  logFormat: oneOf(LOG_FORMATS),
  /** Variables holding secret values, so the supervisor's own messages can still mask them. */
  secretNames: array(string()),
  /** The caller's /proc/self/coredump_filter, for the app (coredump.ts). */
  coreDumpFilter: optional(string()),
});

export type Handover = Infer<typeof Handover>;

export function decodeHandover(text: string, argName: string): Handover {
  let data: unknown;
  try {
    data = parseJson(text);
  } catch {
    data = undefined;
  }
  const result = safeParse(Handover, data);
  if (!result.success) {
    throw new SecretwrapError("USAGE", `${argName} is secretwrap's own internal argument`, {
      hint: "use `secretwrap run --supervise -- CMD`",
    });
  }
  return result.data;
}
