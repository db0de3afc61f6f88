// One small request sent with Node's own http(s) while the provider's SDK is still loading (issue #17):
// a login (Vault) or a token (GCP's metadata server) that would otherwise leave only once the SDK is in
// memory. It goes through the session's own agents (so the same TLS trust and the same connection the
// SDK then reuses), under the attempt's signal, never through a proxy, and its answer is handed to the
// SDK's path as the answer to the request that path would have sent: every status, body and failure is
// then read by the same code as today.
import { request as httpRequest, type Agent as HttpAgent, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest, type Agent as HttpsAgent } from "node:https";

export interface EarlyRequest {
  readonly method: "GET" | "POST";
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The session's agent for this protocol; false: a connection of its own, closed after the answer. */
  readonly agent: HttpAgent | HttpsAgent | false;
  readonly signal: AbortSignal;
  /** A longer answer is refused (ResponseTooLarge), as the SDK path refuses it. */
  readonly maxBytes: number;
}

/** An answer as it came: any status (a refusal is an answer, read by the SDK path's own code). */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly data: string;
}

/** A request sent early: its answer, and when it has left (or failed to). */
export interface SentEarly {
  readonly answer: Promise<RawResponse>;
  /**
   * Settles once the request is on the wire (its connection made, TLS included, and its bytes
   * written), or has failed. Loading an SDK blocks the event loop for tens of ms; a caller that waits
   * for this first lets the handshake finish, so the SDK loads while the server answers.
   */
  readonly sent: Promise<void>;
}

/**
 * The connection broke while the answer's body was arriving (the status had come). SDK clients report
 * this differently from a failure before any answer (axios: ERR_BAD_RESPONSE), so the caller says it
 * in its SDK's words; `cause` is Node's own error.
 */
export class BodyBroken extends Error {
  constructor(cause: unknown) {
    super("the connection broke while the answer arrived", { cause });
    this.name = "BodyBroken";
  }
}

/** The answer was longer than the request's maxBytes; nothing of it is kept. */
export class ResponseTooLarge extends Error {
  constructor() {
    super("response too large");
    this.name = "ResponseTooLarge";
  }
}

/**
 * Sends `req` now. The promise never rejects unhandled: a caller that does not wait for it (its attempt
 * failed first) loses nothing, and the session's agents, destroyed on close, end its socket.
 */
export function sendEarly(req: EarlyRequest): SentEarly {
  const send = req.url.protocol === "https:" ? httpsRequest : httpRequest;
  let markSent = (): void => undefined;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  const answer = new Promise<RawResponse>((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.from(req.body, "utf8");
    const outgoing = send(
      req.url,
      {
        method: req.method,
        agent: req.agent,
        signal: req.signal,
        headers: {
          ...req.headers,
          ...(body === undefined ? {} : { "Content-Length": String(body.byteLength) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on("data", (chunk: Buffer) => {
          bytes += chunk.byteLength;
          if (bytes > req.maxBytes) {
            // Rejected first: destroying the body makes it report itself broken (BodyBroken).
            reject(new ResponseTooLarge());
            response.destroy();
            return;
          }
          chunks.push(chunk);
        });
        response.on("error", (error) => reject(new BodyBroken(error)));
        response.on("aborted", () => reject(new BodyBroken(new Error("aborted"))));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            data: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.on("finish", markSent);
    outgoing.end(body);
  });
  answer.then(markSent, markSent);
  return { answer, sent };
}
