// The providers.vault config block (strict schema) and the names every other vault/ file shares.
import * as z from "zod/mini";
import { optionSchema, type ProviderOptionsIssue, toIssues } from "../../src/provider-api.ts";

export const PROVIDER = "vault";
export const AUTH_METHODS = ["token", "approle", "kubernetes", "jwt"] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
/** Where Kubernetes projects the pod's service-account token. */
export const K8S_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token";

const text = z.string().check(z.minLength(1));
const Auth = z.strictObject({
  method: z.optional(z.enum(AUTH_METHODS)),
  mount: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^[^/\s]+(\/[^/\s]+)*$/,
          "a mount path like approle or team/k8s, without leading or trailing /",
        ),
      ),
  ),
  role: z.optional(text),
  roleId: z.optional(text),
  roleIdFile: z.optional(text),
  secretId: z.optional(text),
  secretIdFile: z.optional(text),
  wrappedSecretIdFile: z.optional(text),
  jwtFile: z.optional(text),
  tokenFile: z.optional(text),
});
export const Options = z.strictObject({
  address: z.optional(text),
  endpoint: z.optional(text),
  namespace: z.optional(text),
  caFile: z.optional(text),
  allowHttp: z.optional(z.boolean()),
  revokeToken: z.optional(z.boolean()),
  auth: z.optional(Auth),
});
export type Options = z.infer<typeof Options>;

/** Every problem in the block at once, for `secretwrap check` and config loading. */
export function validateOptions(options: unknown): ProviderOptionsIssue[] {
  const result = z.safeParse(Options, options ?? {});
  if (!result.success) return toIssues(result.error.issues);
  const issues: ProviderOptionsIssue[] = [];
  const block = result.data;
  if (block.address !== undefined && block.endpoint !== undefined)
    issues.push({ path: ["endpoint"], message: "address and endpoint are the same setting; give one" });
  const auth = block.auth ?? {};
  const exclusive: [keyof typeof auth, keyof typeof auth][] = [
    ["roleId", "roleIdFile"],
    ["secretId", "secretIdFile"],
    ["secretId", "wrappedSecretIdFile"],
    ["secretIdFile", "wrappedSecretIdFile"],
  ];
  for (const [a, b] of exclusive)
    if (auth[a] !== undefined && auth[b] !== undefined)
      issues.push({ path: ["auth", b], message: `give ${a} or ${b}, not both` });
  return issues;
}

export const schema = optionSchema<Options>(validateOptions);
