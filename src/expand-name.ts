// Pure: the names of "every key of a secret". An expanded declaration names a prefix, not a variable
// (config `DB_: { ref, expand: true }`, env-file `DB_*=ref+…`); each top-level key of the fetched
// object becomes one variable: the prefix, then the key upper-cased with every character outside
// [A-Z0-9_] as `_`. With files (config `file: true`, env-file `DB_*_FILE=`), the key's value is a
// file named so and the variable is that name + `_FILE`, as for any `X_FILE` declaration.

/** A declaration of every key of a secret: the prefix of its names, and whether each key is a file. */
export interface Expansion {
  readonly prefix: string;
  readonly files: boolean;
}

const FILE_SUFFIX = "_FILE";
const PREFIX_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME_CHAR = /^[A-Z0-9_]$/;

/** The pattern an expanded declaration is called by in messages and reports: `DB_*` or `DB_*_FILE`. */
export function patternOf(expansion: Expansion): string {
  return `${expansion.prefix}*${expansion.files ? FILE_SUFFIX : ""}`;
}

/** An env-file name with one `*` (`DB_*`, `DB_*_FILE`) as an expansion; undefined for any other name. */
export function parsePattern(name: string): Expansion | undefined {
  const star = name.indexOf("*");
  if (star === -1) return undefined;
  const after = name.slice(star + 1);
  if (after !== "" && after !== FILE_SUFFIX) return undefined;
  return { prefix: name.slice(0, star), files: after === FILE_SUFFIX };
}

/**
 * What is wrong with a prefix, before anything is fetched. An empty prefix is refused: whoever can
 * write the secret would then choose every variable name the app gets (HTTPS_PROXY,
 * NODE_EXTRA_CA_CERTS, …); with a prefix they choose only what follows it.
 */
export function prefixProblems(prefix: string): string[] {
  if (prefix === "")
    return [
      "an expanded secret needs a prefix (DB_* rather than *): without one, whoever writes the secret chooses every variable name the app gets",
    ];
  if (!PREFIX_PATTERN.test(prefix))
    return [
      `the prefix of an expanded secret must be a valid start of a variable name (^[A-Za-z_][A-Za-z0-9_]*$)`,
    ];
  if (prefix.startsWith("SECRETWRAP_"))
    return [`${prefix}*: SECRETWRAP_* names are secretwrap's own settings`];
  return [];
}

/**
 * The part of a name a key gives: upper-cased, then each character (code point) outside [A-Z0-9_]
 * replaced by `_`. Never empty for a non-empty key.
 */
export function nameOfKey(key: string): string {
  let suffix = "";
  for (const char of key.toUpperCase()) suffix += NAME_CHAR.test(char) ? char : "_";
  return suffix;
}

/** What one key of an expanded secret becomes: its variable, and with files the file's name. */
export function expandedTarget(expansion: Expansion, key: string): { name: string; fileName?: string } {
  const base = expansion.prefix + nameOfKey(key);
  return expansion.files ? { name: base + FILE_SUFFIX, fileName: base } : { name: base };
}
