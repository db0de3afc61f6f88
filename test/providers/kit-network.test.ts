// R18 (issue 13): the one classification of network/TLS failures (providers/kit/network-failure.ts)
// and of clock skew (providers/kit/clock-skew.ts), over every code and every way an SDK wraps it.
// The wire-level table over providers and endpoints is test/reliability/failure-classes.test.ts.
import { rmSync } from "node:fs";
import { get } from "node:http";
import { connect as tlsConnect } from "node:tls";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { causeChain } from "../../providers/kit/cause-chain.ts";
import { CLOCK_SKEW_HINT, clockSkewError, mentionsClockSkew } from "../../providers/kit/clock-skew.ts";
import {
  KINDS,
  networkError,
  networkFailureOf,
  type NetworkFailureKind,
} from "../../providers/kit/network-failure.ts";
import { headerReader, retryAfterMs } from "../../providers/kit/retry-after.ts";
import { EXIT_CODE } from "../../src/errors.ts";
import { createTestPki } from "../servers/tls.ts";
import { TestServer } from "../servers/harness.ts";

/** Every code the rule names, with its kind (the issue's list and their siblings). */
const CODES: Readonly<Record<string, NetworkFailureKind>> = {
  ENOTFOUND: "name-unknown",
  EAI_AGAIN: "resolver-unavailable",
  EAI_FAIL: "resolver-unavailable",
  ECONNREFUSED: "refused",
  ECONNRESET: "broken",
  EPIPE: "broken",
  ECONNABORTED: "broken",
  UND_ERR_SOCKET: "broken",
  ETIMEDOUT: "timed-out",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  ENETDOWN: "unreachable",
  CERT_HAS_EXPIRED: "tls-expired",
  CERT_NOT_YET_VALID: "tls-expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "tls-untrusted",
  SELF_SIGNED_CERT_IN_CHAIN: "tls-untrusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "tls-untrusted",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "tls-untrusted",
  ERR_TLS_CERT_ALTNAME_INVALID: "tls-wrong-name",
  ERR_SSL_WRONG_VERSION_NUMBER: "tls-failed",
  EPROTO: "tls-failed",
};

/** The shapes SDKs wrap a socket error in: cause chains, AggregateError, axios/gaxios/RestError-likes. */
type Wrap = (inner: unknown) => unknown;
const WRAPS: readonly Wrap[] = [
  (inner) => new Error("request failed", { cause: inner }),
  (inner) => new AggregateError([new Error("first address"), inner], "all addresses failed"),
  (inner) => Object.assign(new Error("AxiosError"), { code: "ERR_NETWORK_WRAPPED", cause: inner }),
  (inner) =>
    Object.assign(new Error("RestError"), { name: "RestError", code: "REQUEST_SEND_ERROR", cause: inner }),
  (inner) => ({ name: "GaxiosError", message: "gaxios", cause: inner }),
  (inner) => Object.assign(new TypeError("fetch failed"), { cause: inner }),
];

function nodeError(code: string, host?: string): Error {
  return Object.assign(new Error(`${code} while talking`), {
    code,
    ...(host === undefined ? {} : { hostname: host }),
  });
}

/** The rule's other codes (siblings of CODES), so that random strings never hit one by chance. */
const NOT_LISTED_HERE = new Set([
  "EAI_NONAME",
  "ECANCELED",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ESOCKETTIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "EHOSTDOWN",
  "HOSTNAME_MISMATCH",
  "UNABLE_TO_GET_ISSUER_CERT",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
]);

const arbitraryWrapping = fc.array(fc.integer({ min: 0, max: WRAPS.length - 1 }), { maxLength: 6 });

describe("R18: one classification of network and TLS failures", () => {
  it("R18: every listed code, however deeply an SDK wraps it, gets its kind's code, retry decision and hint", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(CODES)),
        arbitraryWrapping,
        fc.domain(),
        (code, wrapping, host) => {
          const error = wrapping.reduce<unknown>(
            (inner, i) => (WRAPS[i] as Wrap)(inner),
            nodeError(code, host),
          );
          const kind = CODES[code] as NetworkFailureKind;
          expect(networkFailureOf(error)).toEqual({ kind, code, host });
          const mapped = networkError(error, { where: "p: reading x" });
          expect(mapped?.exitCode).toBe(EXIT_CODE.FETCH_FAILED);
          expect(mapped?.transient).toBe(KINDS[kind].transient);
          expect(mapped?.hint).toBe(KINDS[kind].hint);
          expect(mapped?.message).toBe(`p: reading x: ${host}: ${KINDS[kind].headline} (${code})`);
        },
      ),
    );
  });

  it("R18: the decision table: a missing name and TLS are not retried; silence, refusal and resets are", () => {
    const retried = Object.entries(KINDS)
      .filter(([, rule]) => rule.transient)
      .map(([kind]) => kind)
      .sort();
    expect(retried).toEqual(["broken", "refused", "resolver-unavailable", "timed-out", "unreachable"]);
    for (const rule of Object.values(KINDS)) {
      expect(rule.hint).toContain(rule.transient ? "retries until --timeout" : "does not retry");
    }
  });

  it("R18: a provider's own endpoint wins over what the error names; with neither, no host is invented", () => {
    const error = new Error("x", { cause: nodeError("ECONNRESET") });
    expect(networkError(error, { where: "w", endpoint: "https://vault:8200" })?.message).toBe(
      "w: https://vault:8200: the connection broke off (ECONNRESET)",
    );
    expect(networkError(error, { where: "w" })?.message).toBe("w: the connection broke off (ECONNRESET)");
  });

  it("R18: anything else (HTTP answers, service codes, unknown strings) is left to the provider", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom(
            "SecretNotFound",
            "ERR_BAD_RESPONSE",
            "REQUEST_SEND_ERROR",
            "CertificateNotFound",
            "ENOENT",
          ),
          fc.integer(),
        ),
        arbitraryWrapping,
        (code, wrapping) => {
          fc.pre(typeof code !== "string" || !(Object.hasOwn(CODES, code) || NOT_LISTED_HERE.has(code)));
          fc.pre(
            typeof code !== "string" || !/^(ERR_SSL_|ERR_TLS_|ERR_OSSL_|EPROTO$|(ERR_)?CERT_)/.test(code),
          );
          const error = wrapping.reduce<unknown>(
            (inner, i) => (WRAPS[i] as Wrap)(inner),
            Object.assign(new Error("status 404"), { code, statusCode: 404 }),
          );
          expect(networkFailureOf(error)).toBeUndefined();
        },
      ),
    );
  });

  it("R18: a cyclic or endless cause chain is walked a bounded number of links", () => {
    const a: { cause?: unknown } = {};
    const b = { cause: a };
    a.cause = b;
    expect(causeChain(a)).toHaveLength(2);
    let deep: unknown = nodeError("ECONNREFUSED");
    for (let i = 0; i < 1000; i++) deep = new Error("wrap", { cause: deep });
    expect(causeChain(deep).length).toBeLessThanOrEqual(32);
    expect(networkFailureOf(deep)).toBeUndefined();
  });

  it("R18: Node's own wording is read only where an SDK kept nothing else (fromMessage)", () => {
    const table: readonly [string, string, NetworkFailureKind, string | undefined][] = [
      [
        "Error: getaddrinfo ENOTFOUND creds.example.invalid",
        "ENOTFOUND",
        "name-unknown",
        "creds.example.invalid",
      ],
      ["Error: connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED", "refused", "127.0.0.1:1"],
      ["Error: read ECONNRESET", "ECONNRESET", "broken", undefined],
      ["Error: socket hang up", "ECONNRESET", "broken", undefined],
      ["Error: self-signed certificate", "DEPTH_ZERO_SELF_SIGNED_CERT", "tls-untrusted", undefined],
      ["Error: certificate has expired", "CERT_HAS_EXPIRED", "tls-expired", undefined],
      [
        "Error: Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
        "ERR_TLS_CERT_ALTNAME_INVALID",
        "tls-wrong-name",
        undefined,
      ],
    ];
    for (const [message, code, kind, host] of table) {
      const folded = { name: "CredentialsProviderError", message };
      expect(networkFailureOf(folded), message).toBeUndefined();
      expect(networkFailureOf(folded, true), message).toEqual({ kind, code, host });
    }
  });

  it("a body cut off after the headers, in the HTTP client's own words, is a broken connection (fromMessage)", () => {
    const table: readonly [object, string][] = [
      [Object.assign(new Error("stream has been aborted"), { code: "ERR_BAD_RESPONSE" }), "ERR_BAD_RESPONSE"],
      [
        Object.assign(new Error("Error reading response as text: aborted"), {
          name: "RestError",
          code: "PARSE_ERROR",
        }),
        "PARSE_ERROR",
      ],
    ];
    for (const [error, code] of table) {
      expect(networkFailureOf(error), code).toBeUndefined();
      expect(networkFailureOf(error, true), code).toEqual({ kind: "broken", code, host: undefined });
    }
    // The same codes for other failures (axios's size limit, a body that is not JSON) are not network.
    const limit = Object.assign(new Error("maxContentLength size of 10 exceeded"), {
      code: "ERR_BAD_RESPONSE",
    });
    expect(networkFailureOf(limit, true)).toBeUndefined();
  });

  it("R18: real sockets: a refused port, a reset and each broken certificate classify as their kind", async () => {
    const pki = createTestPki();
    const failures: [string, NetworkFailureKind][] = [];
    const attempt = (open: () => import("node:events").EventEmitter): Promise<unknown> =>
      new Promise((resolve) => {
        const emitter = open();
        emitter.once("error", resolve);
        emitter.once("secureConnect", () => resolve(undefined));
        emitter.once("response", () => resolve(undefined));
      });
    const httpGet = (port: number) => () => get({ host: "127.0.0.1", port, path: "/" });
    const closed = await TestServer.start({ handler: () => ({ status: 200 }) });
    const port = closed.port;
    await closed.close();
    failures.push([String(networkFailureOf(await attempt(httpGet(port)))?.kind), "refused"]);
    const reset = await TestServer.start({ handler: () => ({ status: 200 }) });
    reset.script(() => true, [{ kind: "reset" }], { forever: true });
    failures.push([String(networkFailureOf(await attempt(httpGet(reset.port)))?.kind), "broken"]);
    await reset.close();
    for (const [cert, kind, ca] of [
      [pki.selfSigned, "tls-untrusted", undefined],
      [pki.wrongName, "tls-wrong-name", pki.caPem],
      [pki.expired, "tls-expired", pki.caPem],
    ] as const) {
      const server = await TestServer.start({ handler: () => ({ status: 200 }), tls: cert });
      const error = await attempt(() =>
        tlsConnect({ port: server.port, host: "127.0.0.1", ...(ca === undefined ? {} : { ca }) }),
      );
      failures.push([String(networkFailureOf(error)?.kind), kind]);
      await server.close();
    }
    expect(failures.map(([got]) => got)).toEqual(failures.map(([, want]) => want));
    rmSync(pki.dir, { recursive: true, force: true });
  });
});

describe("R18: clock skew", () => {
  it("R18: each vendor's wording of a rejected time is recognised; unrelated auth texts are not", () => {
    for (const text of [
      "Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z (20260101T001500Z - 5 min.)",
      "RequestTimeTooSkewed",
      "The difference between the request time and the current time is too large. (request time too skewed)",
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
      "AADSTS700024: Client assertion is not within its valid time range.",
    ]) {
      expect(mentionsClockSkew(text), text).toBe(true);
    }
    for (const text of [
      "The security token included in the request is invalid.",
      "The request signature we calculated does not match the signature you provided.",
      "invalid_client: AADSTS7000215: Invalid client secret provided.",
      undefined,
    ]) {
      expect(mentionsClockSkew(text), String(text)).toBe(false);
    }
  });

  it("R18: a skew error is 77, never retried, and its hint names the clock", () => {
    const error = clockSkewError("awssecrets: x", "RequestTimeTooSkewed");
    expect([error.exitCode, error.transient, error.hint]).toEqual([77, false, CLOCK_SKEW_HINT]);
    expect(error.hint).toMatch(/clock/);
  });
});

describe("R18: one reading of Retry-After for every provider", () => {
  const NOW = Date.parse("2026-12-06T00:00:00Z");
  it("R18: delay-seconds, HTTP-dates and Azure's millisecond headers, in every header shape the SDKs use", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 86_400 }),
        fc.constantFrom("record", "headers", "axios-like"),
        (seconds, shape) => {
          const raw: Record<string, string> = { "retry-after": String(seconds) };
          const headers =
            shape === "record"
              ? raw
              : shape === "headers"
                ? new Headers(raw)
                : { get: (name: string): unknown => raw[name.toLowerCase()] };
          expect(retryAfterMs(headerReader(headers), NOW)).toBe(seconds * 1000);
          const date = new Date(NOW + seconds * 1000).toUTCString();
          expect(retryAfterMs(headerReader({ "retry-after": date }), NOW)).toBe(seconds * 1000);
          expect(
            retryAfterMs(headerReader({ "retry-after": "999", "x-ms-retry-after-ms": String(seconds) }), NOW),
          ).toBe(seconds);
        },
      ),
    );
  });

  it("R18: a malformed or absent value is ignored (backoff applies), a date in the past is no wait", () => {
    for (const value of [undefined, "", "soon", "-5", "1e3", "0x10"]) {
      const headers = value === undefined ? {} : { "retry-after": value };
      expect(retryAfterMs(headerReader(headers), NOW), String(value)).toBeUndefined();
    }
    expect(retryAfterMs(headerReader({ "retry-after": "Thu, 01 Jan 2026 00:00:00 GMT" }), NOW)).toBe(0);
    expect(retryAfterMs(headerReader({ get: () => 5 }), NOW)).toBeUndefined();
  });
});
