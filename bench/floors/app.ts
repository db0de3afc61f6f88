// What the floor scripts share: the references a bench target declares (the environment secretwrap
// gets), the target's config file, and the hand-over to the app. Deliberately naive: no validation,
// limits or redaction beyond failing when a value is missing; it only has to be right for the bench's
// own fixtures, so that each floor measures its SDK and little else.
import { readFileSync } from "node:fs";

export interface Wanted {
  /** The app's variable, e.g. S3_K1. */
  readonly name: string;
  /** The path, e.g. secret/app/p3. */
  readonly locator: string;
  /** The key of the path's JSON document, e.g. k1. */
  readonly field: string;
}

/** Every `NAME=ref+<scheme>://<locator>#<field>` of the environment, and the distinct locators. */
export function wanted(scheme: string): { entries: Wanted[]; locators: string[] } {
  const prefix = `ref+${scheme}://`;
  const entries: Wanted[] = [];
  for (const [name, value] of Object.entries(process.env)) {
    if (value?.startsWith(prefix) !== true) continue;
    const [locator = "", field = ""] = value.slice(prefix.length).split("#");
    entries.push({ name, locator, field });
  }
  if (entries.length === 0) throw new Error(`no ref+${scheme}:// references in the environment`);
  return { entries, locators: [...new Set(entries.map((e) => e.locator))] };
}

/** The providers.<name> block of the file given as `--config FILE`, as the target gives secretwrap. */
export function configBlock(provider: string): Record<string, unknown> {
  const at = process.argv.indexOf("--config");
  const file = process.argv[at + 1];
  if (at < 0 || file === undefined) throw new Error("usage: floor --config FILE");
  const config = JSON.parse(readFileSync(file, "utf8")) as { providers: Record<string, unknown> };
  return config.providers[provider] as Record<string, unknown>;
}

/** Replaces the process with /bin/true, every reference replaced by its field's value. */
export function execApp(entries: readonly Wanted[], documents: ReadonlyMap<string, unknown>): never {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  for (const e of entries) {
    const value = (documents.get(e.locator) as Record<string, unknown> | undefined)?.[e.field];
    // Names only: a floor never prints a value.
    if (typeof value !== "string") throw new Error(`${e.name}: no field ${e.field} in ${e.locator}`);
    env[e.name] = value;
  }
  if (process.execve === undefined) throw new Error("process.execve needs Node ≥ 22.15");
  return process.execve("/bin/true", ["true"], env);
}
