// Application Default Credentials, from the environment secretwrap started with: which source applies
// (credentials file, gcloud's ADC file, metadata server), reading and checking a credentials file, and
// which of the metadata server's variables gcp-metadata is to see.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { checkEndpoint } from "../kit/endpoint.ts";
import { type ProviderContext, SecretwrapError, parseJson } from "../../src/provider-api.ts";
import { refuseIfNotRegularFile } from "../kit/credential-file.ts";
import { isSet, nonEmpty, type Env } from "../kit/env-values.ts";
import { NAME, type GcpOptions } from "./options.ts";

/** A credentials file is a few KiB; anything much larger is not one. */
const MAX_CREDENTIALS_BYTES = 256 * 1024;

export type CredentialSource =
  | { readonly kind: "file"; readonly path: string; readonly from: string }
  | { readonly kind: "metadata"; readonly explicitHost: boolean };

/** Application Default Credentials order, from the given environment only. */
export function credentialSource(options: GcpOptions, env: Env): CredentialSource {
  if (options.credentialsFile !== undefined)
    return { kind: "file", path: options.credentialsFile, from: "credentialsFile" };
  const fromEnv = nonEmpty(env["GOOGLE_APPLICATION_CREDENTIALS"]);
  if (fromEnv !== undefined) return { kind: "file", path: fromEnv, from: "GOOGLE_APPLICATION_CREDENTIALS" };
  const gcloudDir =
    env["CLOUDSDK_CONFIG"] ??
    (env["HOME"] === undefined ? undefined : join(env["HOME"], ".config", "gcloud"));
  if (gcloudDir !== undefined) {
    const adc = join(gcloudDir, "application_default_credentials.json");
    if (existsSync(adc)) return { kind: "file", path: adc, from: "gcloud application-default credentials" };
  }
  const explicitHost = [env["GCE_METADATA_HOST"], env["GCE_METADATA_IP"]].some(isSet);
  return { kind: "metadata", explicitHost };
}

const CREDENTIAL_TYPES = new Set([
  "service_account",
  "authorized_user",
  "external_account",
  "external_account_authorized_user",
  "impersonated_service_account",
]);
/** Fields of a credentials file that are themselves credentials: masked in every output. */
const SECRET_FIELDS = ["private_key", "refresh_token", "client_secret"] as const;
/** Fields of a credentials file that say where it sends tokens or subject tokens. */
const URL_FIELDS = ["token_url", "service_account_impersonation_url", "token_info_url"] as const;

export function readCredentials(
  path: string,
  from: string,
  options: GcpOptions,
  ctx: ProviderContext,
): Record<string, unknown> {
  const bad = (why: string): SecretwrapError =>
    new SecretwrapError("CONFIG_INVALID", `${NAME}: credentials file ${path} (from ${from}) ${why}`, {
      subject: { provider: NAME },
      hint: "point GOOGLE_APPLICATION_CREDENTIALS at a service account key, workload identity federation config or `gcloud auth application-default login` file",
    });
  refuseIfNotRegularFile(path, NAME, `credentials file (from ${from})`);
  let text: string;
  try {
    if (statSync(path).size > MAX_CREDENTIALS_BYTES) throw bad("is too large to be a credentials file");
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof SecretwrapError) throw error;
    throw bad(`cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let json: unknown;
  try {
    json = parseJson(text);
  } catch {
    throw bad("is not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad("is not a JSON object");
  const record = json as Record<string, unknown>;
  for (const field of SECRET_FIELDS) {
    const value = record[field];
    if (typeof value === "string" && value !== "") ctx.addSecret(value);
  }
  const type = record["type"];
  if (typeof type !== "string" || !CREDENTIAL_TYPES.has(type)) {
    throw bad(`has an unsupported "type" (supported: ${[...CREDENTIAL_TYPES].join(", ")})`);
  }
  // A token exchange sends a subject token: never over plain http to another host.
  for (const field of URL_FIELDS) {
    const url = record[field];
    if (typeof url === "string") checkEndpoint(url, NAME, options.allowHttp ?? false);
  }
  return record;
}

/** gcp-metadata reads these from process.env on every call and takes no option for them. */
const METADATA_VARIABLES = ["GCE_METADATA_HOST", "GCE_METADATA_IP", "METADATA_SERVER_DETECTION"] as const;

/** The metadata server's variables as the run's environment has them (undefined: unset). */
export function metadataVariables(env: Env): Record<string, string | undefined> {
  return Object.fromEntries(METADATA_VARIABLES.map((name) => [name, env[name]]));
}
