// The one rule for a failure below HTTP (DNS, TCP, TLS), whichever provider and whichever endpoint
// (secret API, token endpoint, STS, metadata server) met it: the same Node error code gets the same
// exit code, the same retry decision and the same hint everywhere. Providers only say where they were.
import { SecretwrapError, type ErrorSubject } from "../../src/provider-api.ts";
import { causeChain, firstText } from "./cause-chain.ts";

export type NetworkFailureKind =
  | "name-unknown"
  | "resolver-unavailable"
  | "refused"
  | "broken"
  | "timed-out"
  | "unreachable"
  | "tls-untrusted"
  | "tls-wrong-name"
  | "tls-expired"
  | "tls-failed";

interface KindRule {
  /** Worth another attempt within --timeout. */
  readonly transient: boolean;
  /** What happened, in the message after the host. */
  readonly headline: string;
  readonly hint: string;
}

const RETRIED = "secretwrap retries until --timeout";
const NOT_RETRIED = "secretwrap does not retry this";
const TLS_FAILED = "TLS verification failed";

// Exit code: every kind is 69 (the secret could not be fetched). TLS is not 77: no credential was sent
// or refused; the server could not prove who it is, which is a fetch failure the operator fixes with a
// CA or a name, and retrying cannot change a certificate. ENOTFOUND is an answer (the name does not
// exist), not a silence: asking again within a minute will not create it. EAI_AGAIN is a silence.
export const KINDS: Readonly<Record<NetworkFailureKind, KindRule>> = {
  "name-unknown": {
    transient: false,
    headline: "the host name does not exist",
    hint: `check the host name in the provider's address or endpoint (a typo, or a private DNS zone this host cannot resolve); ${NOT_RETRIED}`,
  },
  "resolver-unavailable": {
    transient: true,
    headline: "no DNS server answered for the host name",
    hint: `check the DNS servers this host uses (resolv.conf, network policy); ${RETRIED}`,
  },
  refused: {
    transient: true,
    headline: "connection refused",
    hint: `check the address and port, and that the service is up; ${RETRIED}`,
  },
  broken: {
    transient: true,
    headline: "the connection broke off",
    hint: `the service, a proxy or a load balancer dropped the connection; ${RETRIED}`,
  },
  "timed-out": {
    transient: true,
    headline: "the connection timed out",
    hint: `check firewalls and network policies between this host and the service; ${RETRIED}`,
  },
  unreachable: {
    transient: true,
    headline: "the network or host is unreachable",
    hint: `check routes, firewalls and network policies between this host and the service; ${RETRIED}`,
  },
  "tls-untrusted": {
    transient: false,
    headline: TLS_FAILED,
    hint: `the server's certificate is not signed by a CA secretwrap trusts: give that CA with caFile in the provider's block (or VAULT_CACERT, AWS_CA_BUNDLE); verification is never turned off; ${NOT_RETRIED}`,
  },
  "tls-wrong-name": {
    transient: false,
    headline: TLS_FAILED,
    hint: `the server's certificate is not issued for this host name: use the name in its subjectAltName, or reissue it with this name; ${NOT_RETRIED}`,
  },
  "tls-expired": {
    transient: false,
    headline: TLS_FAILED,
    hint: `the server's certificate has expired or is not yet valid: renew it, or set this machine's clock right if it is wrong (NTP); ${NOT_RETRIED}`,
  },
  "tls-failed": {
    transient: false,
    headline: "the TLS handshake failed",
    hint: `check that the address speaks HTTPS (not plain HTTP) with TLS 1.2 or later; ${NOT_RETRIED}`,
  },
};

const CODE_KIND: Readonly<Record<string, NetworkFailureKind>> = {
  ENOTFOUND: "name-unknown",
  EAI_NONAME: "name-unknown",
  EAI_AGAIN: "resolver-unavailable",
  // SERVFAIL: a resolver that failed this time (a broken upstream, DNSSEC), not a missing name.
  EAI_FAIL: "resolver-unavailable",
  ECONNREFUSED: "refused",
  ECONNRESET: "broken",
  ECONNABORTED: "broken",
  EPIPE: "broken",
  ECANCELED: "broken",
  UND_ERR_SOCKET: "broken",
  ERR_STREAM_PREMATURE_CLOSE: "broken",
  ETIMEDOUT: "timed-out",
  ESOCKETTIMEDOUT: "timed-out",
  UND_ERR_CONNECT_TIMEOUT: "timed-out",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  ENETDOWN: "unreachable",
  EHOSTDOWN: "unreachable",
  CERT_HAS_EXPIRED: "tls-expired",
  CERT_NOT_YET_VALID: "tls-expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "tls-wrong-name",
  HOSTNAME_MISMATCH: "tls-wrong-name",
  DEPTH_ZERO_SELF_SIGNED_CERT: "tls-untrusted",
  SELF_SIGNED_CERT_IN_CHAIN: "tls-untrusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "tls-untrusted",
  UNABLE_TO_GET_ISSUER_CERT: "tls-untrusted",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "tls-untrusted",
  CERT_UNTRUSTED: "tls-untrusted",
  CERT_REJECTED: "tls-untrusted",
  CERT_REVOKED: "tls-untrusted",
  CERT_SIGNATURE_FAILURE: "tls-untrusted",
  INVALID_CA: "tls-untrusted",
  PATH_LENGTH_EXCEEDED: "tls-untrusted",
  INVALID_PURPOSE: "tls-untrusted",
};

/** OpenSSL and Node TLS codes not listed above (ERR_SSL_WRONG_VERSION_NUMBER, EPROTO, …). */
const OTHER_TLS = /^(ERR_SSL_|ERR_TLS_|ERR_OSSL_|EPROTO$|(ERR_)?CERT_)/;

export interface NetworkFailure {
  readonly kind: NetworkFailureKind;
  /** The Node/OpenSSL error code, as Node reported it. */
  readonly code: string;
  /** The host (and port) the error itself names, when it names one. */
  readonly host: string | undefined;
}

function kindOf(code: string): NetworkFailureKind | undefined {
  if (Object.hasOwn(CODE_KIND, code)) return CODE_KIND[code];
  return OTHER_TLS.test(code) ? "tls-failed" : undefined;
}

/**
 * The network/TLS failure anywhere in `error`'s cause chain, or undefined if there is none.
 * `fromMessage`: for an SDK that keeps only the socket error's text (AWS fromHttp) or says a reply
 * broke off in words of its own (axios, Azure's pipeline), read Node's and that client's fixed
 * wording too; never for errors whose messages a server may have written.
 */
export function networkFailureOf(error: unknown, fromMessage = false): NetworkFailure | undefined {
  const chain = causeChain(error);
  for (const link of chain) {
    const code = (link as { code?: unknown }).code;
    if (typeof code !== "string") continue;
    const kind = kindOf(code);
    if (kind !== undefined) return { kind, code, host: hostNamedBy(chain) };
  }
  if (!fromMessage) return undefined;
  for (const link of chain) {
    const message = (link as { message?: unknown }).message;
    const found = typeof message === "string" ? failureInNodeMessage(message) : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}

// Node's system errors read "<syscall> <CODE>[ <host>[:<port>]]" (uv_exception); http's reset is
// "socket hang up"; OpenSSL's verify errors have fixed texts (X509_verify_cert_error_string).
const NODE_SYSTEM_MESSAGE = /\b(?:getaddrinfo|connect|read|write|socket|queryA{1,4}) (E[A-Z_]+)(?: (\S+))?/;
const TLS_TEXTS: readonly (readonly [RegExp, string])[] = [
  [/self[- ]signed certificate in certificate chain/, "SELF_SIGNED_CERT_IN_CHAIN"],
  [/self[- ]signed certificate/, "DEPTH_ZERO_SELF_SIGNED_CERT"],
  [/unable to verify the first certificate/, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
  [/unable to get local issuer certificate/, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"],
  [/certificate has expired/, "CERT_HAS_EXPIRED"],
  [/certificate is not yet valid/, "CERT_NOT_YET_VALID"],
  [/does not match certificate's altnames/, "ERR_TLS_CERT_ALTNAME_INVALID"],
];
/**
 * HTTP clients' words for a reply whose body broke off after its headers, where the error's code alone
 * does not say it: axios's ERR_BAD_RESPONSE also stands for its size limit, @azure/core-rest-pipeline's
 * PARSE_ERROR for a body that is not JSON (its text ends with Node's "aborted").
 */
const CUT_SHORT: readonly (readonly [RegExp, string])[] = [
  [/^stream has been aborted$/, "ERR_BAD_RESPONSE"],
  [/^Error reading response as text: aborted$/, "PARSE_ERROR"],
];

function failureInNodeMessage(message: string): NetworkFailure | undefined {
  const system = NODE_SYSTEM_MESSAGE.exec(message);
  const code = system?.[1];
  if (code !== undefined) {
    const kind = kindOf(code);
    if (kind !== undefined) return { kind, code, host: system?.[2] };
  }
  if (/\bsocket hang up\b/.test(message)) return { kind: "broken", code: "ECONNRESET", host: undefined };
  for (const [text, clientCode] of CUT_SHORT) {
    if (text.test(message)) return { kind: "broken", code: clientCode, host: undefined };
  }
  for (const [text, tlsCode] of TLS_TEXTS) {
    if (text.test(message)) return { kind: kindOf(tlsCode) ?? "tls-failed", code: tlsCode, host: undefined };
  }
  return undefined;
}

/**
 * getaddrinfo errors carry `hostname`, connect errors `address`/`port`, TLS name errors `host`; an
 * HTTP client's wrapper (gaxios, axios) keeps the request's `config.url`, of which only the origin is
 * taken (never a path or query).
 */
function hostNamedBy(chain: readonly object[]): string | undefined {
  const name = firstText(chain, "hostname");
  if (name !== undefined) return name;
  for (const link of chain) {
    const url = (link as { config?: { url?: unknown } }).config?.url;
    const text = url instanceof URL ? url.href : typeof url === "string" ? url : "";
    if (URL.canParse(text)) return new URL(text).host;
  }
  const host = firstText(chain, "host");
  if (host !== undefined) return host;
  for (const link of chain) {
    const { address, port } = link as { address?: unknown; port?: unknown };
    if (typeof address === "string" && address !== "")
      return typeof port === "number"
        ? `${address.includes(":") ? `[${address}]` : address}:${port}`
        : address;
  }
  return undefined;
}

export interface NetworkErrorContext {
  /** What was being done, e.g. "vault: reading secret/data/app" or "awssecrets: login (web identity)". */
  readonly where: string;
  /** The endpoint the provider was talking to (a URL or host), when it knows it. */
  readonly endpoint?: string | undefined;
  readonly subject?: ErrorSubject;
  /** Also read Node's own wording in messages (see networkFailureOf). */
  readonly fromMessage?: boolean;
}

/**
 * The SecretwrapError for a network/TLS failure in `error`'s cause chain, or undefined when the chain
 * holds none (the provider then maps the HTTP answer). Names the endpoint, never a request or body.
 */
export function networkError(error: unknown, context: NetworkErrorContext): SecretwrapError | undefined {
  const failure = networkFailureOf(error, context.fromMessage ?? false);
  return failure === undefined ? undefined : errorFor(failure, context, error);
}

function errorFor(failure: NetworkFailure, context: NetworkErrorContext, cause?: unknown): SecretwrapError {
  const rule = KINDS[failure.kind];
  const host = context.endpoint ?? failure.host;
  const at = host === undefined ? "" : `${host}: `;
  return new SecretwrapError("FETCH_FAILED", `${context.where}: ${at}${rule.headline} (${failure.code})`, {
    hint: rule.hint,
    transient: rule.transient,
    ...(context.subject === undefined ? {} : { subject: context.subject }),
    ...(cause === undefined ? {} : { cause }),
  });
}
