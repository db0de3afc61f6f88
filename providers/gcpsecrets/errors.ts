// Error mapping: only codes and statuses reach a message, never an SDK message or body.
import { SecretwrapError, parseJson } from "../../src/provider-api.ts";
import { clockSkewError, mentionsClockSkew } from "../kit/clock-skew.ts";
import { causeChain } from "../kit/cause-chain.ts";
import { isTransientStatus } from "../kit/http-status.ts";
import { networkError } from "../kit/network-failure.ts";
import { headerReader, retryAfterMs } from "../kit/retry-after.ts";
import { NAME } from "./options.ts";

/** gRPC status codes (google.rpc.Code) by name, for errors that carry the name only. */
const GRPC_CODES: Record<string, number> = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};
const GRPC_NAMES = Object.fromEntries(Object.entries(GRPC_CODES).map(([k, v]) => [v, k]));
const TRANSIENT_GRPC = new Set([4, 8, 10, 13, 14]);

interface FailureFacts {
  /** HTTP status of the reply, when there was one. */
  readonly http?: number;
  /** gRPC status (google.rpc.Code), from a gax error or the JSON error body's "status". */
  readonly grpc?: number;
  /** A Node/OS error code (ECONNRESET, CERT_HAS_EXPIRED). */
  readonly errno?: string;
  readonly retryAfterMs?: number;
  /** The OAuth error of a token endpoint's answer (RFC 6749 §5.2), e.g. invalid_grant. */
  readonly oauth?: string;
  /** Its error_description or the SDK's message: only matched against known phrases, never shown. */
  readonly oauthDescription?: string;
}

/** Reads what is safe to know from an SDK error: numbers and enum names, nothing free-form. */
function factsOf(error: unknown): FailureFacts {
  const facts: {
    http?: number;
    grpc?: number;
    errno?: string;
    retryAfterMs?: number;
    oauth?: string;
    oauthDescription?: string;
  } = {};
  for (const e of causeChain(error)) {
    const o = e as {
      code?: unknown;
      status?: unknown;
      errno?: unknown;
      response?: { status?: unknown; data?: unknown; headers?: unknown };
    };
    const response = o.response;
    if (facts.http === undefined && typeof response?.status === "number") facts.http = response.status;
    if (facts.http === undefined && typeof o.status === "number" && o.status >= 100) facts.http = o.status;
    if (typeof o.code === "number" && o.code >= 0 && o.code <= 16 && !(e instanceof Error && "response" in e))
      facts.grpc ??= o.code;
    if (typeof o.code === "string" && /^[A-Z0-9_]+$/.test(o.code) && o.code !== "ERR_BAD_RESPONSE")
      facts.errno ??= o.code;
    const name = statusName(response?.data);
    const named = name === undefined ? undefined : GRPC_CODES[name];
    if (named !== undefined) facts.grpc ??= named;
    const retryAfter = retryAfterMs(headerReader(response?.headers));
    if (retryAfter !== undefined) facts.retryAfterMs ??= retryAfter;
    const oauth = oauthError(response?.data);
    if (oauth !== undefined) {
      facts.oauth ??= oauth.error;
      if (oauth.description !== undefined) facts.oauthDescription ??= oauth.description;
    }
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && /\binvalid_grant\b/.test(message)) {
      facts.oauth ??= "invalid_grant";
      facts.oauthDescription ??= message;
    }
  }
  return facts;
}

/** A response body as an object: gaxios gives it parsed, or as text when it could not. */
function jsonBody(data: unknown): unknown {
  if (typeof data !== "string") return data;
  try {
    return parseJson(data);
  } catch {
    return undefined;
  }
}

function oauthError(data: unknown): { error: string; description?: string } | undefined {
  const body = jsonBody(data);
  const { error, error_description } = (body ?? {}) as { error?: unknown; error_description?: unknown };
  if (typeof error !== "string") return undefined;
  return typeof error_description === "string" ? { error, description: error_description } : { error };
}

function statusName(data: unknown): string | undefined {
  const status = (jsonBody(data) as { error?: { status?: unknown } } | undefined)?.error?.status;
  return typeof status === "string" && Object.hasOwn(GRPC_CODES, status) ? status : undefined;
}

/** One failure, classified by the HTTP status first (REST), then the gRPC status, then the OS error. */
export function mapFailure(
  error: unknown,
  what: string,
  stage: "login" | "fetch",
  endpoint?: string,
): SecretwrapError {
  const subject = { provider: NAME };
  const network = networkError(error, { where: what, endpoint, subject });
  if (network !== undefined) return network;
  const facts = factsOf(error);
  const grpc = facts.grpc === undefined ? "" : ` ${GRPC_NAMES[facts.grpc] ?? facts.grpc}`;
  const status = facts.http === undefined ? grpc.trim() : `HTTP ${facts.http}${grpc}`;
  const retry = facts.retryAfterMs === undefined ? {} : { retryAfterMs: facts.retryAfterMs };
  if (stage === "login" && facts.oauth === "invalid_grant" && mentionsClockSkew(facts.oauthDescription)) {
    return clockSkewError(what, "invalid_grant: the JWT's iat/exp", subject);
  }
  const code = facts.http ?? httpOf(facts.grpc);
  if (code !== undefined && code >= 300 && code < 400) {
    return new SecretwrapError("FETCH_FAILED", `${what}: the server answered with a redirect (${status})`, {
      subject,
      hint: "secretwrap never follows a redirect with credentials: set the endpoint to the address that answers",
    });
  }
  if (code === 404 && stage === "fetch") {
    return new SecretwrapError("SECRET_NOT_FOUND", `${what}: not found (${status})`, { subject });
  }
  if (code === 401 || (stage === "login" && (code === 400 || code === 403 || code === 404))) {
    return new SecretwrapError(
      "AUTH_FAILED",
      `${what}: ${stage === "login" ? "could not obtain a Google access token" : "the credentials were rejected"} (${status})`,
      {
        subject,
        hint: "check the credentials (GOOGLE_APPLICATION_CREDENTIALS, the service account attached to the workload, or the workload identity pool)",
      },
    );
  }
  if (code === 403) {
    return new SecretwrapError("ACCESS_DENIED", `${what}: permission denied (${status})`, {
      subject,
      hint: "grant the workload's service account roles/secretmanager.secretAccessor on the secret or project",
    });
  }
  if (facts.grpc === 9) {
    return new SecretwrapError("FETCH_FAILED", `${what}: the secret version is not enabled (${status})`, {
      subject,
      hint: "pick an enabled version (the version may be disabled or destroyed)",
    });
  }
  if (
    code !== undefined &&
    (isTransientStatus(code) || (facts.grpc !== undefined && TRANSIENT_GRPC.has(facts.grpc)))
  ) {
    return new SecretwrapError("FETCH_FAILED", `${what}: Secret Manager unavailable (${status})`, {
      subject,
      transient: true,
      ...retry,
    });
  }
  if (code !== undefined)
    return new SecretwrapError("FETCH_FAILED", `${what}: request refused (${status})`, { subject });
  // A body that broke off mid-way fails to parse: worth one more try, like any torn connection.
  if (error instanceof SyntaxError) {
    return new SecretwrapError("FETCH_FAILED", `${what}: the reply could not be read`, {
      subject,
      transient: true,
    });
  }
  const kind = error instanceof Error ? error.name : typeof error;
  if (stage === "login") {
    // e.g. a key that cannot sign, or a subject token file that cannot be read: retrying will not help.
    return new SecretwrapError(
      "AUTH_FAILED",
      `${what}: ${kind}${facts.errno === undefined ? "" : ` (${facts.errno})`}`,
      { subject, cause: error },
    );
  }
  return new SecretwrapError(
    "FETCH_FAILED",
    `${what}: ${kind}${facts.errno === undefined ? "" : ` (${facts.errno})`}`,
    { subject, cause: error },
  );
}

function httpOf(grpc: number | undefined): number | undefined {
  switch (grpc) {
    case undefined:
      return undefined;
    case 5:
      return 404;
    case 7:
      return 403;
    case 16:
      return 401;
    case 3:
    case 9:
    case 11:
      return 400;
    case 8:
      return 429;
    case 12:
      return 501;
    case 4:
      return 504;
    case 14:
      return 503;
    default:
      return 500;
  }
}
