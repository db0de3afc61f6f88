// The Vault provider's writes (ref+vault://PATH?write=JSON, vault-env's >>vault:) with the real
// node-vault over real HTTP against the fake Vault's PKI engine, through the core's retry layer: one
// write per path and body, and never a second write once the first may have reached Vault.
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import { SecretwrapError } from "../../src/errors.ts";
import type { Fetched, Session } from "../../src/provider-api.ts";
import { withRetry, type RetryPolicy } from "../../src/retry.ts";
import { canary } from "../helpers/canary.ts";
import { providerContext, type TestContext } from "../helpers/context.ts";
import { providerUnderTest } from "../helpers/provider-under-test.ts";
import { TestServer } from "../servers/harness.ts";
import { FakeVault, vaultError, type IssuedCertificate } from "../servers/vault.ts";

// The source, or the built bundle with SECRETWRAP_TEST_PROVIDERS_FROM (scripts/test.mjs runs both).
const provider = await providerUnderTest("vault");

const FAST: RetryPolicy = { attemptTimeoutMs: 400, baseDelayMs: 20, maxDelayMs: 200, random: () => 0.5 };
const ISSUE = "pki/issue/web";
const body = (commonName: string): string => encodeURIComponent(JSON.stringify({ common_name: commonName }));
const refTo = (key: string, commonName = "web.internal"): string =>
  `ref+vault://${ISSUE}?write=${body(commonName)}#${key}`;

let vault: FakeVault;
let issued: readonly IssuedCertificate[];
let token: string;

beforeAll(async () => {
  vault = await FakeVault.start();
  issued = vault.mountPki("pki");
  token = await vault.createToken(["pki/issue/*"]);
});
afterAll(() => vault.close());

function deadline(ms: number) {
  return { signal: AbortSignal.timeout(ms), deadlineAt: performance.now() + ms };
}

async function connect(h: TestContext): Promise<Session> {
  return withRetry("vault login", (signal) => provider.connect({}, h.ctx, signal), deadline(5_000), FAST);
}

/** One fetch as resolve.ts makes it: the core's retry layer around session.fetch. */
function fetch(session: Session, raw: string, ms = 5_000): Promise<Fetched> {
  return withRetry(raw, (signal) => session.fetch(parseRef(raw), signal), deadline(ms), FAST);
}

function value(fetched: Fetched, key: string): unknown {
  return (JSON.parse(Buffer.from(fetched.bytes).toString("utf8")) as Record<string, unknown>)[key];
}

async function failure(promise: Promise<unknown>): Promise<SecretwrapError> {
  const error: unknown = await promise.then(
    () => new Error("expected a failure"),
    (e: unknown) => e,
  );
  if (!(error instanceof SecretwrapError)) throw error;
  return error;
}

const writes = (): number => vault.count(ISSUE, "POST");

describe("vault writes (?write)", () => {
  it("two keys of one issue, fetched at once or one after the other, come from exactly one write", async () => {
    const h = providerContext({ VAULT_ADDR: vault.url, VAULT_TOKEN: token });
    const session = await connect(h);
    const before = writes();
    const issuedBefore = issued.length;
    try {
      const [cert, key] = await Promise.all([
        fetch(session, refTo("certificate")),
        fetch(session, refTo("private_key")),
      ]);
      const serial = await fetch(session, refTo("serial_number"));
      expect(writes() - before).toBe(1);
      expect(issued.length - issuedBefore).toBe(1);
      const one = issued[issued.length - 1] as IssuedCertificate;
      expect([value(cert, "certificate"), value(key, "private_key"), value(serial, "serial_number")]).toEqual(
        [one.certificate, one.private_key, one.serial_number],
      );
      // The body sent is the one in the reference.
      expect(JSON.parse(vault.calls(ISSUE, "POST").at(-1)?.body ?? "")).toEqual({
        common_name: "web.internal",
      });
      // Every value of the answer is masked, the private key first of all; no log line holds it.
      expect(h.masked).toContain(one.private_key);
      expect(h.logs.join("\n")).not.toContain(one.private_key);
      // Another body is another write.
      await fetch(session, refTo("certificate", "api.internal"));
      expect(writes() - before).toBe(2);
    } finally {
      await session.close();
    }
  });

  it.each([
    ["a 500", vaultError(500, "internal error")],
    [
      "a 502 from a proxy",
      { kind: "reply" as const, reply: { status: 502, body: "<html>bad gateway</html>" } },
    ],
    ["a reset after the request arrived", { kind: "reset" as const }],
    ["a reset in the middle of the answer", { kind: "resetAfterBytes" as const, bytes: 20 }],
    ["a hang (the attempt times out)", { kind: "hang" as const }],
  ])(
    "%s: not sent again (69, with what to check), and the run's later fetches get the same failure",
    async (_what, fault) => {
      const leak = canary("ERRBODY");
      const session = await connect(providerContext({ VAULT_ADDR: vault.url, VAULT_TOKEN: token }));
      vault.server.clearFaults();
      vault.server.script(
        (r) => r.path.startsWith(`/v1/${ISSUE}`),
        [
          fault.kind === "reply" && fault.reply.status === 500
            ? vaultError(500, `internal error ${leak}`)
            : fault,
        ],
      );
      const before = writes();
      try {
        const error = await failure(fetch(session, refTo("certificate")));
        expect([error.code, error.exitCode, error.transient]).toEqual(["FETCH_FAILED", 69, false]);
        expect(error.message).toContain("not sent again");
        expect(error.hint).toMatch(/may have reached Vault/);
        expect(`${error.message}\n${error.hint}`).not.toContain(leak);
        // The second key of the same issue: no new request either.
        const again = await failure(fetch(session, refTo("private_key")));
        expect(again.message).toBe(error.message);
        expect(writes() - before).toBe(1);
      } finally {
        vault.server.clearFaults();
        await session.close();
      }
    },
  );

  it("Vault's refusals (4xx) did nothing: 429 is retried, 403 is ACCESS_DENIED with the capability to grant", async () => {
    const session = await connect(providerContext({ VAULT_ADDR: vault.url, VAULT_TOKEN: token }));
    const before = writes();
    const issuedBefore = issued.length;
    try {
      vault.server.script(
        (r) => r.path.startsWith(`/v1/${ISSUE}`),
        [{ kind: "reply", reply: { status: 429, body: { errors: ["rate limit quota exceeded"] } } }],
      );
      const cert = await fetch(session, refTo("certificate"));
      expect(value(cert, "certificate")).toBe(issued.at(-1)?.certificate);
      expect([writes() - before, issued.length - issuedBefore]).toEqual([2, 1]);
      vault.server.script((r) => r.path.startsWith(`/v1/${ISSUE}`), [vaultError(403, "permission denied")]);
      const denied = await failure(fetch(session, refTo("certificate", "denied.internal")));
      expect([denied.code, denied.exitCode]).toEqual(["ACCESS_DENIED", 77]);
      expect(denied.hint).toContain('path "pki/issue/web" { capabilities = ["update"] }');
    } finally {
      vault.server.clearFaults();
      await session.close();
    }
  });

  it("an answer without data is SECRET_NOT_FOUND; a 400 (no common_name) is not retried", async () => {
    const session = await connect(providerContext({ VAULT_ADDR: vault.url, VAULT_TOKEN: token }));
    const before = writes();
    try {
      const bad = await failure(fetch(session, `ref+vault://${ISSUE}?write=%7B%7D#certificate`));
      expect([bad.code, bad.transient]).toEqual(["FETCH_FAILED", false]);
      expect(writes() - before).toBe(1);
      vault.server.script(
        (r) => r.path.startsWith(`/v1/${ISSUE}`),
        [{ kind: "reply", reply: { status: 204 } }],
      );
      const empty = await failure(fetch(session, refTo("certificate", "empty.internal")));
      expect(empty.code).toBe("SECRET_NOT_FOUND");
    } finally {
      vault.server.clearFaults();
      await session.close();
    }
  });

  it("a refused connection never reached Vault: retried, and the write is made once when Vault is back", async () => {
    const probe = await TestServer.start({ handler: () => ({ status: 200 }) });
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const vaultPort = Number(new URL(vault.url).port);
    const sockets = new Set<Socket>();
    let forwarder: Server | undefined;
    const session = await connect(
      providerContext({ VAULT_ADDR: `http://127.0.0.1:${port}`, VAULT_TOKEN: token }),
    );
    const before = writes();
    const issuedBefore = issued.length;
    // Vault comes up on that port (a TCP forwarder to the fake) while the fetch is retrying.
    const opening = new Promise<void>((resolve) =>
      setTimeout(() => {
        forwarder = createServer((client) => {
          const upstream = tcpConnect(vaultPort, "127.0.0.1");
          sockets.add(client).add(upstream);
          client.pipe(upstream).pipe(client);
          client.on("error", () => upstream.destroy());
          upstream.on("error", () => client.destroy());
        }).listen(port, "127.0.0.1", resolve);
      }, 300),
    );
    try {
      const cert = await fetch(session, refTo("certificate", "late.internal"));
      await opening;
      expect(value(cert, "certificate")).toBe(issued.at(-1)?.certificate);
      expect([writes() - before, issued.length - issuedBefore]).toEqual([1, 1]);
    } finally {
      await session.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) =>
        forwarder === undefined ? resolve(undefined) : forwarder.close(resolve),
      );
    }
  });
});
