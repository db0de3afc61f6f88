// A template renders only when every reference it uses resolved and every filter took its value: any
// other outcome (each failure code, a missing #field, a refused value, a fetch given up) leaves it
// without bytes and fails the run, and no report or failure holds a value. Filtered forms of the values
// are known to the redactor.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fetchKey, parseRef } from "../../src/config/ref.ts";
import { SecretwrapError, type ErrorCode } from "../../src/errors.ts";
import type { Plan, PlannedTemplate } from "../../src/plan.ts";
import { Redactor } from "../../src/redact.ts";
import type { FetchOutcome } from "../../src/resolve.ts";
import { targetValues } from "../../src/target-values.ts";
import { parseTemplate } from "../../src/template/parse.ts";
import { referencesOf } from "../../src/template/render.ts";

const SOURCE = [
  'user={{ ref "ref+file://./db.json#user" }}',
  'pass={{ ref "ref+file://./db.json#password" | base64 }}',
  'key={{ ref "ref+file://./key" | json }}',
].join("\n");

function planned(source = SOURCE): Plan {
  const parsed = parseTemplate(source);
  if ("problems" in parsed) throw new Error("template");
  const refs = referencesOf(parsed.template).map((ref) => ({ ref, key: fetchKey(ref) }));
  const template: PlannedTemplate = {
    name: "template:app.conf",
    template: parsed.template,
    fileName: "app.conf",
    mode: 0o400,
    refs,
    source: "secretwrap.yaml templates[0]",
  };
  return {
    fetches: new Map(refs.map((r) => [r.key, r.ref])),
    targets: [],
    schemes: ["file"],
    templates: [template],
  };
}

const DB = fetchKey(parseRef("ref+file://./db.json"));
const KEY = fetchKey(parseRef("ref+file://./key"));
const ok = (value: string | Uint8Array): FetchOutcome => ({
  ok: true,
  fetched: { bytes: typeof value === "string" ? Buffer.from(value) : value },
  durationMs: 1,
});

describe("a template's values", () => {
  it("renders from every reference's selected value", () => {
    const result = targetValues(
      planned(),
      new Map([
        [DB, ok('{"user":"app","password":"s3cr3t-pw"}')],
        [KEY, ok("k-1")],
      ]),
      "run",
      new Redactor(),
    );
    expect(result.failures).toEqual([]);
    expect(Buffer.from(result.values.get("template:app.conf") ?? []).toString()).toBe(
      `user=app\npass=${Buffer.from("s3cr3t-pw").toString("base64")}\nkey="k-1"`,
    );
    expect(result.reports).toEqual([
      {
        name: "template:app.conf",
        provider: "file",
        ref: "ref+file://./db.json#user ref+file://./db.json#password ref+file://./key",
        refs: ["ref+file://./db.json#user", "ref+file://./db.json#password", "ref+file://./key"],
        target: "file:app.conf",
        version: undefined,
        durationMs: 1,
        status: "ok",
      },
    ]);
  });

  const codes: ErrorCode[] = [
    "SECRET_NOT_FOUND",
    "ACCESS_DENIED",
    "AUTH_FAILED",
    "FETCH_FAILED",
    "FETCH_TIMEOUT",
  ];
  it("fails closed for every other outcome, and no failure or report holds a value", () => {
    const outcome = fc.oneof(
      fc.constantFrom(...codes).map((code): FetchOutcome => ({
        ok: false,
        error: new SecretwrapError(code, `${code} happened`),
        abandoned: false,
      })),
      fc.constant<FetchOutcome>({
        ok: false,
        error: new SecretwrapError("FETCH_FAILED", "gave up"),
        abandoned: true,
      }),
      // no #password key, not JSON, a value json cannot carry
      fc.constant("DB_WITHOUT_PASSWORD"),
      fc.constant("KEY_NOT_UTF8"),
    );
    fc.assert(
      fc.property(outcome, fc.boolean(), fc.string({ minLength: 6 }), (broken, dbBroken, canaryText) => {
        const secret = `CANARY-${canaryText}`;
        const db =
          broken === "DB_WITHOUT_PASSWORD"
            ? ok(JSON.stringify({ user: secret }))
            : dbBroken && typeof broken !== "string"
              ? broken
              : ok(JSON.stringify({ user: "app", password: secret }));
        const key =
          broken === "KEY_NOT_UTF8"
            ? ok(Buffer.concat([Buffer.from(secret), Buffer.from([0xff])]))
            : !dbBroken && typeof broken !== "string"
              ? broken
              : ok(secret);
        const result = targetValues(
          planned(),
          new Map([
            [DB, db],
            [KEY, key],
          ]),
          "run",
          new Redactor(),
        );
        expect(result.values.has("template:app.conf")).toBe(false);
        expect(result.failures.length + result.notFetched.length).toBeGreaterThan(0);
        expect(result.reports[0]?.status).toBe("failed");
        const said = JSON.stringify([
          result.reports,
          result.failures.map((f) => [f.message, f.hint, f.subject]),
        ]);
        expect(said).not.toContain(secret);
      }),
      { numRuns: 500 },
    );
  });

  it("the redactor knows each inserted form of a value (base64, JSON-escaped) as well as the value", () => {
    const redactor = new Redactor();
    const password = 'pw"with\\quotes-and-more';
    targetValues(
      planned(),
      new Map([
        [DB, ok(JSON.stringify({ user: "app", password }))],
        [KEY, ok("k\nnewline-value")],
      ]),
      "run",
      redactor,
    );
    const b64 = Buffer.from(password).toString("base64");
    expect(redactor.mask(`a ${b64} b`)).toBe("a [REDACTED] b");
    expect(redactor.mask(`a ${password} b`)).toBe("a [REDACTED] b");
  });
});
