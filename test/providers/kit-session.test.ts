// What providers/kit gives every SDK provider for one session: the transient HTTP statuses, the extra
// CA, the keyed client cache, and process.env written only for the session's life.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { httpsAgent } from "../../providers/kit/agents.ts";
import { ClientCache } from "../../providers/kit/client-cache.ts";
import { trustExtraCa } from "../../providers/kit/extra-ca.ts";
import { isTransientStatus } from "../../providers/kit/http-status.ts";
import { overrideProcessEnv } from "../../providers/kit/process-env.ts";
import { SecretwrapError } from "../../src/errors.ts";
import { createTestPki } from "../servers/tls.ts";

const dir = mkdtempSync(join(tmpdir(), "secretwrap-kit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("providers/kit", () => {
  it("408, 429 and every 5xx are transient; other statuses are the service's to map", () => {
    for (const status of [408, 429, 500, 502, 503, 504, 599])
      expect(isTransientStatus(status), `${status}`).toBe(true);
    for (const status of [200, 301, 400, 401, 403, 404, 409, 412, 499])
      expect(isTransientStatus(status), `${status}`).toBe(false);
  });

  it("an extra CA is read once into TLS options; a file that is not a PEM certificate is 78 naming it", () => {
    expect(trustExtraCa(undefined, "p")).toBeUndefined();
    const pki = createTestPki();
    try {
      const ca = trustExtraCa(pki.caFile, "p");
      expect(ca?.secureContext).toBeDefined();
      const agent = httpsAgent(ca);
      expect([agent.options.rejectUnauthorized, agent.options.keepAlive]).toEqual([true, true]);
      agent.destroy();
    } finally {
      rmSync(pki.dir, { recursive: true, force: true });
    }
    const notPem = join(dir, "not-a-ca.txt");
    writeFileSync(notPem, "hello");
    const failure = (() => {
      try {
        trustExtraCa(notPem, "p");
      } catch (error) {
        return error as SecretwrapError;
      }
      return undefined;
    })();
    expect(failure).toBeInstanceOf(SecretwrapError);
    expect([failure?.code, failure?.message]).toEqual([
      "CONFIG_INVALID",
      `p: CA file ${notPem} holds no PEM certificate`,
    ]);
    expect(() => trustExtraCa(dir, "p")).toThrow(`p: CA file ${dir} `);
  });

  it("the client cache makes one client per key, on first use, and lists them for close()", () => {
    const made: string[] = [];
    const cache = new ClientCache((key) => {
      made.push(key);
      return { key };
    });
    expect(cache.all()).toEqual([]);
    const a = cache.get("eu-west-1");
    expect(cache.get("eu-west-1")).toBe(a);
    cache.get("us-east-1");
    expect(made).toEqual(["eu-west-1", "us-east-1"]);
    expect(cache.all().map((c) => c.key)).toEqual(["eu-west-1", "us-east-1"]);
    // Two sessions never share a client.
    expect(new ClientCache((key) => ({ key })).get("eu-west-1")).not.toBe(a);
  });

  it("process.env is written only until the restore, which puts back each value (or its absence) once", () => {
    const set = "SECRETWRAP_KIT_TEST_SET";
    const unset = "SECRETWRAP_KIT_TEST_UNSET";
    process.env[set] = "before";
    delete process.env[unset];
    const restore = overrideProcessEnv({ [set]: undefined, [unset]: "during" });
    expect([process.env[set], process.env[unset]]).toEqual([undefined, "during"]);
    restore();
    expect([process.env[set], process.env[unset]]).toEqual(["before", undefined]);
    process.env[set] = "changed later";
    restore();
    expect(process.env[set]).toBe("changed later");
    delete process.env[set];
  });
});
