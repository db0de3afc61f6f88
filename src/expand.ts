// Pure: an expanded declaration (`DB_*`) → one target per top-level key of the fetched object. The
// keys are known only after the fetch, so every rule a declared name meets at load time is applied
// here, before anything is delivered: a valid name that is not refused (SECRETWRAP_*, names that
// change how programs load code, a provider's own settings), no two keys giving one name, no name
// or file another declaration already has. Any problem fails the declaration (78): a key is never
// dropped or overwritten silently. Messages name keys (through printable.ts), never a value.
import { asSecretwrapError, SecretwrapError } from "./errors.ts";
import { expandedTarget } from "./expand-name.ts";
import { encodeScalar, objectAt } from "./field.ts";
import type { NumberTexts } from "./json.ts";
import { checkFileName, checkName, providerReading, type Plan, type Target } from "./plan.ts";
import { listed, printable, SHOWN_CHARS } from "./printable.ts";
import type { FetchOutcome } from "./resolve.ts";

export interface Expanded {
  /**
   * The plan's targets, each expanded declaration whose secret was fetched replaced by one target
   * per key (sorted by name). A declaration that failed to expand, or was not fetched, stays as it is.
   */
  readonly targets: Target[];
  /** The bytes of each key's target. */
  readonly values: Map<string, Uint8Array>;
  /** Why an expanded declaration gives nothing: one error with every problem of its keys. */
  readonly errors: Map<Target, SecretwrapError>;
  /** Optional expanded declarations whose object has no key: no variable, reported as absent. */
  readonly empty: Set<Target>;
}

/** render writes every target as a file; run a file target's only. */
export interface ExpandOptions {
  readonly envTargetsAreFiles: boolean;
}

export function expandTargets(
  plan: Plan,
  outcomes: ReadonlyMap<string, FetchOutcome>,
  options: ExpandOptions,
): Expanded {
  const targets: Target[] = [];
  const values = new Map<string, Uint8Array>();
  const errors = new Map<Target, SecretwrapError>();
  const empty = new Set<Target>();
  if (!plan.targets.some((t) => t.expand !== undefined)) {
    return { targets: [...plan.targets], values, errors, empty };
  }
  // Who has each name and file name already: the declared targets first, then each key as it comes.
  // A name's holder is also kept as its declaration, so that a key never gives NAME_FILE beside
  // another declaration's NAME (or NAME beside its NAME_FILE): an app that reads both forms would take
  // the one whoever writes the secret chose, in place of the declared one.
  const names = new Map<string, string>();
  const holders = new Map<string, Target>();
  const files = new Map<string, string>();
  const fileOf = (target: Target): string | undefined =>
    target.output.kind === "file"
      ? target.output.fileName
      : options.envTargetsAreFiles
        ? target.name
        : undefined;
  for (const target of plan.targets) {
    if (target.expand !== undefined) continue;
    const who = `${target.name}, declared in ${target.source}`;
    names.set(target.name, who);
    holders.set(target.name, target);
    const file = fileOf(target);
    if (file !== undefined) files.set(file, who);
  }
  // A config template's file and its `env` variable are taken too.
  for (const template of plan.templates ?? []) {
    const who = `${template.name}, declared in ${template.source}`;
    files.set(template.fileName, who);
    if (template.env !== undefined) names.set(template.env, who);
  }
  for (const declared of plan.targets) {
    const outcome = outcomes.get(declared.key);
    if (declared.expand === undefined || outcome === undefined || !outcome.ok) {
      targets.push(declared);
      continue;
    }
    const expansion = declared.expand;
    let object: Record<string, unknown>;
    let numbers: NumberTexts;
    try {
      ({ object, numbers } = objectAt(outcome.fetched, declared.ref.field));
    } catch (error) {
      errors.set(declared, asSecretwrapError(error));
      targets.push(declared);
      continue;
    }
    const keys = Object.keys(object);
    if (keys.length === 0) {
      if (declared.optional) empty.add(declared);
      else
        errors.set(
          declared,
          new SecretwrapError("FIELD_MISSING", "the secret is an empty object: it gives no variables", {
            hint: "store at least one key in the secret, or add optional: true if no variable is fine",
          }),
        );
      targets.push(declared);
      continue;
    }
    const problems: string[] = [];
    /** Values no target can take (null): a fetch-class failure (69), unless a name problem is worse. */
    const unusable: SecretwrapError[] = [];
    const own: { target: Target; bytes: Uint8Array }[] = [];
    const keysOf = new Map<string, string[]>();
    for (const key of keys) {
      if (key === "") {
        problems.push("the secret has an empty key, which gives no name");
        continue;
      }
      const { name } = expandedTarget(expansion, key);
      // Pushed in place: copying the list per key made 50,000 keys with one name take minutes.
      const same = keysOf.get(name);
      if (same === undefined) keysOf.set(name, [key]);
      else same.push(key);
    }
    for (const [name, sameName] of keysOf) {
      if (sameName.length > 1) {
        problems.push(
          `keys ${listed(sameName.map(quoted), MAX_LISTED, " and ", "keys")} give the same name ${shown(name)}`,
        );
        continue;
      }
      const key = sameName[0] as string;
      const { fileName: ownFile } = expandedTarget(expansion, key);
      const who = `key ${quoted(key)} of ${declared.name}, declared in ${declared.source}`;
      const nameProblem = checkName(name, plan.allowedNames ?? new Set());
      const reader = providerReading(name, plan.schemes);
      const holder = names.get(name);
      const fileName = ownFile ?? (options.envTargetsAreFiles ? name : undefined);
      const fileHolder = fileName === undefined ? undefined : files.get(fileName);
      const fileProblem = fileName === undefined ? undefined : checkFileName(fileName);
      const twin = fileTwinOf(name, holders, declared);
      const before = problems.length;
      if (holder !== undefined)
        problems.push(`key ${quoted(key)} gives ${shown(name)}, which is taken by ${holder}`);
      if (holder === undefined && twin !== undefined)
        problems.push(
          `key ${quoted(key)} gives ${shown(name)} beside ${shown(twin)}, declared in ${holders.get(twin)?.source ?? ""}: an app that reads both ${shown(twin.replace(/_FILE$/, ""))} and its _FILE form would take the one the secret chose`,
        );
      if (nameProblem !== undefined) problems.push(`key ${quoted(key)}: ${nameProblem}`);
      if (reader !== undefined && !(plan.allowedNames?.has(name) ?? false))
        problems.push(
          `key ${quoted(key)} gives ${shown(name)}, a setting the ${reader} provider reads itself in this run; refused unless allowed with --allow-name ${shown(name)}`,
        );
      if (fileHolder !== undefined && holder === undefined)
        problems.push(
          `key ${quoted(key)} gives file ${shown(fileName ?? "")}, which is taken by ${fileHolder}`,
        );
      if (fileProblem !== undefined) problems.push(`key ${quoted(key)}: ${fileProblem}`);
      if (holder === undefined) {
        names.set(name, who);
        holders.set(name, declared);
      }
      if (fileName !== undefined && fileHolder === undefined) files.set(fileName, who);
      if (problems.length > before) continue;
      try {
        const bytes = encodeScalar(object[key], key, numbers);
        const output =
          ownFile === undefined || declared.output.kind !== "file"
            ? declared.output
            : { kind: "file" as const, fileName: ownFile, mode: declared.output.mode };
        own.push({
          target: {
            name,
            ref: declared.ref,
            key: declared.key,
            output,
            optional: false,
            source: declared.source,
            expandedFrom: { pattern: declared.name, key },
          },
          bytes,
        });
      } catch (error) {
        unusable.push(asSecretwrapError(error));
      }
    }
    // One error per declaration, however many of its keys are wrong: it is one secret that failed.
    const error =
      problems.length > 0
        ? new SecretwrapError(
            "TARGET_INVALID",
            `${listed([...problems, ...unusable.map((e) => e.message)], MAX_LISTED, "; ", "problems")} (declared in ${declared.source})`,
            {
              hint: "rename the keys in the secret, or choose another prefix: every key must give a name of its own that is allowed",
            },
          )
        : unusable.length > 1
          ? new SecretwrapError(
              "FIELD_MISSING",
              listed(
                unusable.map((e) => e.message),
                MAX_LISTED,
                "; ",
                "problems",
              ),
              {
                hint: (unusable[0] as SecretwrapError).hint,
              },
            )
          : unusable[0];
    if (error !== undefined) {
      errors.set(declared, error);
      targets.push(declared);
      continue;
    }
    own.sort((a, b) => (a.target.name < b.target.name ? -1 : a.target.name > b.target.name ? 1 : 0));
    for (const { target, bytes } of own) {
      targets.push(target);
      values.set(target.name, bytes);
    }
  }
  return { targets, values, errors, empty };
}

/** How many keys or problems one message lists before it says how many more there are. */
const MAX_LISTED = 10;

const FILE_SUFFIX = "_FILE";

/**
 * The name another declaration holds that `name` is the _FILE twin of, or that is `name`'s _FILE twin
 * (DB_PASSWORD and DB_PASSWORD_FILE): keys of one declaration may give both, since whoever writes
 * that secret chooses both anyway.
 */
function fileTwinOf(
  name: string,
  holders: ReadonlyMap<string, Target>,
  declared: Target,
): string | undefined {
  const twins = [name + FILE_SUFFIX];
  if (name.endsWith(FILE_SUFFIX) && name.length > FILE_SUFFIX.length)
    twins.push(name.slice(0, -FILE_SUFFIX.length));
  return twins.find((twin) => {
    const holder = holders.get(twin);
    return holder !== undefined && holder !== declared;
  });
}

/** A key in a message: escaped and cut like every user string, in quotes to show where it ends. */
function quoted(key: string): string {
  return `"${printable(key, SHOWN_CHARS.key)}"`;
}

/** An expanded name is [A-Za-z0-9_] only, but may be long. */
function shown(name: string): string {
  return printable(name, SHOWN_CHARS.name);
}
