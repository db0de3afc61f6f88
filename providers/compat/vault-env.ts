// vault-env (bank-vaults; the injector in bank-vaults/vault-sdk, injector/vault/injector.go): a whole
// value `vault:PATH#KEY[#VERSION]` reads the Vault API path PATH as it is (a KV v2 path includes its
// data/ segment: vault:secret/data/app#password), takes KEY of its data (a KV v2 answer's data.data)
// and sends VERSION as ?version=. `>>vault:PATH#KEY[#JSON]` WRITES the JSON body to PATH and takes
// KEY of the answer (ref+vault://PATH?write=JSON, providers/vault/write.ts); `${vault:…}` inside a longer value is interpolated; `vault:v1:…` is Transit
// ciphertext; VAULT_TOKEN=vault:login hands vault-env's own token to the app.
import type { PeerForms, PeerReading } from "../../src/provider-api.ts";
import { problem } from "./reading.ts";

const DOCS = "https://bank-vaults.dev/docs/mutating-webhook/";
const READ = "vault:";
const WRITE = ">>vault:";
const INLINE = /\$\{>{0,2}vault:/;
const TRANSIT = /^vault:v[0-9]+:/;
const TEMPLATE_START = "${";
const POSITIVE_INT = /^[1-9][0-9]{0,9}$/;
/** Path segments: no ? (it would start parameters), no % (read as is), no spaces or control characters. */
const PATH = /^[^\s?#%]+$/;
const WRITE_HINT =
  'vault-env\'s write form is >>vault:PATH#KEY[#BODY], BODY a JSON object, e.g. >>vault:PKI/issue/ROLE#KEY#{"common_name":"NAME"}';
const FORM_HINT =
  "vault-env's form is vault:PATH#KEY[#VERSION], with the Vault API path (KV v2: MOUNT/data/PATH)";

export const vaultEnv: PeerForms = {
  tool: "vault-env",
  docs: DOCS,
  read(value) {
    if (INLINE.test(value)) {
      return problem(
        "it uses vault-env's ${vault:…} interpolation inside a value, and only a whole value is a reference",
        "declare the secret as its own variable (vault:PATH#KEY), or build the text with a config template",
      );
    }
    if (value.startsWith(WRITE)) return write(value.slice(WRITE.length));
    if (!value.startsWith(READ)) return undefined;
    if (TRANSIT.test(value)) {
      return problem(
        "it is Vault Transit ciphertext (vault:vN:…), which secretwrap does not decrypt",
        "store the plaintext in a KV secret and reference it with vault:PATH#KEY",
      );
    }
    return read(value.slice(READ.length));
  },
};

/**
 * `>>vault:PATH#KEY[#BODY]`: vault-env splits at the first two #s (the body may hold more), writes BODY
 * (a JSON object; {} when absent) to PATH and takes KEY of the answer. The body goes into the
 * reference as ?write=, so declarations with the same path and body share one write (fetchKey).
 */
function write(text: string): PeerReading {
  const hash = text.indexOf("#");
  if (hash === -1) return problem("it has no #KEY after the path", WRITE_HINT);
  const path = text.slice(0, hash);
  const afterKey = text.slice(hash + 1);
  const bodyAt = afterKey.indexOf("#");
  const key = bodyAt === -1 ? afterKey : afterKey.slice(0, bodyAt);
  const bodyText = bodyAt === -1 ? "{}" : afterKey.slice(bodyAt + 1);
  if (!PATH.test(path))
    return problem("the path is empty or has a character a Vault path cannot have", WRITE_HINT);
  if (key === "") return problem("the #KEY is empty", WRITE_HINT);
  const keyProblem = templateKey(key);
  if (keyProblem !== undefined) return keyProblem;
  const body = jsonObject(bodyText);
  if (body === undefined)
    return problem("the body after the second # is not a JSON object (not shown)", WRITE_HINT);
  return { ref: `ref+vault://${path}?write=${encodeURIComponent(body)}#${field(key)}` };
}

/**
 * The body as written when it is one JSON object, else undefined. Kept as written (not re-serialized),
 * as vault-env keys its cache by the text: the same text is the same write. JSON.parse only judges it
 * (the compat forms are loaded with the core, before src/json.ts could be reached from here).
 */
function jsonObject(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  return text;
}

function templateKey(key: string): PeerReading | undefined {
  if (key.includes(TEMPLATE_START) && key.includes("}")) {
    return problem(
      "its key is a vault-env template (${…}), which secretwrap does not evaluate",
      "declare each key as its own variable, or build the text with a config template",
    );
  }
  return undefined;
}

function read(text: string): PeerReading {
  if (text === "login") {
    return problem(
      "it is vault-env's vault:login, which hands the login token to the app, and secretwrap never passes on its credentials",
      "give the app its own Vault credentials if it talks to Vault itself",
    );
  }
  const hash = text.indexOf("#");
  if (hash === -1) return problem("it has no #KEY after the path", FORM_HINT);
  const path = text.slice(0, hash);
  const afterKey = text.slice(hash + 1);
  const versionAt = afterKey.indexOf("#");
  const key = versionAt === -1 ? afterKey : afterKey.slice(0, versionAt);
  const version = versionAt === -1 ? undefined : afterKey.slice(versionAt + 1);
  if (!PATH.test(path))
    return problem("the path is empty or has a character a Vault path cannot have", FORM_HINT);
  if (key === "") return problem("the #KEY is empty", FORM_HINT);
  const keyProblem = templateKey(key);
  if (keyProblem !== undefined) return keyProblem;
  if (version !== undefined && !POSITIVE_INT.test(version)) {
    return problem("the version after the second # is not a positive whole number", FORM_HINT);
  }
  // api_path: the locator is Vault's API path, data/ included on KV v2 (providers/vault).
  const params = ["api_path=true", ...(version === undefined ? [] : [`version=${version}`])];
  return { ref: `ref+vault://${path}?${params.join("&")}#${field(key)}` };
}

/** vault-env's KEY is one key of the data, whatever it contains: a JSON pointer when it starts with /. */
function field(key: string): string {
  return key.startsWith("/") ? `/${key.replaceAll("~", "~0").replaceAll("/", "~1")}` : key;
}
