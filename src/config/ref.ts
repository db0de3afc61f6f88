// The reference grammar: ref+<scheme>://<locator>[?<params>][#<field>]. Pure: no I/O.
// Only a whole value is a reference, and anything that starts with "ref+" must parse: a typo never
// falls through as a literal value handed to the app.
import { SecretwrapError } from "../errors.ts";
import { printable } from "../printable.ts";
import { isScheme, SCHEMES, type Scheme } from "../provider.ts";

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

type LocatorCheck = (locator: string, params: Readonly<Record<string, string>>) => string | undefined;

interface SchemeRules {
  readonly params: readonly string[];
  readonly check: LocatorCheck;
}

const POSITIVE_INT = /^[1-9][0-9]{0,9}$/;
const AWS_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const AWS_ARN =
  /^arn:aws(-[a-z]+)*:secretsmanager:([a-z]{2}(-[a-z]+)+-[0-9]+):[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]+$/;
const AWS_VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;
const AWS_STAGE = /^[A-Za-z0-9_-]{1,256}$/;
const GCP_PROJECT = /^([a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20})$/;
const GCP_SECRET = /^[A-Za-z0-9_-]{1,255}$/;
const GCP_LOCATION = /^[a-z]+-[a-z]+[0-9]+$/;
const AZURE_VAULT = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;
const AZURE_SECRET = /^[0-9A-Za-z-]{1,127}$/;
const AZURE_VERSION = /^[0-9a-fA-F]{32}$/;
const VAULT_SEGMENT = /^[^/\s?#]+$/;

const RULES: Record<Scheme, SchemeRules> = {
  vault: {
    params: ["version"],
    check(locator, params) {
      const segments = locator.split("/");
      if (segments.length < 2 || !segments.every((s) => VAULT_SEGMENT.test(s))) {
        return "a Vault locator is <mount>/<path> with no empty segment, e.g. secret/myapp/db";
      }
      if (segments.some((s) => s === "." || s === "..")) return "a Vault path may not contain . or ..";
      if (params["version"] !== undefined && !POSITIVE_INT.test(params["version"])) {
        return "version must be a positive whole number (KV v2)";
      }
      return undefined;
    },
  },
  awssecrets: {
    params: ["version_id", "version_stage", "region"],
    check(locator, params) {
      if (locator.startsWith("arn:")) {
        const match = AWS_ARN.exec(locator);
        if (match === null)
          return "not a Secrets Manager ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)";
        const region = params["region"];
        if (region !== undefined && region !== match[2]) return "region does not match the ARN's region";
      } else if (!AWS_NAME.test(locator)) {
        return "a secret name is 1-512 of A-Z a-z 0-9 / _ + = . @ -";
      }
      if (params["region"] !== undefined && !AWS_REGION.test(params["region"]))
        return "region is not an AWS region";
      if (params["version_id"] !== undefined && !AWS_VERSION_ID.test(params["version_id"])) {
        return "version_id is not a Secrets Manager version id";
      }
      if (params["version_stage"] !== undefined && !AWS_STAGE.test(params["version_stage"])) {
        return "version_stage is not a valid staging label";
      }
      return undefined;
    },
  },
  gcpsecrets: {
    params: ["version", "location"],
    check(locator, params) {
      const [project, secret, ...rest] = locator.split("/");
      if (project === undefined || secret === undefined || rest.length > 0) {
        return "a GCP locator is <project>/<secret>";
      }
      if (!GCP_PROJECT.test(project)) return "not a GCP project id or number";
      if (!GCP_SECRET.test(secret)) return "a secret id is 1-255 of A-Z a-z 0-9 _ -";
      const version = params["version"];
      if (version !== undefined && version !== "latest" && !POSITIVE_INT.test(version)) {
        return "version must be `latest` or a positive whole number";
      }
      if (params["location"] !== undefined && !GCP_LOCATION.test(params["location"])) {
        return "location is not a GCP region (e.g. europe-west1)";
      }
      return undefined;
    },
  },
  azurekeyvault: {
    params: [],
    check(locator) {
      const [vault, secret, version, ...rest] = locator.split("/");
      if (vault === undefined || secret === undefined || rest.length > 0) {
        return "an Azure locator is <vault-name>/<secret>[/<version>]";
      }
      if (!AZURE_VAULT.test(vault))
        return "a vault name is 3-24 letters, digits and single hyphens, starting with a letter";
      if (!AZURE_SECRET.test(secret)) return "a secret name is 1-127 letters, digits and hyphens";
      if (version !== undefined && !AZURE_VERSION.test(version))
        return "a version is 32 hexadecimal characters";
      return undefined;
    },
  },
  file: {
    params: [],
    check(locator) {
      if (locator.includes("\0")) return "a path may not contain NUL";
      return undefined;
    },
  },
};

/** Parses a reference or throws REF_INVALID / PROVIDER_UNKNOWN naming what is wrong (never a value). */
export function parseRef(raw: string): Ref {
  const fail = (why: string, code: "REF_INVALID" | "PROVIDER_UNKNOWN" = "REF_INVALID"): never => {
    throw new SecretwrapError(code, `invalid reference ${describeRef(raw)}: ${why}`, {
      subject: { ref: describeRef(raw) },
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
  const rules = RULES[scheme];
  const params = parseParams(query, rules.params, fail);
  const problem = rules.check(locator, params);
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

/** The identity of one fetch: same secret, same version, whatever the field. */
export function fetchKey(ref: Ref): string {
  const params = Object.entries(ref.params)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  return `${ref.scheme}://${ref.locator}${params === "" ? "" : `?${params}`}`;
}

/** A reference as it may be printed: references are not secret, but keep them one short line (printable.ts). */
export function describeRef(raw: string): string {
  return printable(raw);
}
