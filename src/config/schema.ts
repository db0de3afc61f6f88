// The config file's shape (zod/mini: a few KB instead of zod's whole bundle). Strict everywhere: a
// typo such as `optinal: true` is an error with its path, never silently ignored.
//
// Each part (version, providers, every secret, allowNames) is checked on its own, so one bad part
// never hides the problems of another, and the valid parts still go on to the reference and target
// checks: one run reports every problem of the file.
//
// User keys are data: zod's output rebuilds objects by assignment, which turns a `__proto__` key into
// a prototype change and drops it. So zod only judges; the values handed on are the caller's own,
// read with Object.entries (own keys only) into arrays of pairs.
import type { ProviderOptionsIssue } from "../provider-api.ts";
import { isScheme, PEER_TOOLS, type Scheme } from "../provider.ts";
import { printable, SHOWN_CHARS } from "../printable.ts";
import { toIssues } from "./issues.ts";
import { isRef } from "./ref.ts";
import {
  array,
  boolean,
  literal,
  optional,
  safeParse,
  strictObject,
  string,
  type infer as Infer,
} from "zod/mini";

const SecretObject = strictObject({
  ref: string(),
  /** A file name. (With expand, `file: true`: checked by problemOfExpand, as a union's message says less.) */
  file: optional(string()),
  mode: optional(string()),
  optional: optional(boolean()),
  /** Used only when an optional secret does not exist (404): never for any other failure. */
  default: optional(string()),
  /** Every top-level key of the secret, one variable each; the entry's name is their prefix. */
  expand: optional(boolean()),
});

/** `file` is a name, or with expand `true` (one file per key, named after its variable: expand-name.ts). */
export type SecretEntry = string | (Omit<Infer<typeof SecretObject>, "file"> & { file?: string | boolean });

const TOP_LEVEL_KEYS = ["version", "providers", "secrets", "allowNames", "compat", "templates"] as const;

/** A config file with secrets inside (src/template/): its text is `source` (a file) or `content`. */
const TemplateObject = strictObject({
  source: optional(string()),
  content: optional(string()),
  target: string(),
  mode: optional(string()),
  env: optional(string()),
});

/** A template entry's text fields, read by own keys only. */
export interface TemplateEntry {
  /** Its index in the file's templates list, for messages (templates[2]). */
  readonly index: number;
  readonly source?: string;
  readonly content?: string;
  readonly target?: string;
  readonly mode?: string;
  readonly env?: string;
  /**
   * The entry failed the schema (reported): it plans nothing, but its text is still parsed so its
   * template problems are reported in the same run.
   */
  readonly rejected: boolean;
}

/** The text fields of a secret entry that failed the schema: still checked, so none hides another. */
export type RejectedSecret = Partial<Record<"ref" | "file" | "mode", string>> & {
  /** The entry has a file key whose value is not text. */
  readonly fileNotText?: boolean;
};

/** The valid parts of a config file; each list keeps the file's order. */
export interface ConfigParts {
  readonly secrets: readonly (readonly [name: string, entry: SecretEntry])[];
  /** Secrets that failed the schema: their name, reference, file name and mode are checked too. */
  readonly rejected: readonly (readonly [name: string, fields: RejectedSecret])[];
  readonly providers: readonly (readonly [scheme: Scheme, options: unknown])[];
  readonly allowNames: readonly string[];
  /** `compat:` (the peer tools whose forms are references); absent when the file does not say. */
  readonly compat?: readonly string[];
  /** Every template entry that is an object, in the file's order. */
  readonly templates: readonly TemplateEntry[];
}

export interface ConfigValidation {
  readonly parts: ConfigParts;
  readonly issues: readonly ProviderOptionsIssue[];
}

/** A mapping as YAML and JSON give it: an object that is not an array. */
function isMapping(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function ownEntries(value: object): [string, unknown][] {
  return Object.entries(value);
}

export function validateConfig(data: unknown): ConfigValidation {
  const issues: ProviderOptionsIssue[] = [];
  const secrets: [string, SecretEntry][] = [];
  const rejected: [string, RejectedSecret][] = [];
  const providers: [Scheme, unknown][] = [];
  let allowNames: string[] = [];
  let compat: string[] | undefined;
  const templates: TemplateEntry[] = [];
  const parts = (): ConfigParts => ({
    secrets,
    rejected,
    providers,
    allowNames,
    ...(compat === undefined ? {} : { compat }),
    templates,
  });
  if (!isMapping(data)) {
    issues.push({ path: [], message: "expected object" });
    return { parts: parts(), issues };
  }
  const top = new Map(ownEntries(data));
  const unknownTop = [...top.keys()].filter((k) => !(TOP_LEVEL_KEYS as readonly string[]).includes(k));
  if (unknownTop.length > 0) {
    issues.push(...toIssues([{ code: "unrecognized_keys", path: [], message: "", keys: unknownTop }]));
  }
  const version = safeParse(literal(1), top.get("version"));
  if (!version.success) issues.push(...prefixed(["version"], toIssues(version.error.issues)));

  const providerBlock = top.get("providers");
  if (providerBlock !== undefined) {
    if (!isMapping(providerBlock)) issues.push({ path: ["providers"], message: "expected object" });
    else {
      const unknownSchemes: string[] = [];
      for (const [scheme, options] of ownEntries(providerBlock)) {
        if (isScheme(scheme)) providers.push([scheme, options]);
        else unknownSchemes.push(scheme);
      }
      if (unknownSchemes.length > 0) {
        issues.push(
          ...toIssues([
            { code: "unrecognized_keys", path: ["providers"], message: "", keys: unknownSchemes },
          ]),
        );
      }
    }
  }

  const secretBlock = top.get("secrets");
  if (secretBlock !== undefined) {
    if (!isMapping(secretBlock)) issues.push({ path: ["secrets"], message: "expected object" });
    else {
      for (const [name, entry] of ownEntries(secretBlock)) {
        if (typeof entry === "string") {
          secrets.push([name, entry]);
          continue;
        }
        if (!isMapping(entry)) {
          issues.push({
            path: ["secrets", name],
            message: "expected a reference string or an object with ref",
          });
          rejected.push([name, {}]);
          continue;
        }
        const checked = safeParse(SecretObject, withoutBooleanFile(entry));
        const entryProblem = problemOfDefault(entry) ?? problemOfExpand(entry);
        if (checked.success && entryProblem === undefined) {
          secrets.push([name, ownSecretObject(entry)]);
          continue;
        }
        if (!checked.success) issues.push(...prefixed(["secrets", name], toIssues(checked.error.issues)));
        if (entryProblem !== undefined)
          issues.push({ path: ["secrets", name, entryProblem.key], message: entryProblem.message });
        rejected.push([name, textFields(entry)]);
      }
    }
  }

  const names = top.get("allowNames");
  if (names !== undefined) {
    const checked = safeParse(array(string()), names);
    if (checked.success) allowNames = [...(names as string[])];
    else issues.push(...prefixed(["allowNames"], toIssues(checked.error.issues)));
  }

  const tools = top.get("compat");
  if (tools !== undefined) {
    const checked = safeParse(array(string()), tools);
    if (!checked.success) issues.push(...prefixed(["compat"], toIssues(checked.error.issues)));
    else {
      const names = tools as string[];
      names.forEach((tool, index) => {
        if (!PEER_TOOLS.includes(tool))
          issues.push({
            path: ["compat", index],
            message: `unknown tool "${printable(tool, SHOWN_CHARS.name)}"; expected one of ${PEER_TOOLS.join(", ")}`,
          });
      });
      compat = [...new Set(names)];
    }
  }

  const templateList = top.get("templates");
  if (templateList !== undefined) {
    if (!Array.isArray(templateList)) issues.push({ path: ["templates"], message: "expected array" });
    else {
      templateList.forEach((entry: unknown, index) => {
        if (!isMapping(entry)) {
          issues.push({ path: ["templates", index], message: "expected object" });
          return;
        }
        const checked = safeParse(TemplateObject, entry);
        if (!checked.success) issues.push(...prefixed(["templates", index], toIssues(checked.error.issues)));
        const own = new Map(ownEntries(entry));
        const oneText = own.has("source") !== own.has("content");
        if (!oneText) {
          issues.push({
            path: ["templates", index],
            message: "needs exactly one of source (a file) or content (the text)",
          });
        }
        const fields: Record<string, string> = {};
        for (const key of ["source", "content", "target", "mode", "env"]) {
          const value = own.get(key);
          if (typeof value === "string") fields[key] = value;
        }
        templates.push({ index, ...fields, rejected: !checked.success || !oneText });
      });
    }
  }
  return { parts: parts(), issues };
}

/** The entry as the schema judges it: `file: true/false` is problemOfExpand's to judge. */
function withoutBooleanFile(entry: object): object {
  const own = ownEntries(entry);
  if (!own.some(([key, value]) => key === "file" && typeof value === "boolean")) return entry;
  // defineProperty, not assignment: a `__proto__` key stays an own key like any other.
  const copy = {};
  for (const [key, value] of own)
    if (key !== "file")
      Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** The checked object, read by own keys only (never through a prototype). */
function ownSecretObject(entry: object): Exclude<SecretEntry, string> {
  const own = new Map(ownEntries(entry));
  return {
    ref: own.get("ref") as string,
    ...(own.has("file") ? { file: own.get("file") as string | boolean } : {}),
    ...(own.has("mode") ? { mode: own.get("mode") as string } : {}),
    ...(own.has("optional") ? { optional: own.get("optional") as boolean } : {}),
    ...(own.has("default") ? { default: own.get("default") as string } : {}),
    ...(own.has("expand") ? { expand: own.get("expand") as boolean } : {}),
  };
}

/**
 * A default stands in for a secret that does not exist, so only an optional one may have it; and it is
 * a literal value, never a reference (which would reach the app unresolved).
 */
function problemOfDefault(entry: object): EntryProblem | undefined {
  const own = new Map(ownEntries(entry));
  const value = own.get("default");
  // Not text: the schema says so.
  if (typeof value !== "string") return undefined;
  const problem = (message: string): EntryProblem => ({ key: "default", message });
  if (own.get("optional") !== true) return problem("a default applies only to a secret with optional: true");
  if (isRef(value)) return problem("a default is a literal value, not a reference");
  // An absent expanded secret gives no variables; which names would a default give?
  if (own.get("expand") === true)
    return problem("a default does not apply to expand: true (an absent secret gives no variables)");
  return undefined;
}

interface EntryProblem {
  readonly key: string;
  readonly message: string;
}

/** `file: true` means one file per key: only with expand, which in turn names no single file. */
function problemOfExpand(entry: object): EntryProblem | undefined {
  const own = new Map(ownEntries(entry));
  const file = own.get("file");
  if (own.get("expand") === true && typeof file === "string")
    return {
      key: "file",
      message: "with expand: true, file is true (one file per key) or absent, not a file name",
    };
  if (own.get("expand") !== true && typeof file === "boolean")
    return { key: "file", message: "file: true/false applies only with expand: true; give a file name" };
  return undefined;
}

/** The entry's ref, file and mode that are text, read by own keys only. */
function textFields(entry: object): RejectedSecret {
  const fields: Partial<Record<"ref" | "file" | "mode", string>> = {};
  let fileNotText = false;
  for (const [key, value] of ownEntries(entry)) {
    if ((key === "ref" || key === "file" || key === "mode") && typeof value === "string") fields[key] = value;
    else if (key === "file" && typeof value !== "boolean") fileNotText = true;
  }
  return fileNotText ? { ...fields, fileNotText } : fields;
}

function prefixed(
  path: readonly (string | number)[],
  issues: readonly ProviderOptionsIssue[],
): ProviderOptionsIssue[] {
  return issues.map((issue) => ({ path: [...path, ...issue.path], message: issue.message }));
}
