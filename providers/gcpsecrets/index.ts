// ref+gcpsecrets://<project>/<secret>[?version=N|latest][&location=<region>][#field]: Google Secret
// Manager, through @google-cloud/secret-manager and Application Default Credentials read from the
// environment secretwrap started with: a credentials file (GOOGLE_APPLICATION_CREDENTIALS, or the
// config's credentialsFile: service account key, workload identity federation, user), gcloud's user
// ADC file, else the metadata server (GCE, GKE Workload Identity, Cloud Run; GCE_METADATA_HOST honoured).
// Requests go over the REST fallback, not gRPC (why: gcpsecrets/session.ts).
//
// The pieces, one idea each, live in gcpsecrets/; what every provider shares (agents, extra CA,
// endpoint check, credential files, ctx.env reading, cause chain, HTTP status and network
// classification, Retry-After, clock skew, the client cache, process.env overrides) is in providers/kit/:
//   descriptor.ts   what the core knows without loading this: reference grammar, env prefixes
//   options.ts      the providers.gcpsecrets block (strict schema) and its validation
//   target.ts       reference → resource name, and the global or regional host that serves it
//   credentials.ts  which ADC source applies, the credentials file read and checked, metadata variables
//   transport.ts    the session's agents and the attempt's abort signal, on every auth-client request
//   errors.ts       every failure → SecretwrapError from codes and statuses, never an SDK message or body
//   crc32c.ts       the payload checksum
//   version-check.ts  checkVersion for --watch: the version resource's metadata, no payload
//   session.ts      one client per host, reads checked for size and CRC32C, close
//   connect.ts      transport + credentials + SDK + first access token
import type { Provider } from "../../src/provider-api.ts";
import { connect } from "./connect.ts";
import type { GcpOptions } from "./options.ts";

// The schema too: in the build, the core's options() reaches it through this bundle (scripts/providers.mjs).
export { schema } from "./options.ts";

export const provider: Provider<GcpOptions> = { connect };
