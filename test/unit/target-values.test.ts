// What each target receives when a secret is missing: `default:` stands in for an optional secret that
// does not exist (404), and for nothing else: every other failure still fails the run (no fail-open).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import { EXIT_CODE, SecretwrapError, type ErrorCode } from "../../src/errors.ts";
import type { Plan, Target } from "../../src/plan.ts";
import { Redactor } from "../../src/redact.ts";
import type { FetchOutcome } from "../../src/resolve.ts";
import { targetValues } from "../../src/target-values.ts";

const ref = parseRef("ref+file:///missing");
const target = (extra: Partial<Target>): Target => ({
  name: "DB_HOST",
  ref,
  key: ref.raw,
  output: { kind: "env" },
  optional: true,
  source: "secretwrap.yaml",
  ...extra,
});
const planOf = (t: Target): Plan => ({ fetches: new Map([[ref.raw, ref]]), targets: [t], schemes: [] });
const failed = (code: ErrorCode): Map<string, FetchOutcome> =>
  new Map([[ref.raw, { ok: false, error: new SecretwrapError(code, `${code} happened`), abandoned: false }]]);

describe("optional secrets with a default", () => {
  it("a secret that does not exist gives the default, reported as absent with its default used", () => {
    const result = targetValues(
      planOf(target({ default: "localhost" })),
      failed("SECRET_NOT_FOUND"),
      "run",
      new Redactor(),
    );
    expect(result.failures).toEqual([]);
    expect(Buffer.from(result.values.get("DB_HOST") ?? []).toString()).toBe("localhost");
    expect(result.reports[0]).toMatchObject({ status: "absent", defaulted: true });
  });

  it("without a default the target is simply absent", () => {
    const result = targetValues(planOf(target({})), failed("SECRET_NOT_FOUND"), "run", new Redactor());
    expect(result.values.has("DB_HOST")).toBe(false);
    expect(result.reports[0]?.defaulted).toBeUndefined();
  });

  it("every other failure fails the run, default or not (authentication, permission, network, timeout…)", () => {
    const others = (Object.keys(EXIT_CODE) as ErrorCode[]).filter((c) => c !== "SECRET_NOT_FOUND");
    fc.assert(
      fc.property(fc.constantFrom(...others), fc.string(), fc.boolean(), (code, fallback, optional) => {
        const result = targetValues(
          planOf(target({ default: fallback, optional })),
          failed(code),
          "run",
          new Redactor(),
        );
        expect(result.values.has("DB_HOST")).toBe(false);
        expect(result.failures.map((f) => f.code)).toEqual([code]);
      }),
    );
  });

  it("a default that cannot be an environment value (a NUL) fails like a fetched one would", () => {
    const result = targetValues(
      planOf(target({ default: "a\0b" })),
      failed("SECRET_NOT_FOUND"),
      "run",
      new Redactor(),
    );
    expect(result.values.has("DB_HOST")).toBe(false);
    expect(result.failures.map((f) => f.code)).toEqual(["VALUE_UNUSABLE"]);
  });

  it("a required secret never takes a default, even if one slipped through", () => {
    const result = targetValues(
      planOf(target({ default: "localhost", optional: false })),
      failed("SECRET_NOT_FOUND"),
      "run",
      new Redactor(),
    );
    expect(result.values.has("DB_HOST")).toBe(false);
    expect(result.failures.map((f) => f.code)).toEqual(["SECRET_NOT_FOUND"]);
  });
});
