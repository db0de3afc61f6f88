// The metadata server's access token asked for before the SDK loads (issue #17): with the metadata
// server named (GCE_METADATA_HOST or GCE_METADATA_IP), the token is one GET that leaves while
// google-gax and the Secret Manager client load; the SDK's Compute client then starts with it, as if
// it had fetched it itself, and renews it itself later (--watch). Any other answer is the login's
// answer too: an HTTP error is read by errors.ts from the same facts (status, body, headers) as the
// SDK's error, a failure below HTTP by its Node error code, so the same message and exit code; the
// attempt then ends at once where gcp-metadata would first retry it itself (up to 3 times), and the
// one retry layer (src/retry.ts) decides. Only a 200 without a usable token, or with one too
// short-lived for the client to keep, is dropped: the SDK then asks again as it does without this.
// Other credential sources send nothing early.
import { parseJson } from "../../src/provider-api.ts";
import { sendEarly, type RawResponse } from "../kit/early-request.ts";
import type { Env } from "../kit/env-values.ts";
import { isSet } from "../kit/env-values.ts";
import type { ProviderContext } from "../../src/provider-api.ts";
import type { CredentialSource } from "./credentials.ts";
import type { Transport } from "./transport.ts";

/** What the metadata server answers for a token (gcp-metadata's defaults: path and header). */
const TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token";
/** A token answer is a few hundred bytes. */
const MAX_TOKEN_ANSWER_BYTES = 64 * 1024;

export interface EarlyToken {
  readonly accessToken: string;
  readonly tokenType: string;
  /** Epoch ms, as google-auth-library keeps it (expiry_date). */
  readonly expiryDate: number;
}

/**
 * gcp-metadata's base URL rule (GCE_METADATA_IP first, then GCE_METADATA_HOST; http:// when no
 * scheme is given), or undefined when neither is set or it is not plain http.
 */
export function metadataTokenUrl(env: Env, scopes: readonly string[]): URL | undefined {
  const host = [env["GCE_METADATA_IP"], env["GCE_METADATA_HOST"]].find(isSet);
  if (host === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(TOKEN_PATH, /^https?:\/\//.test(host) ? host : `http://${host}`);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:") return undefined;
  url.searchParams.set("scopes", scopes.join(","));
  return url;
}

/** An HTTP error answer, shaped as errors.ts reads the SDK's (gaxios's) error: the answer's status, body, headers. */
class TokenRefused extends Error {
  readonly response: { readonly status: number; readonly data: unknown; readonly headers: unknown };
  constructor(answer: RawResponse) {
    super("the metadata server did not give a token");
    this.name = "TokenRefused";
    let data: unknown = answer.data;
    try {
      data = parseJson(answer.data);
    } catch {
      // gaxios keeps a body that is not JSON as text; so does this.
    }
    this.response = { status: answer.status, data, headers: answer.headers };
  }
}

/**
 * A failure below HTTP, carrying the request's URL where gaxios's error carries it (config.url): a
 * reset names no host itself, and every network failure's message names the host it was talking to.
 */
class EarlyRequestFailed extends Error {
  readonly config: { readonly url: string };
  constructor(cause: unknown, url: URL) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "EarlyRequestFailed";
    this.config = { url: url.href };
  }
}

/**
 * The early answer: a token; a failure to throw (TokenRefused, or Node's error for a failure below
 * HTTP); or undefined, when the SDK is to ask itself.
 */
type EarlyAnswer = EarlyToken | Error | undefined;

/**
 * Asks for the token now when the source is the named metadata server. Never rejects. Every token it
 * receives is masked (ctx.addSecret), used or not.
 */
export function startEarlyToken(
  source: CredentialSource,
  env: Env,
  scopes: readonly string[],
  transport: Transport,
  ctx: ProviderContext,
  signal: AbortSignal,
): { readonly answer: Promise<EarlyAnswer>; readonly sent: Promise<void> } | undefined {
  if (source.kind !== "metadata" || !source.explicitHost) return undefined;
  const url = metadataTokenUrl(env, scopes);
  if (url === undefined) return undefined;
  const asked = Date.now();
  const { answer, sent } = sendEarly({
    method: "GET",
    url,
    headers: { "Metadata-Flavor": "Google" },
    agent: transport.plainAgent,
    signal,
    maxBytes: MAX_TOKEN_ANSWER_BYTES,
  });
  const read = answer.then(
    (response): EarlyAnswer => {
      if (response.status !== 200) return new TokenRefused(response);
      let body: unknown;
      try {
        body = parseJson(response.data);
      } catch {
        return undefined;
      }
      const {
        access_token: accessToken,
        expires_in: expiresIn,
        token_type: tokenType,
      } = (body ?? {}) as Record<string, unknown>;
      if (typeof accessToken !== "string" || accessToken === "") return undefined;
      ctx.addSecret(accessToken);
      if (typeof expiresIn !== "number" || !(expiresIn > 0)) return undefined;
      return {
        accessToken,
        tokenType: typeof tokenType === "string" ? tokenType : "Bearer",
        expiryDate: asked + expiresIn * 1000,
      };
    },
    (error: unknown) => new EarlyRequestFailed(error, url),
  );
  return { answer: read, sent };
}
