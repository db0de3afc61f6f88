// The filters, each read back by its real reader over random values: json by JSON.parse, yaml by the
// yaml package, shell by sh, url by a percent-decoder, base64 by Buffer. A value a filter cannot carry
// is refused by name, never altered, and never shown.
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseRef, type Ref } from "../../../src/config/ref.ts";
import { SecretwrapError } from "../../../src/errors.ts";
import { applyFilter, FILTER_NAMES, type FilterName } from "../../../src/template/filters.ts";
import { parseTemplate, type Template } from "../../../src/template/parse.ts";
import { referencesOf, renderTemplate } from "../../../src/template/render.ts";

function filtered(name: FilterName, bytes: Uint8Array): Buffer {
  const out = applyFilter(name, bytes);
  if ("refused" in out) throw new Error(`${name} refused: ${out.refused}`);
  return Buffer.from(out);
}

function template(source: string): Template {
  const parsed = parseTemplate(source);
  if ("problems" in parsed) throw new Error(parsed.problems.map((p) => p.message).join("; "));
  return parsed.template;
}

/** Text that breaks naive quoting made likely, plus any Unicode (astral, controls, NUL, line breaks). */
const text = fc.oneof(
  fc.string({
    unit: fc.constantFrom(
      "'",
      '"',
      "\\",
      "\n",
      "\r",
      "\t",
      "\0",
      " ",
      "#",
      ":",
      "-",
      "$",
      "a",
      "é",
      "😀",
      "\u2028",
      "\u0085",
      "\ufeff",
      "%",
      "+",
    ),
  }),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
);
const utf8 = text.map((t) => Buffer.from(t));
const anyBytes = fc.oneof(utf8, fc.uint8Array({ maxLength: 40 }));

function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "%") {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

describe("filters: refusals (fail closed, the value is never shown)", () => {
  const notUtf8 = Uint8Array.from([0x61, 0xff, 0x62]);
  it.each([
    ["json", notUtf8, /not valid UTF-8/],
    ["yaml", notUtf8, /not valid UTF-8/],
    ["json", Uint8Array.from([0xed, 0xa0, 0x80]), /not valid UTF-8/], // an encoded surrogate
    ["shell", Uint8Array.from([0x61, 0x00]), /NUL/],
  ] as const)("%s refuses %j", (name, bytes, why) => {
    const out = applyFilter(name, bytes);
    expect("refused" in out && out.refused).toMatch(why);
  });

  it("every other filter takes any bytes (url, base64, trim), shell any bytes but NUL", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const name of ["url", "base64", "trim"] as const)
          expect("refused" in applyFilter(name, bytes)).toBe(false);
        expect("refused" in applyFilter("shell", bytes)).toBe(bytes.includes(0));
      }),
      { numRuns: 1_000 },
    );
  });

  it("a refused value fails the render with VALUE_UNUSABLE naming template, position, reference and filter, not the value", () => {
    const canary = Buffer.concat([Buffer.from("canary-9f2c-"), Uint8Array.from([0xff])]);
    const t = template('x: 1\ny: {{ ref "ref+file://./s.json#k" | trim | json }}');
    let caught: unknown;
    try {
      renderTemplate({ template: t, name: "app.yml", valueOf: () => canary });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SecretwrapError);
    const error = caught as SecretwrapError;
    expect(error.code).toBe("VALUE_UNUSABLE");
    expect(error.message).toBe(
      "template app.yml line 2, column 4: the value of ref+file://./s.json#k is not valid UTF-8; the json filter cannot carry it",
    );
    expect(`${error.message} ${error.hint}`).not.toContain("canary");
  });
});

describe("filters: exact outputs", () => {
  it.each([
    ["json", 'a"b\\\n\0é', '"a\\"b\\\\\\n\\u0000é"'],
    ["yaml", 'a"b\\\n\0\t\u2028\ufeff😀é', '"a\\"b\\\\\\n\\0\\t\\u2028\\ufeff😀é"'],
    ["yaml", "\u0085\u007f", '"\\x85\\x7f"'],
    ["shell", "it's $HOME", "'it'\\''s $HOME'"],
    ["shell", "", "''"],
    ["url", "a b/c?d=é~-._", "a%20b%2Fc%3Fd%3D%C3%A9~-._"],
    ["base64", "\0\xff", "AMO/"],
    ["trim", " \t\r\n\v\f a b \n", "a b"],
    ["trim", "\u00a0a\u00a0", "\u00a0a\u00a0"], // only ASCII whitespace
  ] as const)("%s of %j is %j", (name, input, output) => {
    expect(filtered(name, Buffer.from(input)).toString("utf8")).toBe(output);
  });
});

describe("filters: read back by their real readers", () => {
  it("json: valid JSON that parses back to the value (10k values)", () => {
    fc.assert(
      fc.property(text, (value) => {
        const out = filtered("json", Buffer.from(value)).toString("utf8");
        const back = JSON.parse(out) as unknown;
        expect(back).toBe(Buffer.from(value).toString("utf8"));
      }),
      { numRuns: 10_000 },
    );
  });

  it("json inside a rendered template: the whole file is valid JSON with the value", () => {
    const t = template('{"a":{"b":{{ ref "ref+file://./s.json#k" | json }}}}');
    fc.assert(
      fc.property(text, (value) => {
        const bytes = Buffer.from(value);
        const rendered = renderTemplate({ template: t, name: "t", valueOf: () => bytes });
        expect(JSON.parse(Buffer.from(rendered).toString("utf8"))).toEqual({
          a: { b: bytes.toString("utf8") },
        });
      }),
      { numRuns: 3_000 },
    );
  });

  it("yaml: a double-quoted scalar the yaml package reads back as the value, as a mapping value too", () => {
    fc.assert(
      fc.property(text, (value) => {
        const expected = Buffer.from(value).toString("utf8");
        const out = filtered("yaml", Buffer.from(value)).toString("utf8");
        expect(parseYaml(out)).toBe(expected);
      }),
      { numRuns: 10_000 },
    );
    fc.assert(
      fc.property(text, (value) => {
        const expected = Buffer.from(value).toString("utf8");
        const out = filtered("yaml", Buffer.from(value)).toString("utf8");
        expect(parseYaml(`db:\n  password: ${out}\n  next: 1\n`)).toEqual({
          db: { password: expected, next: 1 },
        });
      }),
      { numRuns: 1_000 },
    );
  });

  it("url: percent-decoding gives back the bytes, and only unreserved characters stay as they are", () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const out = filtered("url", bytes).toString("latin1");
        expect(out).toMatch(/^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/);
        expect(percentDecode(out).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });

  it("base64: decodes back to the bytes", () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const out = filtered("base64", bytes).toString("latin1");
        expect(Buffer.from(out, "base64").equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });

  it("trim: the bytes without ASCII whitespace at either end, nothing else changed", () => {
    const spaces = fc
      .array(fc.constantFrom(" ", "\t", "\n", "\r", "\v", "\f"), { maxLength: 3 })
      .map((a) => a.join(""));
    fc.assert(
      fc.property(spaces, anyBytes, spaces, (before, bytes, after) => {
        const core = Buffer.from(bytes)
          .toString("latin1")
          .replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, "");
        const input = Buffer.concat([Buffer.from(before), Buffer.from(core, "latin1"), Buffer.from(after)]);
        expect(filtered("trim", input).equals(Buffer.from(core, "latin1"))).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });

  it("shell: sh's printf %s <word> prints the bytes back, any bytes but NUL (a batch per sh run)", () => {
    fc.assert(
      fc.property(
        fc.array(
          anyBytes.map((b) => Buffer.from(b).filter((x) => x !== 0)),
          { minLength: 1, maxLength: 40 },
        ),
        (values) => {
          // One sh per batch: each value printed, then a separator sh cannot be confused by.
          // The script goes in on stdin: argv from Node is UTF-8 text, and the words are any bytes.
          const script = values
            .map((v) => `printf %s ${filtered("shell", v).toString("latin1")}; printf '\\0'`)
            .join("\n");
          const result = spawnSync("/bin/sh", ["-s"], { env: {}, input: Buffer.from(script, "latin1") });
          expect(result.status, result.stderr.toString()).toBe(0);
          const printed = result.stdout.subarray(0, -1).toString("latin1").split("\0");
          expect(printed).toEqual(values.map((v) => Buffer.from(v).toString("latin1")));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("renderTemplate", () => {
  const ref = (raw: string): Ref => parseRef(raw);

  it("inserts raw bytes unfiltered, chains filters left to right, writes literals", () => {
    const t = template(
      'a={{ ref "ref+file://./s#k" }} b={{ ref "ref+file://./s#k" | trim | base64 }} c={{ "{{" }}',
    );
    const out = renderTemplate({ template: t, name: "t", valueOf: () => Buffer.from(" \xff\n", "latin1") });
    expect(Buffer.from(out).toString("latin1")).toBe(
      `a= \xff\n b=${Buffer.from("\xff", "latin1").toString("base64")} c={{`,
    );
  });

  it("each reference gets its own value; referencesOf lists them once each, in order", () => {
    const t = template(
      '{{ ref "ref+file://./s#a" }}-{{ ref "ref+file://./s#b" }}-{{ ref "ref+file://./s#a" | url }}',
    );
    expect(referencesOf(t).map((r) => r.raw)).toEqual(["ref+file://./s#a", "ref+file://./s#b"]);
    const values = new Map([
      [ref("ref+file://./s#a").raw, Buffer.from("x y")],
      [ref("ref+file://./s#b").raw, Buffer.from("z")],
    ]);
    const inserted: string[] = [];
    const out = renderTemplate({
      template: t,
      name: "t",
      valueOf: (r) => values.get(r.raw) as Buffer,
      inserted: (b) => inserted.push(Buffer.from(b).toString()),
    });
    expect(Buffer.from(out).toString()).toBe("x y-z-x%20y");
    expect(inserted).toEqual(["x y", "z", "x%20y"]);
  });

  it("the filter list of the docs is the implementation's", () => {
    expect([...FILTER_NAMES]).toEqual(["json", "yaml", "shell", "url", "base64", "trim"]);
  });
});
