// ref+vault://<mount>/<path>[?version=N][#field]: HashiCorp Vault and OpenBao through node-vault.
// Logs in once (token, AppRole with plain or response-wrapped SecretID, Kubernetes, JWT), detects
// KV v1/v2 per mount the way `vault kv get` does, and reads other engines (database/creds/…) as is.
//
// The pieces, one idea each, live in vault/; what every provider shares (agents, extra CA, endpoint
// check, credential files, ctx.env reading, HTTP status and network classification, Retry-After) is
// in providers/kit/:
//   descriptor.ts   what the core knows without loading this: reference grammar, env prefixes
//   options.ts      the providers.vault block (strict schema) and its validation
//   settings.ts     block + VAULT_* variables → address, CA, namespace, where each credential comes from
//   credentials.ts  reading a credential from its source, at every login
//   transport.ts    node-vault's HTTP layer: axios with our signal, no proxy, verified TLS, size limit,
//                   JSON bodies only, same-origin redirects only, Retry-After
//   errors.ts       every failure → SecretwrapError, never quoting a body
//   login.ts        token, AppRole, Kubernetes, JWT logins
//   unwrap.ts       wrapped SecretIDs, unwrapped once per run (kept in ctx.runState)
//   mounts.ts       KV v1/v2 detection per mount;            read.ts    one read → bytes
//   session.ts      reads, one re-login when the token expires mid-run, revocation on close, and the
//                   --watch lifecycle capabilities, built from:
//   lease.ts        renewing and revoking dynamic-secret leases (their ids masked, never written)
//   token.ts        the session's own token: lifetime, renew-self or a new login, revoke-self
//   versions.ts     KV v2 current versions from metadata (checkVersion)
//   connect.ts      settings + client + first login
import type { Provider } from "../../src/provider-api.ts";
import { connect } from "./connect.ts";
import type { Options as VaultOptions } from "./options.ts";

// The schema too: in the build, the core's options() reaches it through this bundle (scripts/providers.mjs).
export { schema } from "./options.ts";

export const provider: Provider<VaultOptions> = { connect };
