// Reads the three declaration sources (inherited env, every --env-file in order, config file) and
// merges them by the one precedence rule of precedence.ts. Nothing here throws for bad input: every
// problem is collected, so that with the plan's own checks one run reports all of them. The YAML
// parser and the schema are loaded only when a config file exists, so a run without one pays nothing.
import { existsSync } from "node:fs";
import { SecretwrapError } from "../errors.ts";
import type { Declaration, TargetShape, TemplateDeclaration } from "../plan.ts";
import { loadOptionSchema, type Scheme } from "../provider.ts";
import { parsePattern, patternOf, type Expansion } from "../expand-name.ts";
import { parseEnvFile } from "./envfile.ts";
import { formatPath } from "./issues.ts";
import {
  ENVIRONMENT,
  settleValues,
  type Inheritance,
  type PlainValue,
  type SecretSource,
} from "./precedence.ts";
import { readDeclarationFile } from "./read.ts";
import { readPeerForm, unusablePeerRef } from "./compat.ts";
import { isRef, parseRef } from "./ref.ts";
import type { ConfigParts } from "./schema.ts";
import { parseYamlData } from "./yaml.ts";

export interface LoadInput {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Explicit --config; otherwise ./secretwrap.yaml when it exists. */
  readonly configPath?: string;
  /** Every --env-file, in the order given; a later file wins over an earlier one for plain values. */
  readonly envFiles?: readonly string[];
  /** run's --pristine and --keep-env: which inherited variables the app keeps (precedence.ts). */
  readonly inheritance?: Inheritance;
  /** --compat / SECRETWRAP_COMPAT: the peer tools whose forms are references; else the config's compat:. */
  readonly compat?: readonly string[];
}

export interface Loaded {
  readonly declarations: readonly Declaration[];
  /** Plain (non-reference) values from the env-files that no stronger source replaced. */
  readonly envFileValues: Readonly<Record<string, string>>;
  readonly providerOptions: Readonly<Partial<Record<Scheme, unknown>>>;
  readonly allowNames: readonly string[];
  readonly configPath: string | undefined;
  /** Every problem found; the caller adds the plan's and reports them in one error. */
  readonly problems: readonly SecretwrapError[];
  /** A value that lost to a stronger source (precedence.ts): names and sources only. */
  readonly warnings: readonly string[];
  /**
   * The same rule for secrets known only after the fetch (the keys of an expanded secret, DB_*): the
   * warnings for the plain values they replace.
   */
  readonly laterSecrets: (secrets: readonly SecretSource[]) => readonly string[];
  /**
   * Declarations whose reference did not parse, or that failed the schema: their names and outputs
   * are still checked.
   */
  readonly refless: readonly TargetShape[];
  /** The peer tools whose forms were read as references (--compat, else the config's compat:). */
  readonly compat: readonly string[];
  /** Config templates that parsed (src/template/); their problems are in `problems`. */
  readonly templates: readonly TemplateDeclaration[];
}

export const DEFAULT_CONFIG = "secretwrap.yaml";

function configProblem(where: string, message: string): SecretwrapError {
  return new SecretwrapError("CONFIG_INVALID", `${where}: ${message}`);
}

export async function loadDeclarations(input: LoadInput): Promise<Loaded> {
  const problems: SecretwrapError[] = [];
  const declarations: Declaration[] = [];
  const refless: TargetShape[] = [];
  const refProblem = (name: string, error: unknown, source: string): void => {
    if (!(error instanceof SecretwrapError)) throw error;
    problems.push(
      new SecretwrapError(error.code, `${error.message} (${source})`, {
        hint: error.hint,
        subject: { secret: name, ref: error.subject.ref ?? "" },
      }),
    );
  };
  const checkRejectedRef = (name: string, raw: string, source: string): void => {
    const peer = isRef(raw) ? undefined : readPeerForm(name, raw, compat, source);
    if (peer !== undefined && "error" in peer) {
      problems.push(peer.error);
      return;
    }
    try {
      parseRef(peer?.ref ?? raw);
    } catch (error) {
      if (peer !== undefined) problems.push(unusablePeerRef(name, peer.ref, peer.origin, error, source));
      else refProblem(name, error, source);
    }
  };
  const addDeclaration = (
    name: string,
    raw: string,
    source: string,
    extra: Partial<Declaration> = {},
  ): void => {
    const peer = isRef(raw) ? undefined : readPeerForm(name, raw, compat, source);
    const shape = (): TargetShape => ({
      name,
      source,
      ...(extra.file === undefined ? {} : { file: extra.file }),
      ...(extra.mode === undefined ? {} : { mode: extra.mode }),
      ...(extra.expand === undefined ? {} : { expand: extra.expand }),
    });
    if (peer !== undefined && "error" in peer) {
      problems.push(peer.error);
      refless.push(shape());
      return;
    }
    try {
      const ref = parseRef(peer?.ref ?? raw);
      // berglas' destination=tempfile: the variable holds the path of a file named after it (a config
      // entry's own file: still names the file).
      const file = extra.file ?? (peer?.file === true ? name : undefined);
      declarations.push({
        name,
        ref,
        optional: false,
        source,
        ...extra,
        ...(file === undefined ? {} : { file }),
        ...(peer === undefined ? {} : { compat: peer.origin }),
      });
    } catch (error) {
      if (peer === undefined) refProblem(name, error, source);
      else problems.push(unusablePeerRef(name, peer.ref, peer.origin, error, source));
      refless.push(shape());
    }
  };
  /** A value that declares a secret: a reference, or a form of a tool --compat names. */
  const declares = (value: string): boolean =>
    isRef(value) || (compat.length > 0 && readPeerForm("", value, compat, "") !== undefined);

  const configPath = input.configPath ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
  // Read first, reported in their place below: the file's compat: applies to every source.
  const configProblems: SecretwrapError[] = [];
  const parts = configPath === undefined ? undefined : await readConfig(configPath, configProblems);
  const compat = input.compat ?? parts?.compat ?? [];

  for (const [name, value] of Object.entries(input.env)) {
    if (value === undefined || name.startsWith("SECRETWRAP_") || !declares(value)) continue;
    addDeclaration(name, value, ENVIRONMENT);
  }

  const envFilePlain: PlainValue[] = [];
  for (const envFile of input.envFiles ?? []) {
    const read = readDeclarationFile(envFile);
    if ("problem" in read) {
      problems.push(configProblem(envFile, `the --env-file ${read.problem}`));
      continue;
    }
    const { entries, problems: syntax } = parseEnvFile(read.text);
    for (const p of syntax) problems.push(configProblem(`${envFile}:${p.line}`, p.message));
    for (const entry of entries) {
      const source = `${envFile}:${entry.line}`;
      // Neither applied nor passed on (the app gets no SECRETWRAP_*): a line that looks like a setting
      // but does nothing is a silent misconfiguration.
      if (entry.name.startsWith("SECRETWRAP_")) {
        problems.push(
          configProblem(
            source,
            `${entry.name}: secretwrap's settings are read from its own environment or options, not from an env-file`,
          ),
        );
        continue;
      }
      const expand = parsePattern(entry.name);
      if (expand !== undefined) {
        if (isRef(entry.value)) addDeclaration(entry.name, entry.value, source, { expand });
        else
          problems.push(
            configProblem(
              source,
              `${entry.name} gives every key of a secret: its value must be a reference (ref+…)`,
            ),
          );
        continue;
      }
      if (declares(entry.value)) addDeclaration(entry.name, entry.value, source);
      else envFilePlain.push({ name: entry.name, value: entry.value, source });
    }
  }

  const providerOptions: Partial<Record<Scheme, unknown>> = Object.create(null) as Partial<
    Record<Scheme, unknown>
  >;
  let allowNames: readonly string[] = [];
  problems.push(...configProblems);
  let templates: readonly TemplateDeclaration[] = [];
  if (configPath !== undefined) {
    if (parts !== undefined) {
      allowNames = parts.allowNames;
      for (const [name, entry] of parts.secrets) {
        if (typeof entry === "string") {
          addDeclaration(name, entry, configPath);
          continue;
        }
        // The schema refuses a ref+ default; a default in an enabled tool's form would reach the app
        // as that text just the same, where the user expected a secret (the default is not shown).
        const peerDefault =
          entry.default === undefined ? undefined : readPeerForm(name, entry.default, compat, configPath);
        if (peerDefault !== undefined) {
          problems.push(
            configProblem(
              configPath,
              `${formatPath(["secrets", name, "default"])}: a default is a literal value, not a reference, and this one reads as a reference in a --compat tool's form`,
            ),
          );
        }
        if (entry.expand === true) {
          // Called by its pattern (DB_*, DB_*_FILE) from here on; a _FILE pattern is a file output.
          const expand: Expansion = { prefix: name, files: entry.file === true };
          addDeclaration(patternOf(expand), entry.ref, configPath, {
            optional: entry.optional ?? false,
            expand,
            ...(entry.mode === undefined ? {} : { mode: entry.mode }),
          });
          continue;
        }
        addDeclaration(name, entry.ref, configPath, {
          optional: entry.optional ?? false,
          ...(entry.default === undefined ? {} : { default: entry.default }),
          ...(typeof entry.file === "string" ? { file: entry.file } : {}),
          ...(entry.mode === undefined ? {} : { mode: entry.mode }),
        });
      }
      // An entry that failed the schema plans nothing, but its other problems are reported now.
      for (const [name, fields] of parts.rejected) {
        if (fields.ref !== undefined) checkRejectedRef(name, fields.ref, configPath);
        refless.push({
          name,
          source: configPath,
          ...(fields.file === undefined ? {} : { file: fields.file }),
          ...(fields.mode === undefined ? {} : { mode: fields.mode }),
          ...(fields.fileNotText === true ? { fileNotText: true } : {}),
        });
      }
      if (parts.templates.length > 0) {
        const { loadTemplates } = await import("./templates.ts");
        templates = loadTemplates(configPath, parts.templates, problems);
      }
      for (const [scheme, block] of parts.providers) {
        // A block with problems stops the run before any provider connects.
        providerOptions[scheme] = (await checkProviderOptions(configPath, scheme, block, problems)) ?? block;
      }
    }
  }

  const { envFileValues, warnings } = settleValues(
    input.env,
    declarations,
    envFilePlain,
    input.inheritance,
    declares,
  );
  return {
    declarations,
    envFileValues,
    providerOptions,
    allowNames,
    configPath,
    problems,
    warnings,
    refless,
    compat,
    laterSecrets: (secrets) => {
      const names = new Set(secrets.map((secret) => secret.name));
      // Only what these secrets replace: the rest was said when the declarations were loaded.
      return settleValues(input.env, secrets, envFilePlain, input.inheritance).warnings.filter((warning) =>
        names.has(warning.slice(0, warning.indexOf(":"))),
      );
    },
    templates,
  };
}

async function readConfig(path: string, problems: SecretwrapError[]): Promise<ConfigParts | undefined> {
  const read = readDeclarationFile(path);
  if ("problem" in read) {
    problems.push(configProblem(path, `the --config file ${read.problem}`));
    return undefined;
  }
  const [parsed, { validateConfig }] = await Promise.all([parseYamlData(read.text), import("./schema.ts")]);
  if ("problems" in parsed) {
    for (const p of parsed.problems) problems.push(configProblem(`${path}:${p.where}`, p.message));
    return undefined;
  }
  const { parts, issues } = validateConfig(parsed.data);
  for (const issue of issues) {
    const where = formatPath(issue.path);
    problems.push(configProblem(path, `${where === "" ? "(top level)" : where}: ${issue.message}`));
  }
  return parts;
}

/** The provider's options, typed, when its block passes the provider's schema (which loads now). */
async function checkProviderOptions(
  configPath: string,
  scheme: Scheme,
  block: unknown,
  problems: SecretwrapError[],
): Promise<unknown> {
  try {
    const checked = (await loadOptionSchema(scheme)).check(block ?? {});
    if ("options" in checked) return checked.options;
    for (const issue of checked.issues) {
      problems.push(
        configProblem(configPath, `${formatPath(["providers", scheme, ...issue.path])}: ${issue.message}`),
      );
    }
  } catch (error) {
    if (!(error instanceof SecretwrapError)) throw error;
    problems.push(configProblem(configPath, `providers.${scheme}: ${error.message}`));
  }
  return undefined;
}
