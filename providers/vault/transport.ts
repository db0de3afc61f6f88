// Transport: node-vault keeps the protocol, and its HTTP layer is replaced through its documented
// `request-promise` hook by this one, because the built-in one cannot take an AbortSignal, follows
// redirects to any host with the X-Vault-Token header still attached, and has no response size limit.
// It is axios configured by us: our signal, no proxy (whatever HTTP(S)_PROXY says), verified TLS with
// the optional extra CA, a size limit, JSON bodies only, and redirects followed only within the
// configured origin.
import type { AxiosStatic } from "axios";
import { MAX_SECRET_BYTES, VERSION, parseJson } from "../../src/provider-api.ts";
import type { Settings } from "./settings.ts";
import { httpAgent, httpsAgent } from "../kit/agents.ts";
import { headerReader, retryAfterMs } from "../kit/retry-after.ts";
import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import type { EarlyAnswer } from "./early-login.ts";

/** A KV answer is JSON around the value, and JSON escaping can grow it; beyond this it is refused. */
export const MAX_RESPONSE_BYTES = 4 * MAX_SECRET_BYTES + 64 * 1024;
const MAX_REDIRECTS = 3;

/** Per call: what the transport learned that node-vault's error object does not carry. */
export interface CallInfo {
  retryAfterMs?: number;
}

export interface RpOptions {
  readonly method: string;
  readonly uri: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly signal?: AbortSignal;
  readonly call?: CallInfo;
}

export class RedirectRefused extends Error {
  readonly target: string;
  constructor(target: string) {
    super("redirect refused");
    this.name = "RedirectRefused";
    this.target = target;
  }
}

/**
 * A successful status with a body that is not a JSON object: a truncated answer, or an HTML page from
 * a proxy in between. Its content is never kept (it may hold a secret); only its type and size are.
 */
export class NotJson extends Error {
  readonly status: number;
  readonly contentType: string;
  readonly bytes: number;
  constructor(status: number, contentType: string, bytes: number) {
    super("response body is not JSON");
    this.name = "NotJson";
    this.status = status;
    this.contentType = contentType;
    this.bytes = bytes;
  }
}

export interface Transport {
  readonly rp: (
    options: RpOptions,
  ) => Promise<{ statusCode: number; body: unknown; request: { path: string } }>;
  close(): void;
}

/** What the rest of rp reads of an answer, axios's or an early request's (RawResponse). */
interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly data: unknown;
}

/** The session's agents: made before the SDK loads, so an early login (early-login.ts) can use them. */
export interface Agents {
  readonly httpsAgent: HttpsAgent;
  readonly httpAgent: HttpAgent;
}

export function createAgents(settings: Settings): Agents {
  return { httpsAgent: httpsAgent(settings.ca), httpAgent: httpAgent() };
}

/**
 * `early`: a request already sent (the login, early-login.ts) whose answer is read here, once, as the
 * answer to node-vault's request with the same method and URI.
 */
export function createTransport(
  axios: AxiosStatic,
  settings: Settings,
  agents: Agents,
  early?: EarlyAnswer,
): Transport {
  const origin = settings.url.origin;
  let pending = early;
  const rp: Transport["rp"] = async (options) => {
    let url = options.uri;
    const presentAnswer =
      pending !== undefined && pending.method === options.method && pending.uri === url
        ? pending.response
        : undefined;
    if (presentAnswer !== undefined) pending = undefined;
    for (let hops = 0; ; hops++) {
      const response: Answer =
        hops === 0 && presentAnswer !== undefined
          ? await presentAnswer
          : await axios.request<string>({
              method: options.method,
              url,
              headers: {
                ...options.headers,
                "X-Vault-Request": "true",
                "User-Agent": `secretwrap/${VERSION}`,
              },
              ...(options.json !== null && typeof options.json === "object" ? { data: options.json } : {}),
              ...(options.signal === undefined ? {} : { signal: options.signal }),
              // Every HTTP detail is decided here, never by the environment or a server.
              proxy: false,
              maxRedirects: 0,
              ...agents,
              maxContentLength: MAX_RESPONSE_BYTES,
              maxBodyLength: MAX_RESPONSE_BYTES,
              validateStatus: () => true,
              // The body is parsed below, so a body that is not JSON is an error and not a string.
              responseType: "text",
              transformResponse: (data: unknown) => data,
            });
      const location = response.headers["location"];
      if ((response.status === 307 || response.status === 308) && typeof location === "string") {
        // A standby node points at the active one. The token goes with the request, so only a redirect
        // to the same origin is followed; anything else is refused before a connection is made.
        const next = new URL(location, url);
        if (next.origin !== origin) throw new RedirectRefused(next.origin);
        if (hops >= MAX_REDIRECTS)
          throw new RedirectRefused(`${origin} (more than ${MAX_REDIRECTS} redirects)`);
        url = next.href;
        continue;
      }
      if (options.call !== undefined) {
        const retryAfter = retryAfterMs(headerReader(response.headers));
        if (retryAfter !== undefined) options.call.retryAfterMs = retryAfter;
      }
      const type = response.headers["content-type"];
      const contentType = typeof type === "string" ? type : "";
      return {
        statusCode: response.status,
        body: parseBody(response.status, contentType, response.data),
        request: { path: new URL(url).pathname },
      };
    }
  };
  return {
    rp,
    close() {
      agents.httpsAgent.destroy();
      agents.httpAgent.destroy();
    },
  };
}

/**
 * Vault answers JSON (`application/json`), or nothing (204). On another success status anything else
 * is refused; on an error status an unreadable body only loses the error phrase.
 */
function parseBody(status: number, contentType: string, data: unknown): unknown {
  const raw = typeof data === "string" ? data : "";
  const success = status >= 200 && status < 300;
  if (status === 204) return {};
  if (raw.trim() === "") {
    // Vault's successful answers always have a body; an empty one was cut off on the way.
    if (success) throw new NotJson(status, contentType.slice(0, 60), 0);
    return undefined;
  }
  const isJson = /^application\/([\w.+-]*\+)?json\b/i.test(contentType);
  if (!isJson) {
    if (success) throw new NotJson(status, contentType.slice(0, 60), Buffer.byteLength(raw));
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = parseJson(raw);
  } catch {
    if (success) throw new NotJson(status, contentType.slice(0, 60), Buffer.byteLength(raw));
    return undefined;
  }
  if (success && (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)))
    throw new NotJson(status, contentType.slice(0, 60), Buffer.byteLength(raw));
  return parsed;
}
