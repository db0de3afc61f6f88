// Settings: the providers.vault block wins over Vault's own variables (VAULT_ADDR, VAULT_CACERT,
// VAULT_NAMESPACE, VAULT_TOKEN, VAULT_ROLE_ID, …). Credentials are described here (where they come
// from), never read: credentials.ts reads them at each login.
import { checkEndpoint } from "../kit/endpoint.ts";
import { nonEmpty, type Env } from "../kit/env-values.ts";
import { trustExtraCa, type ExtraCa } from "../kit/extra-ca.ts";
import { SecretwrapError } from "../../src/provider-api.ts";
import { AUTH_METHODS, K8S_TOKEN_FILE, PROVIDER, type AuthMethod, type Options } from "./options.ts";

export type Source =
  | { readonly kind: "value"; readonly value: string; readonly env?: string }
  | { readonly kind: "file"; readonly path: string };
export type SecretIdSource = Source | { readonly kind: "wrapped"; readonly path: string };

export type AuthSettings =
  | { readonly method: "token"; readonly token: Source }
  | {
      readonly method: "approle";
      readonly mount: string;
      readonly role?: string;
      readonly roleId: Source;
      readonly secretId?: SecretIdSource;
    }
  | {
      readonly method: "kubernetes" | "jwt";
      readonly mount: string;
      readonly role: string;
      readonly jwt: Source;
    };

export interface Settings {
  readonly url: URL;
  readonly namespace?: string;
  readonly ca?: ExtraCa;
  readonly revokeToken: boolean;
  readonly auth: AuthSettings;
}

export function configError(message: string, hint?: string): SecretwrapError {
  return new SecretwrapError("CONFIG_INVALID", `vault: ${message}`, {
    subject: { provider: PROVIDER },
    ...(hint === undefined ? {} : { hint }),
  });
}

function fromValue(value: string | undefined, env?: string): Source | undefined {
  if (value === undefined) return undefined;
  return env === undefined ? { kind: "value", value } : { kind: "value", value, env };
}

function fromFile(path: string | undefined): Source | undefined {
  return path === undefined ? undefined : { kind: "file", path };
}

export function settingsFrom(options: Options, env: Env): Settings {
  if (options.address !== undefined && options.endpoint !== undefined) {
    throw configError("set either address or endpoint, not both (they are the same setting)");
  }
  const address = options.address ?? options.endpoint ?? nonEmpty(env["VAULT_ADDR"]);
  if (address === undefined) {
    throw configError(
      "no Vault address",
      "set VAULT_ADDR or `address` in the providers.vault block, e.g. https://vault.example.com:8200",
    );
  }
  const url = checkEndpoint(address, PROVIDER, options.allowHttp ?? false);
  const caFile = options.caFile ?? nonEmpty(env["VAULT_CACERT"]);
  const namespace = options.namespace ?? nonEmpty(env["VAULT_NAMESPACE"]);
  const ca = trustExtraCa(caFile, PROVIDER);
  return {
    url,
    ...(namespace === undefined ? {} : { namespace }),
    ...(ca === undefined ? {} : { ca }),
    revokeToken: options.revokeToken ?? false,
    auth: authFrom(options.auth ?? {}, env),
  };
}

function authFrom(auth: NonNullable<Options["auth"]>, env: Env): AuthSettings {
  const token =
    fromFile(auth.tokenFile) ??
    fromValue(nonEmpty(env["VAULT_TOKEN"]), "VAULT_TOKEN") ??
    fromFile(nonEmpty(env["VAULT_TOKEN_FILE"]));
  const roleId =
    fromValue(auth.roleId) ??
    fromFile(auth.roleIdFile) ??
    fromValue(nonEmpty(env["VAULT_ROLE_ID"]), "VAULT_ROLE_ID") ??
    fromFile(nonEmpty(env["VAULT_ROLE_ID_FILE"]));
  const method = auth.method ?? methodFromEnv(env) ?? inferMethod(token !== undefined, roleId !== undefined);
  const mount = auth.mount ?? nonEmpty(env["VAULT_AUTH_MOUNT"]) ?? method;
  const role = auth.role ?? nonEmpty(env["VAULT_ROLE"]);
  switch (method) {
    case "token":
      if (token === undefined)
        throw configError("token auth needs a token", "set VAULT_TOKEN, VAULT_TOKEN_FILE or auth.tokenFile");
      return { method, token };
    case "approle": {
      if (roleId === undefined)
        throw configError(
          "AppRole auth needs a role_id",
          "set VAULT_ROLE_ID, VAULT_ROLE_ID_FILE, auth.roleId or auth.roleIdFile",
        );
      const wrapped = auth.wrappedSecretIdFile ?? nonEmpty(env["VAULT_WRAPPED_SECRET_ID_FILE"]);
      const secretId: SecretIdSource | undefined =
        fromValue(auth.secretId) ??
        fromFile(auth.secretIdFile) ??
        (auth.wrappedSecretIdFile === undefined
          ? undefined
          : { kind: "wrapped", path: auth.wrappedSecretIdFile }) ??
        fromValue(nonEmpty(env["VAULT_SECRET_ID"]), "VAULT_SECRET_ID") ??
        fromFile(nonEmpty(env["VAULT_SECRET_ID_FILE"])) ??
        (wrapped === undefined ? undefined : { kind: "wrapped", path: wrapped });
      return {
        method,
        mount,
        roleId,
        ...(role === undefined ? {} : { role }),
        ...(secretId === undefined ? {} : { secretId }),
      };
    }
    case "kubernetes":
    case "jwt": {
      if (role === undefined)
        throw configError(
          `${method} auth needs a role`,
          "set auth.role in the providers.vault block or VAULT_ROLE",
        );
      const jwt =
        fromFile(auth.jwtFile) ??
        (method === "jwt" ? fromValue(nonEmpty(env["VAULT_JWT"]), "VAULT_JWT") : undefined) ??
        fromFile(nonEmpty(env["VAULT_JWT_FILE"])) ??
        (method === "kubernetes" ? fromFile(K8S_TOKEN_FILE) : undefined);
      if (jwt === undefined)
        throw configError("jwt auth needs a JWT", "set auth.jwtFile, VAULT_JWT_FILE or VAULT_JWT");
      return { method, mount, role, jwt };
    }
  }
}

function methodFromEnv(env: Env): AuthMethod | undefined {
  const value = nonEmpty(env["VAULT_AUTH_METHOD"]);
  if (value === undefined) return undefined;
  if (!(AUTH_METHODS as readonly string[]).includes(value)) {
    throw configError(`VAULT_AUTH_METHOD="${value.slice(0, 40)}" is not one of ${AUTH_METHODS.join(", ")}`);
  }
  return value as AuthMethod;
}

function inferMethod(hasToken: boolean, hasRoleId: boolean): AuthMethod {
  if (hasToken && hasRoleId) {
    throw configError(
      "both a token and an AppRole role_id are set",
      "choose with VAULT_AUTH_METHOD=token|approle or auth.method",
    );
  }
  if (hasToken) return "token";
  if (hasRoleId) return "approle";
  throw configError(
    "no Vault credentials",
    "set VAULT_TOKEN, or VAULT_ROLE_ID + VAULT_SECRET_ID, or auth.method kubernetes/jwt with auth.role (see docs/providers/vault.md)",
  );
}

/** Environment variables this login consumed: removed from the app's environment. */
export function consumedVariables(auth: AuthSettings): string[] {
  const sources: (Source | SecretIdSource | undefined)[] =
    auth.method === "token"
      ? [auth.token]
      : auth.method === "approle"
        ? [auth.roleId, auth.secretId]
        : [auth.jwt];
  return sources.flatMap((s) => (s?.kind === "value" && s.env !== undefined ? [s.env] : []));
}
