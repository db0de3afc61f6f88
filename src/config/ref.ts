// The reference grammar: ref+<scheme>://<locator>[?<params>][#<field>]. Pure: no I/O.
// Only a whole value is a reference, and anything that starts with "ref+" must parse: a typo never
// falls through as a literal value handed to the app. Each scheme's locator grammar and parameters
// are its provider's (ProviderDescriptor.locator).
import { SecretwrapError } from "../errors.ts";
import { printable } from "../printable.ts";
import { descriptorOf, isScheme, SCHEMES, type Scheme } from "../provider.ts";

export interface Ref {
  readonly raw: string;
  readonly scheme: Scheme;
  readonly locator: string;
  readonly params: Readonly<Record<string, string>>;
  /** A top-level key ("password") or a JSON pointer ("/db/password"). */
  readonly field?: string;
}

export const REF_PREFIX = "ref+";

export function isRef(value: string): boolean {
  return value.startsWith(REF_PREFIX);
}

/** Parses a reference or throws REF_INVALID / PROVIDER_UNKNOWN naming what is wrong (never a value). */
export function parseRef(raw: string): Ref {
  const fail = (why: string, code: "REF_INVALID" | "PROVIDER_UNKNOWN" = "REF_INVALID"): never => {
    throw new SecretwrapError(code, `invalid reference ${describeRef(raw)}: ${why}`, {
      subject: { ref: describeRef(raw) },
      ...(code === "PROVIDER_UNKNOWN"
        ? { hint: `use one of the supported schemes: ${SCHEMES.join(", ")}` }
        : {}),
    });
  };
  if (!isRef(raw)) fail("it must start with ref+");
  const schemeEnd = raw.indexOf("://");
  if (schemeEnd === -1) fail("expected ref+<scheme>://…");
  const scheme = raw.slice(REF_PREFIX.length, schemeEnd);
  if (!isScheme(scheme)) {
    return fail(`unknown scheme "${scheme}"; supported: ${SCHEMES.join(", ")}`, "PROVIDER_UNKNOWN");
  }
  let rest = raw.slice(schemeEnd + 3);
  let field: string | undefined;
  const hash = rest.indexOf("#");
  if (hash !== -1) {
    field = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
    if (field === "" || field === "/") fail("the #field after # is empty");
  }
  let query = "";
  const question = rest.indexOf("?");
  if (question !== -1) {
    query = rest.slice(question + 1);
    rest = rest.slice(0, question);
  }
  const locator = rest;
  if (locator === "") fail("the locator after :// is empty");
  const grammar = descriptorOf(scheme).locator;
  const params = parseParams(query, grammar.params, fail);
  const problem = grammar.check(locator, params, field);
  if (problem !== undefined) fail(problem);
  return field === undefined ? { raw, scheme, locator, params } : { raw, scheme, locator, params, field };
}

function parseParams(
  query: string,
  allowed: readonly string[],
  fail: (why: string) => never,
): Record<string, string> {
  // Parameter names are user input: a null-prototype map, so `constructor` or `__proto__` is a name.
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  if (query === "") return params;
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? "" : decodeParam(part.slice(eq + 1), fail);
    if (!allowed.includes(key)) {
      fail(
        allowed.length === 0
          ? `no parameters are accepted (got "${key}")`
          : `unknown parameter "${key}"; accepted: ${allowed.join(", ")}`,
      );
    }
    if (value === "") fail(`parameter "${key}" is empty`);
    if (Object.hasOwn(params, key)) fail(`parameter "${key}" is given twice`);
    params[key] = value;
  }
  return params;
}

function decodeParam(value: string, fail: (why: string) => never): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return fail("a parameter has a broken %-escape");
  }
}

/**
 * The identity of one fetch: same secret, same version, whatever the field; unless the scheme's field
 * changes what is read (LocatorGrammar.read), which is then named after it.
 */
export function fetchKey(ref: Ref): string {
  const params = Object.entries(ref.params)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const read = descriptorOf(ref.scheme).locator.read?.(ref.params, ref.field);
  return `${ref.scheme}://${ref.locator}${params === "" ? "" : `?${params}`}${read === undefined ? "" : ` (${read})`}`;
}

/** A reference as it may be printed: references are not secret, but keep them one short line (printable.ts). */
export function describeRef(raw: string): string {
  return printable(raw);
}
