// Building the chosen credential from auth options and AZURE_* variables: what each method needs,
// which credentials are masked in the output, which variables are consumed.
import { readFileSync } from "node:fs";
import type { TokenCredential } from "@azure/identity";
import { checkEndpoint } from "../kit/endpoint.ts";
import { type ProviderContext, SecretwrapError } from "../../src/provider-api.ts";
import { refuseIfNotRegularFile } from "../kit/credential-file.ts";
import { isSet } from "../kit/env-values.ts";
import { NAME, type AuthOptions, type ChosenMethod } from "./options.ts";
import { abortWithTokenRequest } from "./token-abort.ts";
import { observeTokenTraffic, observingHttpClient, type TokenTraffic } from "./token-traffic.ts";

interface Built {
  /** A fresh credential (and MSAL client) each call; see SharedCredential (shared-credential.ts) for why. */
  readonly create: () => TokenCredential;
  readonly consumedEnv: readonly string[];
  /**
   * Set when the token a challenge will ask for is known before the challenge: the credential's own
   * tenant (managed identity: the platform's). Not for azureCli and default, whose tenant may come
   * from the challenge alone.
   */
  readonly early?: { readonly tenantId?: string };
}

type Identity = typeof import("@azure/identity");

export function buildCredential(
  identity: Identity,
  method: ChosenMethod,
  auth: AuthOptions,
  ctx: ProviderContext,
  tlsOptions: object,
  traffic: TokenTraffic,
): Built {
  const env = ctx.env;
  const authorityHost = auth.authorityHost ?? env["AZURE_AUTHORITY_HOST"];
  if (authorityHost !== undefined) checkEndpoint(authorityHost, NAME);
  const common = {
    // One attempt per call: src/retry.ts is the retry layer.
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [
      { policy: observeTokenTraffic(traffic), position: "perCall" as const },
      { policy: abortWithTokenRequest(traffic), position: "perCall" as const },
    ],
    ...tlsOptions,
    ...(authorityHost === undefined ? {} : { authorityHost }),
    ...(auth.disableInstanceDiscovery === undefined
      ? {}
      : { disableInstanceDiscovery: auth.disableInstanceDiscovery }),
    ...(auth.additionallyAllowedTenants === undefined
      ? {}
      : { additionallyAllowedTenants: auth.additionallyAllowedTenants }),
  };
  const tenantId = auth.tenantId ?? env["AZURE_TENANT_ID"];
  const clientId = auth.clientId ?? env["AZURE_CLIENT_ID"];
  const need = (values: Record<string, string | undefined>, how: string): Record<string, string> => {
    const missing = Object.entries(values)
      .filter(([, v]) => v === undefined || v === "")
      .map(([k]) => k);
    if (missing.length > 0) {
      throw new SecretwrapError("CONFIG_INVALID", `${NAME}: ${method} needs ${missing.join(", ")}`, {
        subject: { provider: NAME },
        hint: how,
      });
    }
    return values as Record<string, string>;
  };
  switch (method) {
    case "workloadIdentity": {
      const v = need(
        {
          AZURE_TENANT_ID: tenantId,
          AZURE_CLIENT_ID: clientId,
          AZURE_FEDERATED_TOKEN_FILE: auth.tokenFile ?? env["AZURE_FEDERATED_TOKEN_FILE"],
        },
        'on AKS, label the pod azure.workload.identity/use: "true" and give its service account the azure.workload.identity/client-id annotation (or set auth.tenantId / auth.clientId / auth.tokenFile)',
      );
      const tokenFilePath = v["AZURE_FEDERATED_TOKEN_FILE"] as string;
      ctx.addSecret(readCredentialFile(tokenFilePath, "the federated token file"));
      return {
        create: () =>
          new identity.WorkloadIdentityCredential({
            ...common,
            tenantId: v["AZURE_TENANT_ID"] as string,
            clientId: v["AZURE_CLIENT_ID"] as string,
            tokenFilePath,
          }),
        consumedEnv: [],
        early: { tenantId: v["AZURE_TENANT_ID"] as string },
      };
    }
    case "clientSecret": {
      const fromFile = auth.clientSecretFile;
      const secret =
        fromFile === undefined
          ? env["AZURE_CLIENT_SECRET"]
          : readCredentialFile(fromFile, "the client secret file").trim();
      const v = need(
        { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: clientId, AZURE_CLIENT_SECRET: secret },
        "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or auth.clientSecretFile)",
      );
      ctx.addSecret(v["AZURE_CLIENT_SECRET"] as string);
      return {
        create: () =>
          new identity.ClientSecretCredential(
            v["AZURE_TENANT_ID"] as string,
            v["AZURE_CLIENT_ID"] as string,
            v["AZURE_CLIENT_SECRET"] as string,
            common,
          ),
        consumedEnv: fromFile === undefined ? ["AZURE_CLIENT_SECRET"] : [],
        early: { tenantId: v["AZURE_TENANT_ID"] as string },
      };
    }
    case "managedIdentity": {
      // msal-node reads IDENTITY_ENDPOINT / IDENTITY_HEADER / IMDS settings from the process
      // environment itself; the header is a credential, so it is masked here.
      maskIfSet(ctx, ["IDENTITY_HEADER", "MSI_SECRET"]);
      const user =
        auth.resourceId !== undefined
          ? { resourceId: auth.resourceId }
          : clientId === undefined
            ? {}
            : { clientId };
      return {
        // Not `common`: this credential drops additionalPolicies, so the observation is its HTTP client.
        create: () =>
          new identity.ManagedIdentityCredential({
            ...user,
            retryOptions: { maxRetries: 0 },
            httpClient: observingHttpClient(traffic),
            ...tlsOptions,
          }),
        consumedEnv: [],
        early: {},
      };
    }
    case "azureCli":
      return {
        create: () =>
          new identity.AzureCliCredential({
            processTimeoutInMs: ctx.attemptTimeoutMs,
            ...(tenantId === undefined ? {} : { tenantId }),
            ...(auth.additionallyAllowedTenants === undefined
              ? {}
              : { additionallyAllowedTenants: auth.additionallyAllowedTenants }),
          }),
        consumedEnv: [],
      };
    case "default": {
      maskIfSet(ctx, ["AZURE_CLIENT_SECRET", "IDENTITY_HEADER", "MSI_SECRET"]);
      const tokenFile = env["AZURE_FEDERATED_TOKEN_FILE"];
      if (tokenFile !== undefined) ctx.addSecret(readCredentialFile(tokenFile, "the federated token file"));
      // EnvironmentCredential opens the certificate itself: a FIFO would block its read.
      const certificate = env["AZURE_CLIENT_CERTIFICATE_PATH"];
      if (isSet(certificate)) {
        refuseIfNotRegularFile(certificate, NAME, "the client certificate file");
      }
      return {
        create: () =>
          new identity.DefaultAzureCredential({
            ...common,
            processTimeoutInMs: ctx.attemptTimeoutMs,
            ...(auth.tenantId === undefined ? {} : { tenantId: auth.tenantId }),
            ...(auth.resourceId !== undefined
              ? { managedIdentityResourceId: auth.resourceId }
              : auth.clientId === undefined
                ? {}
                : { managedIdentityClientId: auth.clientId, workloadIdentityClientId: auth.clientId }),
          }),
        consumedEnv: env["AZURE_CLIENT_SECRET"] === undefined ? [] : ["AZURE_CLIENT_SECRET"],
      };
    }
  }
}

function maskIfSet(ctx: ProviderContext, names: readonly string[]): void {
  for (const name of names) {
    const value = ctx.env[name];
    if (isSet(value)) ctx.addSecret(value);
  }
}

function readCredentialFile(path: string, what: string): string {
  refuseIfNotRegularFile(path, NAME, what);
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new SecretwrapError(
      "AUTH_FAILED",
      `${NAME}: cannot read ${what} ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      {
        subject: { provider: NAME },
        hint: "check that the file is mounted and readable by the user secretwrap runs as",
      },
    );
  }
}
