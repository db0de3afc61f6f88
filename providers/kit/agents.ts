// The HTTP agents a session sends through: keep-alive, so that one connection per host serves every
// secret of the run, and owned by the session, which destroys them on close.
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { ExtraCa } from "./extra-ca.ts";

/** Verified TLS, with the extra CA when there is one. */
export function httpsAgent(ca: ExtraCa | undefined): HttpsAgent {
  // rejectUnauthorized is explicit, so no NODE_TLS_REJECT_UNAUTHORIZED can turn verification off.
  return new HttpsAgent({ keepAlive: true, rejectUnauthorized: true, ...ca });
}

/** Plain http: only ever to an endpoint checkEndpoint allowed (loopback, or allowHttp). */
export function httpAgent(): HttpAgent {
  return new HttpAgent({ keepAlive: true });
}
