// Which credential to use: auth.method, else AZURE_TOKEN_CREDENTIALS, else production sources only.
import type { Env } from "../kit/env-values.ts";
import type { AuthOptions, ChosenMethod } from "./options.ts";

/** AZURE_TOKEN_CREDENTIALS is the Azure SDKs' own switch; only its production value maps to "auto". */
const TOKEN_CREDENTIALS: Readonly<Record<string, ChosenMethod | "auto">> = {
  prod: "auto",
  WorkloadIdentityCredential: "workloadIdentity",
  ManagedIdentityCredential: "managedIdentity",
  AzureCliCredential: "azureCli",
};

export function chooseMethod(auth: AuthOptions, env: Env): ChosenMethod {
  const fromEnv = env["AZURE_TOKEN_CREDENTIALS"]?.trim();
  const asked = auth.method ?? (fromEnv ? (TOKEN_CREDENTIALS[fromEnv] ?? "default") : "auto");
  if (asked !== "auto") return asked;
  // Production sources only, in DefaultAzureCredential's order: environment (client secret),
  // workload identity, managed identity.
  if ((auth.clientSecretFile ?? env["AZURE_CLIENT_SECRET"]) !== undefined) return "clientSecret";
  if ((auth.tokenFile ?? env["AZURE_FEDERATED_TOKEN_FILE"]) !== undefined) return "workloadIdentity";
  return "managedIdentity";
}
