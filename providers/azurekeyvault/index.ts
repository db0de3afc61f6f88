// ref+azurekeyvault://<vault-name>/<secret>[/<version>][#field]: Azure Key Vault through
// @azure/keyvault-secrets and @azure/identity, loaded inside connect() so config validation stays cheap.
// The credential is chosen explicitly (or from production sources only), so a container never falls
// through to a developer's `az login` by accident. The SDKs' own retries are off: src/retry.ts decides.
//
// The pieces, one idea each, live in azurekeyvault/; what every provider shares (cause chain, HTTP
// status and network classification, Retry-After, clock skew, extra CA, endpoint check, credential
// files, ctx.env reading, the client cache) is in providers/kit/:
//   descriptor.ts         what the core knows without loading this: reference grammar, env prefixes
//   options.ts            the providers.azurekeyvault block (strict schema), which auth keys apply where
//   method.ts             choosing the credential: auth.method, AZURE_TOKEN_CREDENTIALS, production sources
//   credential.ts         building it: what each method needs, what is masked, which variables are consumed
//   token-traffic.ts      a pipeline policy that records what the token endpoint answered (for managed
//                         identity, wrapped round its HTTP client)
//   token-abort.ts        a pipeline policy that gives each token request's HTTP requests getToken's signal
//   shared-credential.ts  one token request per run shared by every vault's client, a refusal remembered,
//                         and started alongside the first challenge when its scope and tenant are known
//   challenge-gate.ts     a vault's first request goes alone; the others go once it has its token
//   errors.ts             what both mappings share: the fields Azure's errors carry, an attempt cut short
//   token-errors.ts       a credential's failure → SecretwrapError;  vault-errors.ts  a Key Vault failure
//   vault-url.ts          vaultUrls / endpoint / dnsSuffix → a vault's URL
//   connect.ts            the SDKs, the shared credential, one SecretClient per vault, the session's fetch
import type { Provider } from "../../src/provider-api.ts";
import { connect } from "./connect.ts";
import type { Options as AzureOptions } from "./options.ts";

// The schema too: in the build, the core's options() reaches it through this bundle (scripts/providers.mjs).
export { schema } from "./options.ts";

export const provider: Provider<AzureOptions> = { connect };
