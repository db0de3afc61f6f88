// The providers.azurekeyvault config block (strict schema), which auth keys apply to which method,
// and the names every other azurekeyvault/ file shares.
import * as z from "zod/mini";
import { optionSchema, type ProviderOptionsIssue, toIssues } from "../../src/provider-api.ts";

export const NAME = "azurekeyvault";
const METHODS = [
  "auto",
  "workloadIdentity",
  "managedIdentity",
  "clientSecret",
  "azureCli",
  "default",
] as const;
type Method = (typeof METHODS)[number];
export type ChosenMethod = Exclude<Method, "auto">;

const Auth = z.strictObject({
  method: z.optional(z.enum(METHODS)),
  tenantId: z.optional(z.string().check(z.minLength(1))),
  clientId: z.optional(z.string().check(z.minLength(1))),
  resourceId: z.optional(z.string().check(z.minLength(1))),
  tokenFile: z.optional(z.string().check(z.minLength(1))),
  clientSecretFile: z.optional(z.string().check(z.minLength(1))),
  authorityHost: z.optional(z.string().check(z.minLength(1))),
  disableInstanceDiscovery: z.optional(z.boolean()),
  additionallyAllowedTenants: z.optional(z.array(z.string().check(z.minLength(1)))),
});

export const Options = z.strictObject({
  auth: z.optional(Auth),
  dnsSuffix: z.optional(
    z.string().check(z.regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i, "a DNS suffix such as vault.azure.net")),
  ),
  vaultUrls: z.optional(z.record(z.string(), z.string())),
  endpoint: z.optional(z.string()),
  caFile: z.optional(z.string().check(z.minLength(1))),
  allowHttp: z.optional(z.boolean()),
  disableChallengeResourceVerification: z.optional(z.boolean()),
});
export type Options = z.infer<typeof Options>;
export type AuthOptions = z.infer<typeof Auth>;

// Which auth keys mean something for which method: a key that cannot apply is a config error, not a
// silent no-op (e.g. `clientSecretFile` with managed identity).
const APPLIES: Readonly<Record<string, readonly Method[]>> = {
  tenantId: ["auto", "workloadIdentity", "clientSecret", "azureCli", "default"],
  clientId: ["auto", "workloadIdentity", "managedIdentity", "clientSecret", "default"],
  resourceId: ["auto", "managedIdentity", "default"],
  tokenFile: ["auto", "workloadIdentity"],
  clientSecretFile: ["auto", "clientSecret"],
  authorityHost: ["auto", "workloadIdentity", "clientSecret", "default"],
  disableInstanceDiscovery: ["auto", "workloadIdentity", "clientSecret", "default"],
  additionallyAllowedTenants: ["auto", "workloadIdentity", "clientSecret", "azureCli", "default"],
};

export function validateOptions(options: unknown): ProviderOptionsIssue[] {
  const result = z.safeParse(Options, options);
  if (!result.success) return toIssues(result.error.issues);
  const auth = result.data.auth ?? {};
  const method = auth.method ?? "auto";
  const issues: ProviderOptionsIssue[] = [];
  for (const key of Object.keys(auth)) {
    const applies = APPLIES[key];
    if (applies !== undefined && !applies.includes(method)) {
      issues.push({ path: ["auth", key], message: `not used by auth method "${method}"` });
    }
  }
  if (auth.clientId !== undefined && auth.resourceId !== undefined) {
    issues.push({
      path: ["auth", "resourceId"],
      message: "give either clientId or resourceId for a user-assigned identity, not both",
    });
  }
  return issues;
}

export const schema = optionSchema<Options>(validateOptions);
