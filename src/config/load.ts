// Reads the three declaration sources (inherited env, --env-file, config file) and merges them.
// Every problem is collected and reported at once. The YAML parser and the schema are loaded only
// when a config file exists, so a run without one pays nothing for them.
import { existsSync, readFileSync } from "node:fs";
import { SecretsFailedError, SecretwrapError } from "../errors.ts";
import type { Declaration } from "../plan.ts";
import { loadProvider, type Scheme } from "../provider.ts";
import { parseEnvFile } from "./envfile.ts";
import { formatPath } from "./issues.ts";
import { commonJs } from "../interop.ts";
import { isRef, parseRef } from "./ref.ts";

export interface LoadInput {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Explicit --config; otherwise ./secretwrap.yaml when it exists. */
  readonly configPath?: string;
  readonly envFile?: string;
}

export interface Loaded {
  readonly declarations: readonly Declaration[];
  /** Plain (non-reference) values from --env-file: set for the app unless already in its environment. */
  readonly envFileValues: Readonly<Record<string, string>>;
  readonly providerOptions: Readonly<Partial<Record<Scheme, unknown>>>;
  readonly allowNames: readonly string[];
  readonly configPath: string | undefined;
}

export const DEFAULT_CONFIG = "secretwrap.yaml";

type Problem = SecretwrapError;

function configProblem(where: string, message: string): Problem {
  return new SecretwrapError("CONFIG_INVALID", `${where}: ${message}`);
}

export async function loadDeclarations(input: LoadInput): Promise<Loaded> {
  const problems: Problem[] = [];
  const declarations: Declaration[] = [];
  const addDeclaration = (
    name: string,
    raw: string,
    source: string,
    extra: Partial<Declaration> = {},
  ): void => {
    try {
      declarations.push({ name, ref: parseRef(raw), optional: false, source, ...extra });
    } catch (error) {
      if (!(error instanceof SecretwrapError)) throw error;
      problems.push(
        new SecretwrapError(error.code, `${error.message} (${source})`, {
          subject: { secret: name, ref: error.subject.ref ?? "" },
        }),
      );
    }
  };

  for (const [name, value] of Object.entries(input.env)) {
    if (value === undefined || name.startsWith("SECRETWRAP_") || !isRef(value)) continue;
    addDeclaration(name, value, "environment");
  }

  const envFileValues: Record<string, string> = {};
  if (input.envFile !== undefined) {
    const text = readText(input.envFile, "--env-file", problems);
    if (text !== undefined) {
      const { entries, problems: syntax } = parseEnvFile(text);
      for (const p of syntax) problems.push(configProblem(`${input.envFile}:${p.line}`, p.message));
      for (const entry of entries) {
        const source = `${input.envFile}:${entry.line}`;
        if (isRef(entry.value)) addDeclaration(entry.name, entry.value, source);
        else envFileValues[entry.name] = entry.value;
      }
    }
  }

  const configPath = input.configPath ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
  let providerOptions: Partial<Record<Scheme, unknown>> = {};
  let allowNames: string[] = [];
  if (configPath !== undefined) {
    const text = readText(configPath, "--config", problems);
    const config = text === undefined ? undefined : await parseConfig(configPath, text, problems);
    if (config !== undefined) {
      providerOptions = config.providers ?? {};
      allowNames = config.allowNames ?? [];
      for (const [name, entry] of Object.entries(config.secrets ?? {})) {
        const source = configPath;
        if (typeof entry === "string") {
          addDeclaration(name, entry, source);
          continue;
        }
        addDeclaration(name, entry.ref, source, {
          optional: entry.optional ?? false,
          ...(entry.file === undefined ? {} : { file: entry.file }),
          ...(entry.mode === undefined ? {} : { mode: entry.mode }),
        });
      }
      for (const [scheme, options] of Object.entries(providerOptions) as [Scheme, unknown][]) {
        try {
          const issues = (await loadProvider(scheme)).validateOptions(options ?? {});
          for (const issue of issues) {
            problems.push(
              configProblem(
                configPath,
                `${formatPath(["providers", scheme, ...issue.path])}: ${issue.message}`,
              ),
            );
          }
        } catch (error) {
          if (!(error instanceof SecretwrapError)) throw error;
          problems.push(configProblem(configPath, `providers.${scheme}: ${error.message}`));
        }
      }
    }
  }

  if (problems.length > 0)
    throw new SecretsFailedError(problems, `${problems.length} problem(s) in the declarations`);
  return { declarations, envFileValues, providerOptions, allowNames, configPath };
}

function readText(path: string, option: string, problems: Problem[]): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    problems.push(
      configProblem(
        path,
        `cannot read the ${option} file (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      ),
    );
    return undefined;
  }
}

async function parseConfig(path: string, text: string, problems: Problem[]) {
  const [yaml, { validateConfig }] = await Promise.all([import("yaml"), import("./schema.ts")]);
  const { parseDocument } = commonJs(yaml);
  // YAML 1.2 is a superset of JSON, so one parser serves both and always gives line and column.
  // Its messages quote the offending line, which could hold a secret: only position and kind are kept.
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      problems.push(
        configProblem(
          `${path}:${lineAndColumn(text, error.pos[0])}`,
          `not valid YAML or JSON (${error.code})`,
        ),
      );
    }
    return undefined;
  }
  const result = validateConfig(document.toJS());
  if (!result.success) {
    for (const issue of result.issues) {
      const where = formatPath(issue.path);
      problems.push(configProblem(path, `${where === "" ? "(top level)" : where}: ${issue.message}`));
    }
    return undefined;
  }
  return result.data;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return `${line}:${offset - before.lastIndexOf("\n")}`;
}
