// A Key Vault failure → SecretwrapError, by HTTP status and Key Vault's error code (and inner code),
// never its message.
import { type Ref, SecretwrapError } from "../../src/provider-api.ts";
import { headerReader, retryAfterMs } from "../kit/retry-after.ts";
import { causeChain, firstText } from "../kit/cause-chain.ts";
import { isTransientStatus } from "../kit/http-status.ts";
import { isText, transportFailure, type ErrorLike } from "./errors.ts";
import { NAME } from "./options.ts";

export function vaultError(error: unknown, ref: Ref, vaultUrl: string): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  const errors = causeChain(error) as readonly ErrorLike[];
  const [vault, secret, version] = ref.locator.split("/");
  const what = `secret ${secret ?? "?"}${version === undefined ? "" : ` version ${version}`} in vault ${vault ?? "?"}`;
  const first = errors[0];
  const status = typeof first?.statusCode === "number" ? first.statusCode : undefined;
  if (status === undefined) {
    const message = firstText(errors, "message") ?? "";
    if (message.startsWith("The challenge resource")) {
      return new SecretwrapError(
        "AUTH_FAILED",
        `${NAME}: ${vaultUrl} asked for a token for another resource than Key Vault; refusing to send one`,
        {
          hint: `the vault URL must be a Key Vault host (https://<name>.vault.azure.net); for emulators set providers.${NAME}.disableChallengeResourceVerification: true`,
        },
      );
    }
    return (
      transportFailure(
        error,
        errors.some((e) => e.name === "AbortError"),
        `${NAME}: ${what}`,
        vaultUrl,
        true,
      ) ??
      // Retried, unlike the other providers' unknown failures: @azure/keyvault-secrets throws a
      // TypeError of its own for a 5xx without a body, and the status is lost with it.
      new SecretwrapError(
        "FETCH_FAILED",
        `${NAME}: ${what}: unexpected ${isText(first?.name) ? first.name : "error"}`,
        { transient: true },
      )
    );
  }
  const code = typeof first?.code === "string" ? first.code : undefined;
  const inner = innerCode(first?.details);
  const codes = [code, inner].filter(Boolean).join("/");
  const tag = `HTTP ${status}${codes === "" ? "" : ` ${codes}`}`;
  if (status === 404) {
    return new SecretwrapError("SECRET_NOT_FOUND", `${NAME}: ${what} was not found (${tag})`, {
      hint: "check the vault name, secret name and version; a deleted secret must be recovered first",
    });
  }
  if (status === 401) {
    return new SecretwrapError("AUTH_FAILED", `${NAME}: vault ${vault ?? "?"} rejected the token (${tag})`, {
      hint: "the token is for another tenant or audience: set AZURE_TENANT_ID (or auth.tenantId) to the vault's tenant",
    });
  }
  if (status === 403) {
    return new SecretwrapError("ACCESS_DENIED", `${NAME}: reading ${what} was denied (${tag})`, {
      hint:
        inner === "SecretDisabled"
          ? "this secret version is disabled; enable it or reference another version"
          : 'grant the identity the "Key Vault Secrets User" role on the vault or secret (RBAC), or a Get secret permission (access policy); check the vault\'s firewall',
    });
  }
  if (isTransientStatus(status)) {
    const wait = retryAfterMs(headerReader(first?.response?.headers));
    return new SecretwrapError("FETCH_FAILED", `${NAME}: ${what}: Key Vault answered ${tag}`, {
      transient: true,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    });
  }
  return new SecretwrapError("FETCH_FAILED", `${NAME}: ${what}: Key Vault answered ${tag}`);
}

function innerCode(details: unknown): string | undefined {
  const inner = (details as { error?: { innerError?: { code?: unknown } } } | undefined)?.error?.innerError
    ?.code;
  return typeof inner === "string" ? inner : undefined;
}
