// A run whose environment holds a variable Node cannot represent is refused before anything is read
// or fetched (exit 78): handing it on is impossible (src/launch/environ.ts), dropping it silently
// could start the app with a reference unresolved. Names only: a value may be a secret.
import { SecretwrapError } from "../errors.ts";
import { printableName, readRawEnviron, unrepresentable } from "./environ.ts";

export function environmentProblem(): SecretwrapError | undefined {
  const raw = readRawEnviron();
  const bad = raw === undefined ? [] : unrepresentable(raw);
  if (bad.length === 0) return undefined;
  const names = bad.map((v) => (v.name.length === 0 ? "(an entry without a name)" : printableName(v.name)));
  return new SecretwrapError(
    "CONFIG_INVALID",
    `the environment holds ${bad.length === 1 ? "a variable" : "variables"} that cannot be passed on byte for byte (not UTF-8, or no name): ${names.join(", ")}`,
    { hint: "unset them or give them UTF-8 names and values; secretwrap never drops or rewrites a variable" },
  );
}
