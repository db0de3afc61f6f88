// Every key of a secret (src/expand-name.ts, src/expand.ts through target-values.ts): the naming rule,
// every way a key can fail to become a target (each fails the declaration; none is dropped), and
// properties over hostile keys: names are always valid and distinct, a collision is always 78, and
// no value ever shows in a message.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import { SecretwrapError } from "../../src/errors.ts";
import { expandedTarget, nameOfKey, parsePattern, patternOf, prefixProblems } from "../../src/expand-name.ts";
import { requireAll } from "../../src/commands/steps.ts";
import { collectPlan, type Declaration } from "../../src/plan.ts";
import { Redactor } from "../../src/redact.ts";
import type { FetchOutcome } from "../../src/resolve.ts";
import { targetValues, type DeliveryMode } from "../../src/target-values.ts";

describe("the name a key gives", () => {
  it.each([
    ["user", "DB_USER"],
    ["password", "DB_PASSWORD"],
    ["db-password", "DB_DB_PASSWORD"],
    ["api.key", "DB_API_KEY"],
    ["Api Key", "DB_API_KEY"],
    ["1st", "DB_1ST"],
    ["__proto__", "DB___PROTO__"],
    ["constructor", "DB_CONSTRUCTOR"],
    ["straße", "DB_STRASSE"],
    ["café", "DB_CAF_"],
    ["😀", "DB__"],
    ["a\nb", "DB_A_B"],
    ["ALREADY_UPPER_9", "DB_ALREADY_UPPER_9"],
  ])("key %j → %s", (key, name) => {
    expect(expandedTarget({ prefix: "DB_", files: false }, key)).toEqual({ name });
  });

  it("with files, the key's file is named after the name and the variable is NAME_FILE", () => {
    expect(expandedTarget({ prefix: "DB_", files: true }, "db-user")).toEqual({
      name: "DB_DB_USER_FILE",
      fileName: "DB_DB_USER",
    });
  });

  it("the part a key gives is [A-Z0-9_]+ for every non-empty key", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 30 }), (key) => {
        expect(nameOfKey(key)).toMatch(/^[A-Z0-9_]+$/);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("patterns and prefixes", () => {
  it.each([
    ["DB_*", { prefix: "DB_", files: false }],
    ["DB_*_FILE", { prefix: "DB_", files: true }],
    ["*", { prefix: "", files: false }],
    ["DB_*X", undefined],
    ["DB_**", undefined],
    ["DB_", undefined],
  ])("env-file name %j", (name, expansion) => {
    expect(parsePattern(name)).toEqual(expansion);
    if (expansion !== undefined) expect(patternOf(expansion)).toBe(name);
  });

  it.each([
    ["", /needs a prefix/],
    ["1DB_", /valid start of a variable name/],
    ["DB-", /valid start of a variable name/],
    ["SECRETWRAP_", /secretwrap's own settings/],
  ])("prefix %j is refused", (prefix, message) => {
    expect(prefixProblems(prefix).join()).toMatch(message);
  });

  it.each(["DB_", "db", "_", "A1"])("prefix %j is fine", (prefix) => {
    expect(prefixProblems(prefix)).toEqual([]);
  });

  it("a prefix that makes every name load code (LD_*) is refused before any fetch", () => {
    const { problems } = collectPlan([expandDeclaration("LD_")]);
    expect(problems.map((p) => p.message).join()).toMatch(/changes how programs load code/);
    expect(problems[0]?.exitCode).toBe(78);
  });

  it("a prefix of a provider's settings is refused before any fetch", () => {
    const { problems } = collectPlan([expandDeclaration("VAULT_", "ref+vault://secret/app")]);
    expect(problems.map((p) => p.message).join()).toMatch(/the vault provider reads itself/);
  });

  it("two expansions with one prefix are declared twice", () => {
    const { problems } = collectPlan([expandDeclaration("DB_"), expandDeclaration("DB_")]);
    expect(problems.map((p) => p.message).join()).toMatch(/DB_\* is declared twice/);
  });
});

const SECRET = "ref+file:///db.json";

function expandDeclaration(prefix: string, raw = SECRET, extra: Partial<Declaration> = {}): Declaration {
  const expand = { prefix, files: extra.expand?.files ?? false };
  return {
    name: patternOf(expand),
    ref: parseRef(raw),
    optional: false,
    source: "secretwrap.yaml",
    expand,
    ...extra,
  };
}

function plain(name: string, raw: string, extra: Partial<Declaration> = {}): Declaration {
  return { name, ref: parseRef(raw), optional: false, source: ".env:2", ...extra };
}

/** Each reference's fetched text (a missing one: not found). */
function resolve(
  declarations: readonly Declaration[],
  texts: Readonly<Record<string, string>>,
  options: { mode?: DeliveryMode; allowed?: readonly string[] } = {},
) {
  const mode = options.mode ?? "run";
  const { plan, problems } = collectPlan(declarations, new Set(options.allowed ?? []), {
    envTargetsAreFiles: mode === "render",
  });
  expect(problems).toEqual([]);
  const outcomes = new Map<string, FetchOutcome>();
  for (const [key, ref] of plan.fetches) {
    const text = texts[ref.raw];
    outcomes.set(
      key,
      text === undefined
        ? { ok: false, error: new SecretwrapError("SECRET_NOT_FOUND", "not found"), abandoned: false }
        : { ok: true, fetched: { bytes: Buffer.from(text) }, durationMs: 1 },
    );
  }
  const result = targetValues(plan, outcomes, mode, new Redactor());
  const text = (name: string): string | undefined => {
    const bytes = result.values.get(name);
    return bytes === undefined ? undefined : Buffer.from(bytes).toString();
  };
  return { ...result, text, names: result.plan.targets.map((t) => t.name) };
}

describe("expanding a fetched secret", () => {
  it("one env target per key, sorted by name, each value as #field would give it", () => {
    const object = { user: "alice", port: 5432, ssl: true, opts: { a: [1, "x"] }, list: [1, 2] };
    const result = resolve([expandDeclaration("DB_")], { [SECRET]: JSON.stringify(object) });
    expect(result.failures).toEqual([]);
    expect(result.names).toEqual(["DB_LIST", "DB_OPTS", "DB_PORT", "DB_SSL", "DB_USER"]);
    expect(result.text("DB_USER")).toBe("alice");
    expect(result.text("DB_PORT")).toBe("5432");
    expect(result.text("DB_SSL")).toBe("true");
    expect(result.text("DB_OPTS")).toBe('{"a":[1,"x"]}');
    expect(result.text("DB_LIST")).toBe("[1,2]");
    expect(result.reports.map((r) => [r.name, r.status, r.from, r.target])).toContainEqual([
      "DB_USER",
      "ok",
      "DB_*",
      "env",
    ]);
  });

  it("with files: one file per key named after it, NAME_FILE for the path, the declared mode", () => {
    const result = resolve(
      [expandDeclaration("DB_", SECRET, { expand: { prefix: "DB_", files: true }, mode: "0440" })],
      {
        [SECRET]: '{"user":"alice","pass-word":"p"}',
      },
    );
    expect(result.failures).toEqual([]);
    expect(result.plan.targets.map((t) => [t.name, t.output])).toEqual([
      ["DB_PASS_WORD_FILE", { kind: "file", fileName: "DB_PASS_WORD", mode: 0o440 }],
      ["DB_USER_FILE", { kind: "file", fileName: "DB_USER", mode: 0o440 }],
    ]);
  });

  it.each([
    ["#field", "ref+file:///db.json#db"],
    ["a JSON pointer", "ref+file:///db.json#/app/db"],
  ])("with %s, the object at that field is expanded", (_, raw) => {
    const result = resolve([expandDeclaration("DB_", raw)], {
      [raw]: JSON.stringify({ db: { user: "u" }, app: { db: { user: "u" } }, user: "top" }),
    });
    expect(result.failures).toEqual([]);
    expect(result.names).toEqual(["DB_USER"]);
    expect(result.text("DB_USER")).toBe("u");
  });

  it.each([
    ["an array", "[1,2]"],
    ["a string", '"CANARY_VALUE"'],
    ["a number", "42"],
    ["null", "null"],
    ["invalid JSON", "CANARY_VALUE{"],
    ["text", "CANARY_VALUE"],
  ])("%s is a fetch-class failure (69) that never quotes the value", (_, text) => {
    const result = resolve([expandDeclaration("DB_")], { [SECRET]: text });
    expect(result.values.size).toBe(0);
    expect(result.failures.map((f) => [f.code, f.exitCode])).toEqual([["FIELD_MISSING", 69]]);
    expect(JSON.stringify(result.reports)).not.toContain("CANARY_VALUE");
    expect(result.failures[0]?.message).toMatch(/needs a JSON object/);
  });

  it("a #field that is missing or not an object fails the same way", () => {
    for (const raw of ["ref+file:///db.json#nope", "ref+file:///db.json#user", "ref+file:///db.json#/a/0"]) {
      const result = resolve([expandDeclaration("DB_", raw)], { [raw]: '{"user":"CANARY_VALUE","a":[{}]}' });
      expect(result.failures.map((f) => f.code)).toEqual(["FIELD_MISSING"]);
      expect(result.failures[0]?.message).not.toContain("CANARY_VALUE");
    }
  });

  it("a key whose value is null fails like #field on it (69), naming the key", () => {
    const result = resolve([expandDeclaration("DB_")], { [SECRET]: '{"user":"u","gone":null}' });
    expect(result.values.size).toBe(0);
    expect(result.failures.map((f) => f.code)).toEqual(["FIELD_MISSING"]);
    expect(result.failures[0]?.message).toMatch(/"gone".*null/);
  });

  it("an empty object fails (69), unless the declaration is optional: then no variable, reported absent", () => {
    const failed = resolve([expandDeclaration("DB_")], { [SECRET]: "{}" });
    expect(failed.failures.map((f) => [f.code, f.exitCode])).toEqual([["FIELD_MISSING", 69]]);
    const optional = resolve([expandDeclaration("DB_", SECRET, { optional: true })], { [SECRET]: "{}" });
    expect(optional.failures).toEqual([]);
    expect(optional.values.size).toBe(0);
    expect(optional.reports.map((r) => [r.name, r.status])).toEqual([["DB_*", "absent"]]);
  });

  it("an optional expanded secret that does not exist gives no variable", () => {
    const result = resolve([expandDeclaration("DB_", SECRET, { optional: true })], {});
    expect(result.failures).toEqual([]);
    expect(result.values.size).toBe(0);
    expect(result.reports.map((r) => [r.name, r.status])).toEqual([["DB_*", "absent"]]);
  });
});

describe("a key that cannot become a target fails the declaration with 78 before anything is delivered", () => {
  const OTHER = "ref+file:///other.json";
  const cases: [
    string,
    Declaration[],
    Record<string, string>,
    RegExp,
    { mode?: DeliveryMode; allowed?: string[] }?,
  ][] = [
    [
      "two keys giving one name",
      [expandDeclaration("DB_")],
      { [SECRET]: '{"db-user":"a","DB_USER":"b"}' },
      /keys "db-user" and "DB_USER" give the same name DB_DB_USER/,
    ],
    [
      "keys differing only by punctuation",
      [expandDeclaration("DB_")],
      { [SECRET]: '{"a.b":"1","a-b":"2"}' },
      /keys "a.b" and "a-b" give the same name DB_A_B/,
    ],
    ["an empty key", [expandDeclaration("DB_")], { [SECRET]: '{"":"1","x":"2"}' }, /empty key/],
    [
      "a name another declaration has",
      [expandDeclaration("DB_"), plain("DB_USER", OTHER)],
      { [SECRET]: '{"user":"a"}', [OTHER]: "x" },
      /key "user" gives DB_USER, which is taken by DB_USER, declared in \.env:2/,
    ],
    [
      "a name another expansion gives",
      [expandDeclaration("DB_"), expandDeclaration("DB_U", OTHER)],
      { [SECRET]: '{"user":"a"}', [OTHER]: '{"ser":"b"}' },
      /key "ser" gives DB_USER, which is taken by key "user" of DB_\*/,
    ],
    [
      "a name that loads code",
      [expandDeclaration("PAT")],
      { [SECRET]: '{"h":"/tmp"}' },
      /PATH changes how programs load code/,
    ],
    [
      "a name starting like a loader variable",
      [expandDeclaration("L")],
      { [SECRET]: '{"d_preload":"x"}' },
      /LD_PRELOAD changes how programs load code/,
    ],
    [
      "secretwrap's own settings",
      [expandDeclaration("SECRETWRA")],
      { [SECRET]: '{"p_log_level":"debug"}' },
      /SECRETWRAP_\* names/,
    ],
    [
      "a file another declaration writes",
      [
        expandDeclaration("DB_", SECRET, { expand: { prefix: "DB_", files: true } }),
        plain("OTHER", OTHER, { file: "DB_USER" }),
      ],
      { [SECRET]: '{"user":"a"}', [OTHER]: "x" },
      /gives file DB_USER, which is taken by OTHER/,
    ],
    [
      "NAME_FILE beside another declaration's NAME (it would redirect it)",
      [plain("DB_PASSWORD", OTHER), expandDeclaration("DB_")],
      { [SECRET]: '{"user":"a","password_file":"/etc/passwd"}', [OTHER]: "x" },
      /key "password_file" gives DB_PASSWORD_FILE beside DB_PASSWORD, declared in \.env:2/,
    ],
    [
      "with files: a key's NAME_FILE beside another declaration's NAME",
      [
        plain("DB_PASSWORD", OTHER),
        expandDeclaration("DB_", SECRET, { expand: { prefix: "DB_", files: true } }),
      ],
      { [SECRET]: '{"password":"chosen"}', [OTHER]: "x" },
      /key "password" gives DB_PASSWORD_FILE beside DB_PASSWORD/,
    ],
    [
      "NAME beside another declaration's NAME_FILE",
      [plain("DB_PASSWORD_FILE", OTHER), expandDeclaration("DB_")],
      { [SECRET]: '{"password":"chosen"}', [OTHER]: "x" },
      /key "password" gives DB_PASSWORD beside DB_PASSWORD_FILE/,
    ],
    [
      "NAME_FILE beside a name another expansion gives",
      [expandDeclaration("DB_"), expandDeclaration("DB_P", OTHER)],
      { [SECRET]: '{"password":"a"}', [OTHER]: '{"assword_file":"b"}' },
      /key "assword_file" gives DB_PASSWORD_FILE beside DB_PASSWORD, declared in secretwrap\.yaml/,
    ],
    [
      "render: a file an env target is written as",
      [expandDeclaration("DB_"), plain("OTHER", OTHER, { file: "DB_USER" })],
      { [SECRET]: '{"user":"a"}', [OTHER]: "x" },
      /gives file DB_USER, which is taken by OTHER/,
      { mode: "render" },
    ],
  ];
  it.each(cases)("%s", (_, declarations, texts, message, options) => {
    const result = resolve(declarations, texts, options);
    const failure = result.failures.find((f) => f.subject.secret?.includes("*") === true);
    expect(failure?.code).toBe("TARGET_INVALID");
    expect(failure?.exitCode).toBe(78);
    expect(failure?.message).toMatch(message);
    // Not one key of the failed declaration is delivered.
    const failed = failure?.subject.secret;
    expect(result.plan.targets.filter((t) => t.expandedFrom?.pattern === failed)).toEqual([]);
  });

  it("a provider's own setting is refused unless allowed by name", () => {
    const raw = "ref+vault://secret/app";
    const texts = { [raw]: '{"t_token":"x"}' };
    const refused = resolve([expandDeclaration("VAUL", raw)], texts);
    expect(refused.failures[0]?.message).toMatch(/VAULT_TOKEN, a setting the vault provider reads itself/);
    const allowed = resolve([expandDeclaration("VAUL", raw)], texts, { allowed: ["VAULT_TOKEN"] });
    expect(allowed.failures).toEqual([]);
    expect(allowed.names).toEqual(["VAULT_TOKEN"]);
  });

  it("a name that loads code is delivered when allowed by name", () => {
    const result = resolve(
      [expandDeclaration("PAT")],
      { [SECRET]: '{"h":"/opt/bin"}' },
      { allowed: ["PATH"] },
    );
    expect(result.failures).toEqual([]);
    expect(result.text("PATH")).toBe("/opt/bin");
  });

  it("keys of one declaration may give NAME and NAME_FILE: whoever writes the secret chooses both anyway", () => {
    const result = resolve([expandDeclaration("DB_")], { [SECRET]: '{"password":"a","password_file":"b"}' });
    expect(result.failures).toEqual([]);
    expect(result.names).toEqual(["DB_PASSWORD", "DB_PASSWORD_FILE"]);
  });

  it("50,000 keys giving one name are refused at once, in a message of a few lines", () => {
    // Every key is one character outside [A-Za-z0-9_]: each gives DB__. The keys were copied once per
    // key (quadratic: over a minute), and every one of them was listed in the one message.
    const object: Record<string, string> = {};
    for (let code = 0x100; code < 0x100 + 50_000; code++) object[String.fromCharCode(code)] = "v";
    const started = performance.now();
    const result = resolve([expandDeclaration("DB_")], { [SECRET]: JSON.stringify(object) });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]?.message).toMatch(/"ĉ" \(and 49\d\d\d more keys\) give the same name DB__;/);
    expect(result.failures[0]?.message.length).toBeLessThan(2_000);
  });

  it("a thousand keys with a problem each give one message that lists the first few", () => {
    const object: Record<string, string> = {};
    for (let i = 0; i < 1000; i++) object[`k${i}`] = "v";
    const taken = Object.keys(object).map((key) => plain(`DB_${key.toUpperCase()}`, "ref+file:///o.json"));
    const result = resolve([expandDeclaration("DB_"), ...taken], {
      [SECRET]: JSON.stringify(object),
      "ref+file:///o.json": "x",
    });
    const failure = result.failures.find((f) => f.subject.secret === "DB_*");
    expect(failure?.message).toMatch(/ \(and 990 more problems\) \(declared in secretwrap\.yaml\)$/);
    expect(failure?.message.length).toBeLessThan(2_000);
  });

  it("a key of an expanded secret that fails is counted among the delivered targets (never '3 of 1')", () => {
    const result = resolve([expandDeclaration("DB_")], {
      [SECRET]: '{"a":"x\\u0000","b":"y\\u0000","c":"z"}',
    });
    expect(result.failures).toHaveLength(2);
    expect(() => requireAll(result)).toThrow(/^2 of 3 secrets could not be resolved/);
  });

  it("every problem of one declaration is one failure (one secret failed, not one per key)", () => {
    const result = resolve([expandDeclaration("DB_")], { [SECRET]: '{"a.b":"1","a-b":"2","":"3"}' });
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]?.message).toMatch(/empty key.*; keys "a.b" and "a-b"/);
  });
});

// Keys as hostile as JSON allows: any unicode, lone surrogates, the names of Object.prototype's
// machinery, the empty string, and keys that differ only by case or punctuation.
const hostileKey = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "",
    "user",
    "USER",
    "u-ser",
    "u.ser",
    "u ser",
    "ß",
    "SS",
  ),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 6 }),
);

describe("properties over arbitrary objects with hostile keys", () => {
  it("every key gets a distinct valid name, or the declaration fails with 78: a key is never dropped", () => {
    fc.assert(
      fc.property(fc.uniqueArray(hostileKey, { maxLength: 12 }), fc.boolean(), (keys, files) => {
        const values = keys.map((_, i) => `CANARY_VALUE_${i}_zq`);
        // Built pair by pair so that __proto__ is an own key like any other.
        const text = `{${keys.map((k, i) => `${JSON.stringify(k)}:${JSON.stringify(values[i])}`).join(",")}}`;
        const result = resolve([expandDeclaration("DB_", SECRET, { expand: { prefix: "DB_", files } })], {
          [SECRET]: text,
        });
        const everything = JSON.stringify([
          result.reports,
          result.failures.map((f) => [f.message, f.hint, f.subject]),
        ]);
        for (const value of values) expect(everything).not.toContain(value);
        if (keys.length === 0) {
          expect(result.failures.map((f) => f.code)).toEqual(["FIELD_MISSING"]);
          return;
        }
        const suffixes = keys.map((k) => (k === "" ? "" : nameOfKey(k)));
        const clash = suffixes.includes("") || new Set(suffixes).size < keys.length;
        if (clash) {
          expect(result.failures.map((f) => [f.code, f.exitCode])).toEqual([["TARGET_INVALID", 78]]);
          expect(result.values.size).toBe(0);
          return;
        }
        expect(result.failures).toEqual([]);
        const names = result.plan.targets.map((t) => t.name);
        expect(new Set(names).size).toBe(keys.length);
        for (const name of names) expect(name).toMatch(files ? /^DB_[A-Z0-9_]+_FILE$/ : /^DB_[A-Z0-9_]+$/);
        // Each key's own value, under the name its key gives.
        keys.forEach((key, i) => {
          const { name } = expandedTarget({ prefix: "DB_", files }, key);
          expect(result.text(name)).toBe(values[i]);
        });
      }),
      { numRuns: 3000 },
    );
  });

  it("names never collide with another declaration's: a clash is 78, never an overwrite", () => {
    const taken = ["DB_USER", "DB_PASSWORD", "DB_A_B"];
    fc.assert(
      fc.property(
        fc.uniqueArray(hostileKey, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(...taken),
        (keys, other) => {
          const raw = "ref+file:///other.json";
          const text = `{${keys.map((k, i) => `${JSON.stringify(k)}:"v${i}"`).join(",")}}`;
          const result = resolve([plain(other, raw), expandDeclaration("DB_")], {
            [SECRET]: text,
            [raw]: "mine",
          });
          expect(result.text(other)).toBe("mine");
          const targetsNamed = result.plan.targets.filter((t) => t.name === other);
          expect(targetsNamed).toHaveLength(1);
          const claims = keys.some((k) => k !== "" && `DB_${nameOfKey(k)}` === other);
          if (claims) expect(result.failures.map((f) => f.exitCode)).toEqual([78]);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
