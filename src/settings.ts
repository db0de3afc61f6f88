// One typed rule for every setting, whether it comes from argv or from its SECRETWRAP_* variable.
//
// Why not commander's own .env(): it treats a boolean variable as "present means on", so
// SECRETWRAP_ALLOW_DISK=false turned disk writes on, and it reads process.env behind the caller's back.
// Here each option carries its value kind, its variable's name is derived from its long flag (so a new
// option cannot lack one), and one parse function per kind serves both sources.
import { Help, InvalidArgumentError, Option, type Command as Program } from "commander";
import { parseDuration } from "./duration.ts";
import { SecretwrapError } from "./errors.ts";
import { quotedOptionValue } from "./printable.ts";

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export interface ValueKind<T> {
  /** Shown in help after the flag: `<duration>`; absent for a boolean flag (it takes no value on argv). */
  readonly placeholder?: string;
  readonly parse: (text: string) => Parsed<T>;
  /** The only values it takes (completion offers them). */
  readonly choices?: readonly string[];
  /** Repeatable: each occurrence on argv adds to the list. */
  readonly repeatable?: boolean;
  /** What a shell may offer as the value (choices are offered anyway; nothing when absent). */
  readonly complete?: Completion;
  /** Words a shell offers for a list's items (listOf), which are not the whole value's choices. */
  readonly offers?: readonly string[];
}

export type Completion = "file" | "user" | "variable";

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const no = (reason: string): Parsed<never> => ({ ok: false, reason });

/** Any case, so `TRUE`, `Yes` and `off` all work; nothing else does, the empty string included. */
export const BOOLEAN: ValueKind<boolean> = {
  parse: (text) => {
    const word = text.toLowerCase();
    if (["true", "1", "yes", "on"].includes(word)) return ok(true);
    if (["false", "0", "no", "off"].includes(word)) return ok(false);
    return no("expected true/false, 1/0, yes/no or on/off");
  },
};

export const DURATION: ValueKind<number> = {
  placeholder: "<duration>",
  parse: (text) => {
    const result = parseDuration(text);
    return result.ok ? ok(result.ms) : no(result.reason);
  },
};

export function count(min: number, max: number): ValueKind<number> {
  return {
    placeholder: "<n>",
    parse: (text) => {
      const n = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
      return n >= min && n <= max ? ok(n) : no(`expected a whole number from ${min} to ${max}`);
    },
  };
}

/** One of a fixed set of words, in any case (as booleans are). */
export function choice<T extends string>(values: readonly T[], placeholder: string): ValueKind<T> {
  return {
    placeholder,
    choices: values,
    parse: (text) => {
      const word = text.toLowerCase();
      const found = values.find((v) => v === word);
      return found === undefined ? no(`expected one of ${values.join(", ")}`) : ok(found);
    },
  };
}

/** Names, comma-separated in one value (a variable gives several at once), repeatable on argv. */
export function list(placeholder: string, complete?: Completion): ValueKind<string[]> {
  return {
    placeholder,
    repeatable: true,
    ...(complete === undefined ? {} : { complete }),
    parse: (text) => {
      const items = text
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== "");
      return items.length === 0 ? no("expected one or more names, comma-separated") : ok(items);
    },
  };
}

/** Names from a fixed set (any case), as list() takes them; a name outside the set is refused, named. */
export function listOf(values: readonly string[], placeholder: string): ValueKind<string[]> {
  const names = list(placeholder);
  // Not `choices`: commander would check the whole comma list against them as one word.
  return {
    ...names,
    offers: values,
    parse: (text) => {
      const parsed = names.parse(text);
      if (!parsed.ok) return parsed;
      const unknown = parsed.value.find((v) => !values.includes(v.toLowerCase()));
      return unknown === undefined
        ? ok(parsed.value.map((v) => v.toLowerCase()))
        : no(`unknown name ${quotedOptionValue(unknown)}; expected one or more of ${values.join(", ")}`);
    },
  };
}

/**
 * Paths, repeatable on argv; each occurrence (and the variable) is ONE path taken as is: a path may
 * hold a comma, so it is never split.
 */
export function paths(placeholder: string): ValueKind<string[]> {
  return {
    placeholder,
    repeatable: true,
    complete: "file",
    parse: (value) => (value === "" ? no("is empty") : ok([value])),
  };
}

/** A path or a word, taken as is; only the empty string is refused. */
export function text(placeholder: string, complete?: Completion): ValueKind<string> {
  return {
    placeholder,
    ...(complete === undefined ? {} : { complete }),
    parse: (value) => (value === "" ? no("is empty") : ok(value)),
  };
}

/** --allow-disk → SECRETWRAP_ALLOW_DISK */
export const variableFor = (long: string): string =>
  `SECRETWRAP_${long.replace(/^--/, "").toUpperCase().replaceAll("-", "_")}`;

/** A commander option that knows its value kind and its variable. */
export class Setting<T = unknown> extends Option {
  readonly kind: ValueKind<T>;
  readonly variable: string;

  constructor(flags: string, description: string, kind: ValueKind<T>) {
    const long = flags.split(/[ ,|]+/).find((f) => f.startsWith("--")) ?? flags;
    const variable = variableFor(long);
    super(kind.placeholder === undefined ? flags : `${flags} ${kind.placeholder}`, description);
    this.kind = kind;
    this.variable = variable;
    if (kind.placeholder !== undefined) {
      this.argParser((value: string, previous: unknown) => {
        const parsed = kind.parse(value);
        if (!parsed.ok) throw new InvalidArgumentError(parsed.reason);
        return kind.repeatable === true && Array.isArray(previous) && Array.isArray(parsed.value)
          ? [...(previous as unknown[]), ...(parsed.value as unknown[])]
          : parsed.value;
      });
    }
    // Help lists the choices; membership is still checked by kind.parse (case-insensitively).
    if (kind.choices !== undefined) this.argChoices = [...kind.choices];
  }

  /** The variable's text as this setting's value, or a usage error that names the variable. */
  fromVariable(value: string): T {
    const parsed = this.kind.parse(value);
    if (parsed.ok) return parsed.value;
    throw new SecretwrapError(
      "USAGE",
      `${this.variable}: ${parsed.reason} (got ${quotedOptionValue(value)}; it sets ${this.long ?? this.flags})`,
      { hint: `fix ${this.variable}, or unset it to use the default` },
    );
  }
}

/**
 * Sets every option of `command` that argv left alone from its variable in `env`. A flag given on
 * the command line wins over its variable outright (a list is replaced, not extended).
 */
export function applyVariables(command: Program, env: Readonly<Record<string, string | undefined>>): void {
  for (const option of command.options) {
    if (!(option instanceof Setting)) continue;
    const key = option.attributeName();
    if (command.getOptionValueSource(key) === "cli") continue;
    const value = Object.hasOwn(env, option.variable) ? env[option.variable] : undefined;
    if (value === undefined) continue;
    command.setOptionValueWithSource(key, option.fromVariable(value), "env");
  }
}

/**
 * Help shows each option's variable beside its default, as commander would for .env() (which is not
 * used: see the top of this file).
 */
export const helpWithVariables = {
  optionDescription(this: Help, option: Option): string {
    const text = Help.prototype.optionDescription.call(this, option);
    if (!(option instanceof Setting)) return text;
    // commander appends its own " (choices: …, default: …)" after the description, or nothing
    const extra = text.slice(option.description.length);
    return extra === ""
      ? `${text} (env: ${option.variable})`
      : `${text.slice(0, -1)}, env: ${option.variable})`;
  },
};

/** Every Setting of a command, e.g. for tests and completion. */
export const settingsOf = (command: Program): Setting[] =>
  command.options.filter((o): o is Setting => o instanceof Setting);
