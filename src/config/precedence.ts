// Pure: which source gives a variable its value when several name it. ONE rule, strongest first:
//
//   1. a secret (a reference, from the environment, an --env-file or the config file);
//   2. a plain value inherited from the caller's environment;
//   3. a plain value from an --env-file, a later file over an earlier one.
//
// Why secrets first: a placeholder such as Dockerfile `ENV DB_PASSWORD=changeme` must never win over
// the secret the config declares (that would start the app without its secret). Why the environment
// over env-files: dotenv, dotenvx and compose all let the caller's own variables win over a file.
// Why a later file over an earlier one: docker's repeated --env-file does the same.
// Two secrets for one name are not ranked: that is the "declared twice" error of the plan.
//
// Every time a value loses, a warning names the variable and both sources, never a value.
//
// With --pristine the caller's plain variables are not a source for the app at all (only PATH, HOME,
// TERM, LANG and --keep-env names reach it): they neither win nor warn, so an env-file value is not
// dropped in favour of a variable the app will never see.
import { PRISTINE_BASE } from "../output/env.ts";
import { isRef } from "./ref.ts";

export interface PlainValue {
  readonly name: string;
  readonly value: string;
  /** "a.env:3" */
  readonly source: string;
}

export interface SecretSource {
  readonly name: string;
  /** "environment", "a.env:3", "secretwrap.yaml" */
  readonly source: string;
}

export interface Settled {
  /** Env-file values the app receives: only those no stronger source replaced. Null prototype. */
  readonly envFileValues: Record<string, string>;
  /** One sentence per value that lost; names and sources only. */
  readonly warnings: readonly string[];
}

export const ENVIRONMENT = "environment";

/** What of the caller's environment the app keeps (run's --pristine and --keep-env). */
export interface Inheritance {
  readonly pristine?: boolean;
  readonly keepEnv?: readonly string[];
}

export function settleValues(
  env: Readonly<Record<string, string | undefined>>,
  secrets: readonly SecretSource[],
  envFilePlain: readonly PlainValue[],
  inheritance: Inheritance = {},
  /** Whether a value declares a secret: a reference, or (--compat) a peer tool's form. */
  declares: (value: string) => boolean = isRef,
): Settled {
  const warnings: string[] = [];
  const secretSource = new Map<string, string>();
  for (const secret of secrets)
    if (!secretSource.has(secret.name)) secretSource.set(secret.name, secret.source);
  const kept = new Set<string>([...PRISTINE_BASE, ...(inheritance.keepEnv ?? [])]);
  const inheritedPlain = (name: string): string | undefined => {
    if (!Object.hasOwn(env, name)) return undefined;
    if (inheritance.pristine === true && !kept.has(name)) return undefined;
    const value = env[name];
    return value === undefined || declares(value) ? undefined : value;
  };

  for (const secret of secrets) {
    if (secret.source !== ENVIRONMENT && inheritedPlain(secret.name) !== undefined) {
      warnings.push(
        `${secret.name}: the secret declared in ${secret.source} replaces the value inherited from the environment`,
      );
    }
  }

  const chosen = new Map<string, PlainValue>();
  for (const entry of envFilePlain) {
    const secret = secretSource.get(entry.name);
    if (secret !== undefined) {
      warnings.push(
        `${entry.name}: the secret declared in ${place(secret)} replaces the value set in ${entry.source}`,
      );
      continue;
    }
    const inherited = inheritedPlain(entry.name);
    if (inherited !== undefined) {
      if (inherited !== entry.value) {
        warnings.push(
          `${entry.name}: the value inherited from the environment wins over the one set in ${entry.source}`,
        );
      }
      continue;
    }
    const earlier = chosen.get(entry.name);
    if (earlier !== undefined && earlier.value !== entry.value) {
      warnings.push(`${entry.name}: ${entry.source} replaces the value set in ${earlier.source}`);
    }
    chosen.set(entry.name, entry);
  }
  const envFileValues: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, entry] of chosen) envFileValues[name] = entry.value;
  return { envFileValues, warnings };
}

function place(source: string): string {
  return source === ENVIRONMENT ? "the environment" : source;
}
