// Pure: declarations → the set of distinct fetches and the targets each one feeds. Every name, file
// name and mode is validated here, before any provider is loaded or any request is sent.
import { SecretsFailedError, SecretwrapError } from "./errors.ts";
import type { PeerOrigin } from "./config/compat.ts";
import { describeRef, fetchKey, type Ref } from "./config/ref.ts";
import { printable as printableText, SHOWN_CHARS } from "./printable.ts";
import { descriptorOf, type Scheme } from "./provider.ts";
import { prefixProblems, type Expansion } from "./expand-name.ts";
import type { Template } from "./template/parse.ts";
import { referencesOf } from "./template/render.ts";

export type Output =
  { readonly kind: "env" } | { readonly kind: "file"; readonly fileName: string; readonly mode: number };

export interface Declaration {
  readonly name: string;
  readonly ref: Ref;
  /** Omitted: env, or a file named after NAME without _FILE when NAME ends in _FILE. */
  readonly file?: string;
  readonly mode?: string;
  readonly optional: boolean;
  /** optional only: the value the target gets when the secret does not exist (config `default:`). */
  readonly default?: string;
  /** Where it was declared, for messages: "environment", ".env:3", "secretwrap.yaml". */
  readonly source: string;
  /** Written in a peer tool's form (--compat): which, and as what. */
  readonly compat?: PeerOrigin;
  /** Every key of the secret (expand.ts): the name is then the pattern, `DB_*` or `DB_*_FILE`. */
  readonly expand?: Expansion;
}

export interface Target {
  readonly name: string;
  readonly ref: Ref;
  readonly key: string;
  readonly output: Output;
  readonly optional: boolean;
  readonly default?: string;
  readonly source: string;
  readonly compat?: PeerOrigin;
  /** A declaration of every key (expand.ts), replaced by one target per key once it is fetched. */
  readonly expand?: Expansion;
  /** One key's target: the pattern it was expanded from and the key (a user string: printable). */
  readonly expandedFrom?: { readonly pattern: string; readonly key: string };
}

/** A config file with secrets inside (config `templates:`), parsed at load time. */
export interface TemplateDeclaration {
  /** Absent: its text had problems (reported); its target is still checked, and it plans nothing. */
  readonly template?: Template;
  /** The file it renders to, in the secrets dir (run) or --out (render). */
  readonly target: string;
  readonly mode?: string;
  /** run: a variable the app gets holding the file's path. */
  readonly env?: string;
  /** Where it was declared: "secretwrap.yaml templates[0]". */
  readonly source: string;
}

/** A template in the plan: a file target whose bytes are rendered from several references. */
export interface PlannedTemplate {
  /** "template:<file name>": how messages, audit lines, `check` and the values map call it. */
  readonly name: string;
  readonly template: Template;
  readonly fileName: string;
  readonly mode: number;
  readonly env?: string;
  /** Every reference it uses, once each, with its fetch key. */
  readonly refs: readonly { readonly ref: Ref; readonly key: string }[];
  readonly source: string;
}

export interface Plan {
  /** One entry per distinct secret: several targets (fields) of one secret share one fetch. */
  readonly fetches: ReadonlyMap<string, Ref>;
  readonly targets: readonly Target[];
  readonly schemes: readonly Scheme[];
  /** --allow-name and allowNames: the expanded names are checked against them once they are known. */
  readonly allowedNames?: ReadonlySet<string>;
  /** Config templates: their references are in fetches with everything else's. */
  readonly templates?: readonly PlannedTemplate[];
}

export const TEMPLATE_PREFIX = "template:";

export const DEFAULT_FILE_MODE = 0o400;
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

// Variables that change how programs load code or how shells start: a secret store (or whoever
// can write to it) must not be able to set them for the app by accident.
const DANGEROUS_NAMES = new Set([
  "PATH",
  "NODE_OPTIONS",
  "NODE_PATH",
  "BASH_ENV",
  "ENV",
  "SHELLOPTS",
  "BASHOPTS",
  "PS4",
  "PROMPT_COMMAND",
  "IFS",
  "PYTHONPATH",
  "PYTHONSTARTUP",
  "PYTHONHOME",
  "PERL5OPT",
  "PERL5LIB",
  "PERLLIB",
  "RUBYOPT",
  "RUBYLIB",
  "GCONV_PATH",
  "JAVA_TOOL_OPTIONS",
  "_JAVA_OPTIONS",
  "JDK_JAVA_OPTIONS",
  "CLASSPATH",
  "HOSTALIASES",
  "LOCPATH",
  "NLSPATH",
  "RESOLV_HOST_CONF",
  "TMPDIR",
  "HOME",
]);
const DANGEROUS_PREFIXES = ["LD_", "DYLD_"];

// A provider reads its ecosystem's variables (credentials, endpoints) from the environment; a target
// with such a name, in a run that uses that provider, would either be read back as a credential or
// collide with one the provider consumes. Each provider names its prefixes (ProviderDescriptor.envPrefixes).
const providerPrefixes = (scheme: Scheme): readonly string[] => descriptorOf(scheme).envPrefixes;

export function isDangerousName(name: string): boolean {
  return DANGEROUS_NAMES.has(name) || isDangerousPrefix(name);
}

/** Every name that starts so is dangerous (an expanded declaration's prefix is checked with it). */
export function isDangerousPrefix(prefix: string): boolean {
  return DANGEROUS_PREFIXES.some((p) => prefix.startsWith(p));
}

/** The provider of this run that reads `name` itself as one of its settings, if any. */
export function providerReading(name: string, schemes: readonly Scheme[]): Scheme | undefined {
  return schemes.find((scheme) => providerPrefixes(scheme).some((p) => name.startsWith(p)));
}

export function checkName(name: string, allowed: ReadonlySet<string>): string | undefined {
  if (!NAME_PATTERN.test(name))
    return `"${printable(name)}" is not a valid variable name (^[A-Za-z_][A-Za-z0-9_]*$)`;
  if (name.startsWith("SECRETWRAP_")) return `${name}: SECRETWRAP_* names are secretwrap's own settings`;
  if (isDangerousName(name) && !allowed.has(name)) {
    return `${name} changes how programs load code; refused unless allowed with --allow-name ${name}`;
  }
  return undefined;
}

/** kubelet's rules for a projected file, restricted to one path component: no directories to traverse. */
export function checkFileName(fileName: string): string | undefined {
  if (fileName === "") return "the file name is empty";
  if (fileName === "." || fileName.startsWith(".."))
    return `file name "${printable(fileName)}" may not be . or start with ..`;
  if (fileName.includes("/"))
    return `file name "${printable(fileName)}" may not contain / (files live directly in the secrets dir)`;
  if ([...fileName].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    return "a file name may not contain control characters";
  if (Buffer.byteLength(fileName) > 255) return "a file name may be at most 255 bytes";
  return undefined;
}

export function parseMode(mode: string): number | string {
  if (!/^0?[0-7]{3}$/.test(mode)) return `mode "${printable(mode)}" must be an octal string such as "0400"`;
  const value = Number.parseInt(mode, 8);
  if ((value & 0o400) === 0) return `mode "${mode}" must let the owner read the file`;
  if ((value & 0o022) !== 0) return `mode "${mode}" must not let group or others write the file`;
  return value;
}

const FILE_SUFFIX = "_FILE";

/** What the target rules look at: a declaration without its reference (which may not have parsed). */
export type TargetShape = Pick<Declaration, "name" | "file" | "mode" | "source" | "expand"> & {
  /** A config entry whose file failed the schema (not text): a mode is still a file's mode. */
  readonly fileNotText?: boolean;
};

/**
 * Every problem of a target's name and output, each on its own: a bad name does not hide a bad file
 * name, a bad mode does not hide either. Also run for declarations whose reference did not parse (or
 * that failed the schema), so those are reported in one run.
 */
export function targetProblems(shape: TargetShape, allowedNames: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const nameProblems =
    shape.expand === undefined
      ? [checkName(shape.name, allowedNames)].filter((p) => p !== undefined)
      : prefixProblems(shape.expand.prefix);
  problems.push(...nameProblems);
  if (shape.expand !== undefined && isDangerousPrefix(shape.expand.prefix) && nameProblems.length === 0)
    problems.push(`${shape.name}: every name it gives changes how programs load code; refused`);
  const output = outputOf(shape);
  if (!("kind" in output)) problems.push(...output.problems);
  return problems;
}

/** The output of a declaration, or every independent problem of its file name and mode. */
function outputOf(declaration: TargetShape): Output | { readonly problems: readonly string[] } {
  const problems: string[] = [];
  const modeOrProblem = declaration.mode === undefined ? DEFAULT_FILE_MODE : parseMode(declaration.mode);
  if (typeof modeOrProblem === "string") problems.push(modeOrProblem);
  const conventionalFile =
    declaration.name.endsWith(FILE_SUFFIX) && declaration.name.length > FILE_SUFFIX.length
      ? declaration.name.slice(0, -FILE_SUFFIX.length)
      : undefined;
  const fileName = declaration.file ?? conventionalFile;
  if (fileName === undefined) {
    if (declaration.mode !== undefined && declaration.fileNotText !== true)
      problems.push(`mode is set but ${printable(declaration.name)} is not a file output`);
  } else {
    const problem = checkFileName(fileName);
    if (problem !== undefined) problems.push(problem);
  }
  if (problems.length > 0) return { problems };
  if (fileName === undefined) return { kind: "env" };
  return { kind: "file", fileName, mode: modeOrProblem as number };
}

export interface PlanOptions {
  /** render: every target is a file, an env target's named after its variable. */
  readonly envTargetsAreFiles?: boolean;
  /** Config templates: file targets too, checked against the same names and file names. */
  readonly templates?: readonly TemplateDeclaration[];
}

/** Throws one error with every problem of the declarations. */
export function buildPlan(
  declarations: readonly Declaration[],
  allowedNames: ReadonlySet<string> = new Set(),
  options: PlanOptions = {},
): Plan {
  const { plan, problems } = collectPlan(declarations, allowedNames, options);
  if (problems.length > 0)
    throw new SecretsFailedError(problems, `${problems.length} declaration(s) are invalid`);
  return plan;
}

/**
 * The plan of the valid declarations and the problems of the others: the caller joins them with the
 * loader's problems, so one run reports every problem of every source.
 */
export function collectPlan(
  declarations: readonly Declaration[],
  allowedNames: ReadonlySet<string> = new Set(),
  options: PlanOptions = {},
): { plan: Plan; problems: SecretwrapError[] } {
  const problems: SecretwrapError[] = [];
  const fetches = new Map<string, Ref>();
  const targets: Target[] = [];
  /** File name → the declaration that targets it: its name and where it was declared. */
  const fileOwners = new Map<string, { name: string; source: string }>();
  const names = new Map<string, string>();
  for (const declaration of declarations) {
    const subject = { secret: printable(declaration.name), ref: declaration.ref.raw };
    const fail = (message: string): void => {
      problems.push(
        new SecretwrapError("TARGET_INVALID", `${message} (declared in ${declaration.source})`, { subject }),
      );
    };
    // A second declaration of a name is one problem; its own name, file name and mode problems are
    // others, reported with it.
    const firstSource = names.get(declaration.name);
    if (firstSource !== undefined)
      fail(`${printable(declaration.name)} is declared twice (first in ${firstSource})`);
    else names.set(declaration.name, declaration.source);
    const shapeProblems = targetProblems(declaration, allowedNames);
    for (const problem of shapeProblems) fail(problem);
    if (firstSource !== undefined || shapeProblems.length > 0) continue;
    const output = outputOf(declaration) as Output;
    // render writes an env target as a file named after the variable: that name clashes like any other.
    // An expanded declaration's files are named after its keys, checked once they are known.
    const fileName =
      declaration.expand !== undefined
        ? undefined
        : output.kind === "file"
          ? output.fileName
          : options.envTargetsAreFiles === true
            ? declaration.name
            : undefined;
    if (fileName !== undefined) {
      const owner = fileOwners.get(fileName);
      if (owner !== undefined) {
        fail(
          `file ${printable(fileName)} is already the target of ${printable(owner.name)} (declared in ${owner.source}); ${printable(declaration.name)} targets it too`,
        );
        continue;
      }
      fileOwners.set(fileName, { name: declaration.name, source: declaration.source });
    }
    const key = fetchKey(declaration.ref);
    if (!fetches.has(key)) fetches.set(key, declaration.ref);
    targets.push({
      name: declaration.name,
      ref: declaration.ref,
      key,
      output,
      optional: declaration.optional,
      ...(declaration.default === undefined ? {} : { default: declaration.default }),
      source: declaration.source,
      ...(declaration.compat === undefined ? {} : { compat: declaration.compat }),
      ...(declaration.expand === undefined ? {} : { expand: declaration.expand }),
    });
  }
  const templates = planTemplates(options.templates ?? [], allowedNames, {
    fetches,
    names,
    fileOwners,
    problems,
  });
  const schemes = [...new Set([...fetches.values()].map((ref) => ref.scheme))];
  const variables = [
    ...targets.map((t) => ({ name: t.name, source: t.source, ref: t.ref.raw })),
    ...templates.flatMap((t) => (t.env === undefined ? [] : [{ name: t.env, source: t.source, ref: "" }])),
  ];
  for (const target of variables) {
    const owner = providerReading(target.name, schemes);
    if (owner !== undefined && !allowedNames.has(target.name)) {
      problems.push(
        new SecretwrapError(
          "TARGET_INVALID",
          `${target.name} is a setting the ${owner} provider reads itself in this run; refused unless allowed with --allow-name ${target.name} (declared in ${target.source})`,
          { subject: { secret: target.name, ...(target.ref === "" ? {} : { ref: target.ref }) } },
        ),
      );
    }
  }
  const plan = { fetches, targets, schemes, allowedNames };
  return { plan: templates.length === 0 ? plan : { ...plan, templates }, problems };
}

/**
 * Templates are file targets: the same file name, mode and (for `env`) variable name rules, and a
 * file name or variable another declaration already has is a clash. Their references join the fetches.
 */
function planTemplates(
  declarations: readonly TemplateDeclaration[],
  allowedNames: ReadonlySet<string>,
  into: {
    readonly fetches: Map<string, Ref>;
    readonly names: Map<string, string>;
    readonly fileOwners: Map<string, { name: string; source: string }>;
    readonly problems: SecretwrapError[];
  },
): PlannedTemplate[] {
  const planned: PlannedTemplate[] = [];
  for (const declaration of declarations) {
    const name = `${TEMPLATE_PREFIX}${printable(declaration.target)}`;
    let failed = false;
    const fail = (message: string): void => {
      failed = true;
      into.problems.push(
        new SecretwrapError("TARGET_INVALID", `${message} (declared in ${declaration.source})`, {
          subject: { secret: name },
        }),
      );
    };
    const fileProblem = checkFileName(declaration.target);
    if (fileProblem !== undefined) fail(fileProblem);
    const mode = declaration.mode === undefined ? DEFAULT_FILE_MODE : parseMode(declaration.mode);
    if (typeof mode === "string") fail(mode);
    if (declaration.env !== undefined) {
      const nameProblem = checkName(declaration.env, allowedNames);
      if (nameProblem !== undefined) fail(nameProblem);
      const first = into.names.get(declaration.env);
      if (first !== undefined) fail(`${printable(declaration.env)} is declared twice (first in ${first})`);
      else into.names.set(declaration.env, declaration.source);
    }
    if (fileProblem === undefined) {
      const owner = into.fileOwners.get(declaration.target);
      if (owner !== undefined) {
        fail(
          `file ${printable(declaration.target)} is already the target of ${printable(owner.name)} (declared in ${owner.source}); a template targets it too`,
        );
      } else into.fileOwners.set(declaration.target, { name, source: declaration.source });
    }
    if (failed || typeof mode === "string" || declaration.template === undefined) continue;
    const refs = referencesOf(declaration.template).map((ref) => ({ ref, key: fetchKey(ref) }));
    for (const { ref, key } of refs) if (!into.fetches.has(key)) into.fetches.set(key, ref);
    planned.push({
      name,
      template: declaration.template,
      fileName: declaration.target,
      mode,
      ...(declaration.env === undefined ? {} : { env: declaration.env }),
      refs,
      source: declaration.source,
    });
  }
  return planned;
}

/**
 * `get REF`: one target, called by its reference in every message and audit line (it has no variable
 * name, and "value" told the user nothing). Its output is stdout, so no name or file rule applies.
 */
export function planForGet(ref: Ref): Plan {
  const key = fetchKey(ref);
  const target: Target = {
    name: describeRef(ref.raw),
    ref,
    key,
    output: { kind: "env" },
    optional: false,
    source: "argument",
  };
  return { fetches: new Map([[key, ref]]), targets: [target], schemes: [ref.scheme] };
}

/** A name, file name or mode in a message: the one rule of printable.ts, at a name's length. */
function printable(text: string): string {
  return printableText(text, SHOWN_CHARS.name);
}
