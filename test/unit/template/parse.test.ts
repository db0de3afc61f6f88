// The template parser: every invalid case names its line and column (invalid cases first), then what a
// valid template parses to, then the boundary over random input: parse returns problems, never throws.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_PROBLEMS, parseTemplate, type Part, type TemplateProblem } from "../../../src/template/parse.ts";
import { FILTER_NAMES } from "../../../src/template/filters.ts";

function problemsOf(source: string): readonly TemplateProblem[] {
  const parsed = parseTemplate(source);
  if (!("problems" in parsed)) throw new Error(`parsed, expected problems: ${source}`);
  return parsed.problems;
}

function partsOf(source: string): readonly Part[] {
  const parsed = parseTemplate(source);
  if ("problems" in parsed) throw new Error(parsed.problems.map((p) => p.message).join("; "));
  return parsed.template.parts;
}

const REF = '"ref+file://./s.json#/db/password"';

// [what, template, "line:column", code, message]
const invalid: [string, string, string, string, RegExp][] = [
  ["unclosed action", "a {{ ref " + REF, "1:3", "CONFIG_INVALID", /\{\{ is not closed/],
  ["unclosed at the end", "{{", "1:1", "CONFIG_INVALID", /not closed/],
  ["single } is not a close", 'x {{ "a" }', "1:3", "CONFIG_INVALID", /not closed/],
  ["empty action", "a\n  {{ }}", "2:6", "CONFIG_INVALID", /empty action/],
  ["empty action without space", "{{}}", "1:3", "CONFIG_INVALID", /empty action/],
  ["unknown function", '{{ env "HOME" }}', "1:4", "CONFIG_INVALID", /unknown function "env"/],
  [
    "unknown function with a pipe",
    "x\ny\n{{ include | json }}",
    "3:4",
    "CONFIG_INVALID",
    /unknown function "include"/,
  ],
  ["unknown filter", `{{ ref ${REF} | jsn }}`, "1:45", "CONFIG_INVALID", /unknown filter "jsn"/],
  [
    "second unknown filter",
    `{{ ref ${REF} | trim | upper }}`,
    "1:52",
    "CONFIG_INVALID",
    /unknown filter "upper"/,
  ],
  ["filter with an argument", `{{ ref ${REF} | json "x" }}`, "1:50", "CONFIG_INVALID", /expected \| or \}\}/],
  ["pipe without a filter", `{{ ref ${REF} | }}`, "1:45", "CONFIG_INVALID", /a filter name after \|/],
  ["ref without an argument", "{{ ref }}", "1:8", "CONFIG_INVALID", /ref takes one reference/],
  ["ref with a bare word", "{{ ref ref+file://x }}", "1:8", "CONFIG_INVALID", /ref takes one reference/],
  ["ref with two arguments", `{{ ref ${REF} ${REF} }}`, "1:43", "CONFIG_INVALID", /expected \| or \}\}/],
  ["not a ref+ reference", '{{ ref "vault://x" }}', "1:8", "REF_INVALID", /must start with ref\+/],
  ["unknown scheme", '{{ ref "ref+vualt://secret/a" }}', "1:8", "PROVIDER_UNKNOWN", /unknown scheme "vualt"/],
  ["bad vault locator", '{{ ref "ref+vault://secret" }}', "1:8", "REF_INVALID", /<mount>\/<path>/],
  ["empty field", '{{ ref "ref+file://./x#" }}', "1:8", "REF_INVALID", /#field after # is empty/],
  ["unclosed string", '{{ "abc }}', "1:4", "CONFIG_INVALID", /string is not closed/],
  ["string across lines", '{{ "ab\ncd" }}', "1:4", "CONFIG_INVALID", /string is not closed/],
  ["unknown escape", '{{ "a\\qb" }}', "1:6", "CONFIG_INVALID", /unknown escape/],
  ["control character in a string", '{{ "a\tb" }}', "1:6", "CONFIG_INVALID", /control character/],
  [
    "trim marker (not supported)",
    '{{- "a" }}',
    "1:3",
    "CONFIG_INVALID",
    /expected ref or a "string", found "-"/,
  ],
  ["nested open", '{{ {{ "a" }}', "1:4", "CONFIG_INVALID", /expected ref or a "string", found "\{"/],
  ["column counts characters", "é😀 {{ nope }}", "1:7", "CONFIG_INVALID", /unknown function "nope"/],
  ["lone surrogate in the text", "a\ud800b", "1:2", "CONFIG_INVALID", /lone surrogate/],
  ["a long name is cut", `{{ ${"x".repeat(500)} }}`, "1:4", "CONFIG_INVALID", /unknown function "x+…/],
];

describe("parseTemplate: invalid templates (each with its line and column)", () => {
  it.each(invalid)("%s", (_what, source, where, code, message) => {
    const [problem, ...rest] = problemsOf(source);
    expect(rest).toEqual([]);
    expect(`${problem?.at.line}:${problem?.at.column}`).toBe(where);
    expect(problem?.code).toBe(code);
    expect(problem?.message).toMatch(message);
  });

  it("reports every problem of a template in one pass, in order, and goes on after each", () => {
    const source = [
      `ok {{ ref ${REF} | json }}`,
      "{{ foo }} and {{ bar }}",
      `{{ ref ${REF} | nope }} {{ "\\x" }}`,
      '{{ ref "ref+file://" }}',
      "{{ unclosed",
    ].join("\n");
    const problems = problemsOf(source);
    expect(problems.map((p) => `${p.at.line}:${p.at.column} ${p.code}`)).toEqual([
      "2:4 CONFIG_INVALID",
      "2:18 CONFIG_INVALID",
      "3:45 CONFIG_INVALID",
      "3:57 CONFIG_INVALID",
      "4:8 REF_INVALID",
      "5:1 CONFIG_INVALID",
    ]);
  });

  it("stops after MAX_PROBLEMS problems, saying so (a file with more is not a template)", () => {
    const problems = problemsOf("{{ nope }}\n".repeat(MAX_PROBLEMS + 50));
    expect(problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(problems.at(-2)?.at).toEqual({ line: MAX_PROBLEMS, column: 4 });
    expect(problems.at(-1)?.message).toMatch(/more problems after this one are not shown/);
  });

  it("columns on a long line with many actions are counted on, right to the last one", () => {
    const parts = partsOf('😀{{ "x" }}'.repeat(3000));
    const actions = parts.filter((p) => p.kind === "action");
    expect(actions.at(-1)).toMatchObject({ at: { line: 1, column: 2999 * 10 + 2 } });
  });

  it("never quotes a string literal's text in a problem (a template may hold a literal password)", () => {
    const problems = problemsOf('{{ "hunter2-canary\\q" }} {{ "hunter2-canary" | rot13 }}');
    expect(problems).toHaveLength(2);
    for (const p of problems) expect(p.message).not.toContain("hunter2");
  });
});

describe("parseTemplate: valid templates", () => {
  it("text and actions, with the action's position", () => {
    expect(partsOf(`a: {{ ref ${REF} }}\nb: {{ ref ${REF} | trim | json }}\n`)).toMatchObject([
      { kind: "text", text: "a: " },
      {
        kind: "action",
        at: { line: 1, column: 4 },
        expression: { kind: "ref", ref: { scheme: "file", field: "/db/password" } },
        filters: [],
      },
      { kind: "text", text: "\nb: " },
      { kind: "action", at: { line: 2, column: 4 }, filters: ["trim", "json"] },
      { kind: "text", text: "\n" },
    ]);
  });

  it('{{ "{{" }} is a literal {{, and }} outside an action is text', () => {
    expect(partsOf('{"a":{"b":{{ "{{" }}}}}')).toEqual([
      { kind: "text", text: '{"a":{"b":' },
      {
        kind: "action",
        at: { line: 1, column: 11 },
        expression: { kind: "literal", text: "{{" },
        filters: [],
      },
      { kind: "text", text: "}}}" },
    ]);
  });

  it("string escapes, spaces and line breaks inside an action, every filter", () => {
    const filters = FILTER_NAMES.join(" | ");
    expect(partsOf(`{{\n  "a\\"b\\\\c\\n\\t\\r}}"\n  | ${filters}\n}}`)).toEqual([
      {
        kind: "action",
        at: { line: 1, column: 1 },
        expression: { kind: "literal", text: 'a"b\\c\n\t\r}}' },
        filters: [...FILTER_NAMES],
      },
    ]);
  });

  it("text without actions, and the empty template", () => {
    expect(partsOf("server { listen 80; }}")).toEqual([{ kind: "text", text: "server { listen 80; }}" }]);
    expect(partsOf("")).toEqual([]);
  });
});

describe("parseTemplate: its boundary", () => {
  // Template-shaped noise: the grammar's own tokens, made likely, plus any character.
  const token = fc.oneof(
    fc.constantFrom("{{", "}}", "{", "}", "|", '"', "\\", "\n", " ", "ref", "json", "trim", "x", "é", "😀"),
    fc.constantFrom('"ref+file://./a#k"', '"ref+vault://secret/a"', '"ref+nope://a"', '"ref+file://"'),
    fc.string({ maxLength: 3 }),
    fc.string({ unit: "binary", maxLength: 2 }),
  );
  const noise = fc.array(token, { maxLength: 40 }).map((parts) => parts.join(""));

  it("never throws, and every problem is positioned inside the text with a known code", () => {
    fc.assert(
      fc.property(noise, (source) => {
        const parsed = parseTemplate(source);
        if ("template" in parsed) return;
        const lines = source.split("\n");
        expect(parsed.problems.length).toBeGreaterThan(0);
        for (const p of parsed.problems) {
          expect(["CONFIG_INVALID", "REF_INVALID", "PROVIDER_UNKNOWN"]).toContain(p.code);
          expect(p.at.line).toBeGreaterThanOrEqual(1);
          expect(p.at.line).toBeLessThanOrEqual(lines.length);
          expect(p.at.column).toBeGreaterThanOrEqual(1);
          expect(p.at.column).toBeLessThanOrEqual([...(lines[p.at.line - 1] ?? "")].length + 1);
          expect(p.message).not.toMatch(/\n/);
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it("a template that parses keeps its text: text parts joined are the source outside the actions", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "}", "{", " ", "\n", "|", '"') }), (text) => {
        let source = text;
        while (source.includes("{{")) source = source.replaceAll("{{", "{ {");
        const parts = partsOf(source);
        expect(parts.map((p) => (p.kind === "text" ? p.text : "")).join("")).toBe(source);
      }),
      { numRuns: 2_000 },
    );
  });
});
