// Property-based tests (fast-check): the parsers and validators take any input, answer with a value or
// one of our typed errors, and never crash or hang. 10,000 generated inputs each.
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/** Control characters other than tab and newline (a message is printed on a terminal). */
const hasControl = (text: string): boolean =>
  [...text].some((c) => (c < " " && c !== "\t" && c !== "\n") || c === "\x7f");
import { parseEnvFile } from "../../src/config/envfile.ts";
import { loadDeclarations } from "../../src/config/load.ts";
import { fetchKey, parseRef } from "../../src/config/ref.ts";
import { validateConfig } from "../../src/config/schema.ts";
import { SecretwrapError } from "../../src/errors.ts";
import { selectField } from "../../src/field.ts";
import { checkFileName, checkName, NAME_PATTERN, parseMode } from "../../src/plan.ts";

const RUNS = { numRuns: 10_000 };
const work = mkdtempSync(join(tmpdir(), "secretwrap-prop-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function onlyTypedErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof SecretwrapError)) throw error;
  }
}

const refLike = fc.oneof(
  fc.string({ unit: "binary" }),
  fc
    .tuple(
      fc.constantFrom("vault", "awssecrets", "gcpsecrets", "azurekeyvault", "file", "vualt", ""),
      fc.string({ unit: "binary" }),
      fc.option(fc.string()),
      fc.option(fc.string()),
    )
    .map(
      ([scheme, locator, query, field]) =>
        `ref+${scheme}://${locator}${query === null ? "" : `?${query}`}${field === null ? "" : `#${field}`}`,
    ),
);

describe("reference parser", () => {
  it("any string: a Ref or a typed error, never a crash", () => {
    fc.assert(
      fc.property(refLike, (raw) => onlyTypedErrors(() => parseRef(raw))),
      RUNS,
    );
  });

  it("a message never contains control characters from the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (tail) => {
        try {
          parseRef(`ref+vault://${tail}`);
        } catch (error) {
          expect(hasControl((error as Error).message)).toBe(false);
        }
      }),
      RUNS,
    );
  });

  const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/);
  it("well-formed Vault references round-trip their parts", () => {
    fc.assert(
      fc.property(
        segment,
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: 1, max: 99_999 })),
        fc.option(segment),
        (mount, path, version, field) => {
          const locator = [mount, ...path].join("/");
          const raw = `ref+vault://${locator}${version === null ? "" : `?version=${version}`}${field === null ? "" : `#${field}`}`;
          const ref = parseRef(raw);
          expect(ref.locator).toBe(locator);
          expect(ref.field).toBe(field ?? undefined);
          expect(fetchKey(ref)).not.toContain("#");
        },
      ),
      RUNS,
    );
  });
});

describe("config validation", () => {
  it("any JSON value: parsed config or path-named issues, never a crash", () => {
    const config = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          version: fc.oneof(fc.constant(1), fc.jsonValue()),
          secrets: fc.dictionary(fc.string(), fc.jsonValue()),
          providers: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(config, (data) => {
        const { issues } = validateConfig(data);
        for (const issue of issues) expect(typeof issue.message).toBe("string");
      }),
      RUNS,
    );
  });

  it("any file content through the loader: declarations or one typed error", async () => {
    const file = join(work, "config.yaml");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        async (text) => {
          writeFileSync(file, text);
          const { problems } = await loadDeclarations({ env: {}, configPath: file });
          for (const problem of problems) expect(problem).toBeInstanceOf(SecretwrapError);
        },
      ),
      // Each run writes and reads a file: fewer runs keep it well inside the timeout on a busy machine.
      { numRuns: 2000 },
    );
  });
});

describe("env-file parser", () => {
  it("any text: entries and problems, never a crash", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const { entries, problems } = parseEnvFile(text);
        for (const entry of entries) expect(entry.name).toMatch(NAME_PATTERN);
        for (const problem of problems) expect(problem.line).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it("double-quoted values round-trip exactly, whatever they contain", () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/);
    const quote = (value: string) =>
      `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`;
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.string({ unit: "grapheme" })), { maxLength: 5 }), (pairs) => {
        const text = pairs.map(([n, v]) => `${n}=${quote(v)}`).join("\n");
        const { entries, problems } = parseEnvFile(text);
        expect(problems).toEqual([]);
        expect(entries.map((e) => [e.name, e.value])).toEqual(pairs);
      }),
      RUNS,
    );
  });
});

describe("name, file name and mode validation", () => {
  it("an accepted name always matches the pattern and is never dangerous", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (name) => {
        if (checkName(name, new Set()) === undefined) {
          expect(name).toMatch(NAME_PATTERN);
          expect(name.startsWith("LD_") || name === "NODE_OPTIONS" || name === "PATH").toBe(false);
        }
      }),
      RUNS,
    );
  });

  it("an accepted file name never leaves the directory", () => {
    const hostile = fc.oneof(
      fc.string({ unit: "binary" }),
      fc
        .array(fc.constantFrom("..", ".", "/", "a", "\n", "..data", "\0"), { maxLength: 6 })
        .map((p) => p.join("")),
    );
    fc.assert(
      fc.property(hostile, (name) => {
        if (checkFileName(name) === undefined) {
          expect(name).not.toContain("/");
          expect(name.startsWith("..")).toBe(false);
          expect(name).not.toBe(".");
          expect(hasControl(name) || name.includes("\n")).toBe(false);
          expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
        }
      }),
      RUNS,
    );
  });

  it("an accepted mode is owner-readable and never group/other-writable", () => {
    fc.assert(
      fc.property(fc.string(), (mode) => {
        const parsed = parseMode(mode);
        if (typeof parsed === "number") {
          expect(parsed & 0o400).toBe(0o400);
          expect(parsed & 0o022).toBe(0);
        }
      }),
      RUNS,
    );
  });
});

describe("field selection", () => {
  it("any bytes and any field: bytes or a typed error, and the error never quotes the value", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array(),
          fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
        ),
        fc.option(fc.string()),
        fc.boolean(),
        (bytes, field, map) => {
          try {
            selectField({ bytes, keyValueMap: map }, field ?? undefined);
          } catch (error) {
            if (!(error instanceof SecretwrapError)) throw error;
            const text = Buffer.from(bytes).toString("utf8");
            if (text.length >= 12) expect(error.message).not.toContain(text);
          }
        },
      ),
      RUNS,
    );
  });
});

// R13: each parser of user bytes answers with a value or an error whose exit code is documented for it;
// nothing thrown gets past its boundary (70 would be a bug), and nothing aborts Node.
describe("R13: parsers of user bytes never throw past their boundary", () => {
  const anchorsAndAliases = fc
    .array(
      fc.oneof(
        fc.constantFrom(
          "&a ",
          "*a",
          "*b",
          "&b [*a, *a, *a]",
          "[*a,*a,*a,*a,*a,*a,*a,*a,*a]",
          "<<: *a",
          "! ",
          "!!binary ",
          "? ",
        ),
        fc.string({ unit: "binary", maxLength: 6 }),
        fc.constantFrom("\n", "\n  ", ": ", "- ", "{", "}", "[", "]", ",", '"', "'", "#"),
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join(""));
  const billionLaughs = fc.integer({ min: 2, max: 12 }).map((levels) => {
    const lines = ['a0: &a0 ["lol"]'];
    for (let i = 1; i <= levels; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(",")}]`,
      );
    return `version: 1\n${lines.join("\n")}\n`;
  });
  const deepFlow = fc
    .integer({ min: 1, max: 5_000 })
    .map((d) => `version: 1\nsecrets: ${"[".repeat(d)}${"]".repeat(d)}\n`);

  it("R13: config loader (YAML and JSON): any bytes → declarations or problems that are all 78", async () => {
    const file = join(work, "r13.yaml");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          anchorsAndAliases.map((t) => `version: 1\nsecrets:\n  A: ${t}\n`),
          anchorsAndAliases,
          billionLaughs,
          deepFlow,
        ),
        async (text) => {
          writeFileSync(file, text);
          const { problems } = await loadDeclarations({ env: {}, configPath: file });
          for (const problem of problems) expect(problem.exitCode).toBe(78);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("R13: flow collections nested 100k and 500k deep are data or 78", async () => {
    const file = join(work, "deep.yaml");
    for (const depth of [100_000, 500_000]) {
      writeFileSync(file, `version: 1\nsecrets: ${"[".repeat(depth)}${"]".repeat(depth)}\n`);
      const { problems } = await loadDeclarations({ env: {}, configPath: file });
      expect(problems.length).toBeGreaterThan(0);
      for (const problem of problems) expect(problem.exitCode).toBe(78);
    }
  });

  it("R13: an undefined alias and an alias bomb are 78 with a sentence, not 70", async () => {
    const cases: [string, RegExp][] = [
      ["version: 1\nsecrets:\n  A: *nope\n", /refers to an anchor .* not defined/],
      [
        `version: 1\n${Array.from({ length: 10 }, (_, i) =>
          i === 0
            ? 'l0: &l0 ["lol"]'
            : `l${i}: &l${i} [${Array(10)
                .fill(`*l${i - 1}`)
                .join(",")}]`,
        ).join("\n")}\n`,
        /aliases expand to too much data/,
      ],
    ];
    for (const [text, message] of cases) {
      const file = join(work, "alias.yaml");
      writeFileSync(file, text);
      const { problems } = await loadDeclarations({ env: {}, configPath: file });
      expect(problems.map((p) => p.exitCode)).toEqual([78]);
      expect(problems[0]?.message).toMatch(message);
    }
  });

  it("R13: a config or env-file past 1 MiB (or endless, /dev/zero) is 78, read no further", async () => {
    const big = join(work, "big.env");
    writeFileSync(big, `A=${"x".repeat(1024 * 1024)}\n`);
    for (const input of [{ envFiles: [big] }, { configPath: big }]) {
      const { problems } = await loadDeclarations({ env: {}, ...input });
      expect(problems.map((p) => p.exitCode)).toEqual([78]);
      expect(problems[0]?.message).toMatch(/larger than 1 MiB/);
    }
    // An endless device is not read at all: only a regular file is (src/regular-file.ts).
    const { problems } = await loadDeclarations({ env: {}, configPath: "/dev/zero" });
    expect(problems.map((p) => p.exitCode)).toEqual([78]);
    expect(problems[0]?.message).toMatch(/is a device, not a regular file/);
  });

  it("R13: env-file parser: any bytes → entries and numbered problems, in time linear in the size", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc
            .array(fc.constantFrom('A="', "B='", "\\", "\n", "x", "#", "=", '"', "'", "export "), {
              maxLength: 60,
            })
            .map((p) => p.join("")),
        ),
        (text) => {
          const { entries, problems } = parseEnvFile(text);
          for (const entry of entries) expect(entry.name).toMatch(NAME_PATTERN);
          for (const problem of problems) expect(problem.line).toBeGreaterThan(0);
        },
      ),
      RUNS,
    );
    // An unclosed quote at the top of a large file: one pass, not one pass per line (was quadratic).
    const lines = 100_000;
    const text = `A="never closed\n${"B=1\n".repeat(lines)}`;
    const started = performance.now();
    const { problems } = parseEnvFile(text);
    expect(problems).toEqual([{ line: 1, message: "the double quote is never closed" }]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("R13: reference parser: any string → a Ref or an error whose exit code is 78", () => {
    fc.assert(
      fc.property(refLike, (raw) => {
        try {
          parseRef(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(SecretwrapError);
          expect((error as SecretwrapError).exitCode).toBe(78);
        }
      }),
      RUNS,
    );
    const huge = `ref+vault://secret/${"a".repeat(1024 * 1024)}?version=${"9".repeat(1000)}#${"f".repeat(1000)}`;
    expect(() => parseRef(huge)).toThrow(SecretwrapError);
  });
});
