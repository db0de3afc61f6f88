// A write that answers with secrets: vault-env's >>vault:PATH#KEY#{JSON} (ref+vault://PATH?write=JSON),
// e.g. pki/issue/ROLE, which issues a new certificate and its private key at every call.
//
// Two rules follow from a write not being idempotent:
// - One write per (path, body) per session: every key of one issued certificate (certificate,
//   private_key, serial_number) comes from the same answer, whichever declarations name them.
// - Sent again only when Vault certainly did not act on it: no connection was made (refused, DNS,
//   unreachable, TLS before any byte of the request), or Vault refused it with a 4xx (403 with an
//   expired token is retried after a new login by the session). A timeout, a connection broken after
//   the request went out, or a 5xx may have issued something: that failure is final (69) and every
//   later attempt in the run gets it again, so the core's retry cannot send a second write either.
import {
  type Fetched,
  parseJson,
  type ProviderContext,
  type Ref,
  SecretwrapError,
} from "../../src/provider-api.ts";
import { networkFailureOf, type NetworkFailureKind } from "../kit/network-failure.ts";
import { describeFailure, mapError, TokenRejected } from "./errors.ts";
import type { Client } from "./login.ts";
import { encodePath } from "./mounts.ts";
import { PROVIDER } from "./options.ts";
import { asMap, fetchedFrom, type ReadBody } from "./read.ts";
import type { CallInfo } from "./transport.ts";

/** Failures below HTTP that happen before the request's first byte leaves this host. */
const NOT_SENT: ReadonlySet<NetworkFailureKind> = new Set<NetworkFailureKind>([
  "name-unknown",
  "resolver-unavailable",
  "refused",
  "unreachable",
  "tls-untrusted",
  "tls-wrong-name",
  "tls-expired",
  "tls-failed",
]);

const MAY_HAVE_ACTED =
  "the write may have reached Vault (and issued something), so secretwrap does not send it again; check Vault's audit log, then start again";

/** The writes of one session, by path and body. */
export class Writes {
  readonly #client: Client;
  readonly #origin: string;
  readonly #answers = new Map<string, Promise<ReadBody>>();

  constructor(client: Client, origin: string) {
    this.#client = client;
    this.#origin = origin;
  }

  async fetch(ref: Ref, signal: AbortSignal, ctx: ProviderContext): Promise<Fetched> {
    const body = ref.params["write"] ?? "{}";
    const key = `${ref.locator}\n${body}`;
    let answer = this.#answers.get(key);
    if (answer === undefined) {
      answer = this.#send(key, ref.locator, body, signal);
      this.#answers.set(key, answer);
    }
    return toFetched(ref, await answer, ctx);
  }

  async #send(key: string, path: string, body: string, signal: AbortSignal): Promise<ReadBody> {
    const call: CallInfo = {};
    try {
      return (await this.#client.write(encodePath(path), parseJson(body), { signal, call })) as ReadBody;
    } catch (error) {
      const mapped = mapError(error, {
        stage: "read",
        path,
        origin: this.#origin,
        call,
        action: `writing to ${path}`,
      });
      if (notActedOn(error)) {
        // Free for another attempt: Vault did nothing with this one.
        this.#answers.delete(key);
        if (describeFailure(error).status === 403 && !(mapped instanceof TokenRejected)) {
          throw new SecretwrapError("ACCESS_DENIED", `permission denied writing to ${path} (403)`, {
            subject: { provider: PROVIDER },
            hint: `grant the app's policy: path "${path}" { capabilities = ["update"] }`,
          });
        }
        throw mapped;
      }
      const why = signal.aborted
        ? `no answer to the write to ${path} before the attempt ended`
        : mapped.message;
      throw new SecretwrapError("FETCH_FAILED", `${why}; not sent again`, {
        subject: { provider: PROVIDER },
        hint: MAY_HAVE_ACTED,
        cause: mapped,
      });
    }
  }
}

function notActedOn(error: unknown): boolean {
  const status = describeFailure(error).status;
  if (status !== undefined) return status >= 400 && status < 500;
  const network = networkFailureOf(error);
  return network !== undefined && NOT_SENT.has(network.kind);
}

/** vault-env takes KEY from the answer's data, or from data.data when there is one (KV v2's shape). */
function toFetched(ref: Ref, body: ReadBody, ctx: ProviderContext): Fetched {
  const data = asMap(body.data);
  const map = asMap(data?.["data"]) ?? data;
  if (map === undefined)
    throw new SecretwrapError("SECRET_NOT_FOUND", `the write to ${ref.locator} returned no data`, {
      subject: { provider: PROVIDER },
      hint: "vault-env's >>vault: form takes a key of the write's answer: this path answers nothing",
    });
  return fetchedFrom(map, body, ctx);
}
