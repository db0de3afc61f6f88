// A run whose environment holds a variable Node cannot represent (or one name twice with different
// values) is refused before anything is read or fetched (exit 78): handing it on is impossible
// (src/launch/environ.ts), dropping it silently could start the app with a reference unresolved.
// Names only: a value may be a secret.
import { SecretwrapError } from "../errors.ts";
import { printableName, readRawEnviron, unrepresentable } from "./environ.ts";

export function environmentProblem(): SecretwrapError | undefined {
  const raw = readRawEnviron();
  const bad = raw === undefined ? [] : unrepresentable(raw);
  if (bad.length === 0) return undefined;
  // A name set three times with different values is named once.
  const names = [
    ...new Set(bad.map((v) => (v.name.length === 0 ? "(an entry without a name)" : printableName(v.name)))),
  ];
  return new SecretwrapError(
    "CONFIG_INVALID",
    `the environment holds ${names.length === 1 ? "a variable" : "variables"} that cannot be passed on byte for byte (not UTF-8, no name, or one name with different values): ${names.join(", ")}`,
    {
      hint: "unset them, give them UTF-8 names and values, or set each name once; secretwrap never drops or rewrites a variable",
    },
  );
}
