// Config `templates:`: the schema (strict, exactly one of source or content), the template file read
// by the declaration-file rule, target rules shared with file targets, every problem in one run, and
// the plan: a template's references join the fetches with everything else's, once each.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { declare, type DeclareInput, type Declared } from "../../../src/config/declare.ts";
import { SecretsFailedError, SecretwrapError } from "../../../src/errors.ts";
import { Redactor } from "../../../src/redact.ts";
import type { FetchOutcome } from "../../../src/resolve.ts";
import { targetValues } from "../../../src/target-values.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-templates-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;
/** A config file in a directory of its own, with the given files next to it. */
function config(text: string, files: Record<string, string | Buffer> = {}): string {
  const dir = join(work, `c${counter++}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const path = join(dir, "secretwrap.yaml");
  writeFileSync(path, text);
  return path;
}

async function declared(configPath: string, extra: Partial<DeclareInput> = {}): Promise<Declared> {
  return await declare({ command: "run", env: {}, allowNames: [], allowEmpty: true, configPath, ...extra });
}

async function problemsOf(configPath: string, extra: Partial<DeclareInput> = {}): Promise<string[]> {
  try {
    await declared(configPath, extra);
    return [];
  } catch (error) {
    if (!(error instanceof SecretwrapError)) throw error;
    const all = error instanceof SecretsFailedError ? error.failures : [error];
    return all.map((e) => `${e.code} ${e.message}`);
  }
}

const REF = "ref+file://./s.json#/db/password";

describe("templates: the schema", () => {
  it.each([
    [
      "both source and content",
      `- { source: t.tmpl, content: "x", target: a }`,
      /templates\[0\]: needs exactly one of source/,
    ],
    ["neither", `- { target: a }`, /templates\[0\]: needs exactly one of source/],
    ["an unknown key", `- { content: "x", target: a, moed: "0400" }`, /templates\[0\]: unknown key "moed"/],
    ["no target", `- { content: "x" }`, /templates\[0\]\.target: expected string/],
    [
      "a mode that is not text",
      `- { content: "x", target: a, mode: 0400 }`,
      /templates\[0\]\.mode: expected string/,
    ],
    ["an entry that is not an object", `- x`, /templates\[0\]: expected object/],
  ])("%s is 78", async (_what, entry, message) => {
    const problems = await problemsOf(config(`version: 1\ntemplates:\n  ${entry}\n`, { "t.tmpl": "x" }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^CONFIG_INVALID /);
    expect(problems[0]).toMatch(message);
  });

  it("templates that is not a list is 78", async () => {
    expect(await problemsOf(config("version: 1\ntemplates: { a: 1 }\n"))).toEqual([
      expect.stringMatching(/templates: expected array/),
    ]);
  });
});

describe("templates: the source file", () => {
  it("is read relative to the config file's directory, whatever the working directory; a symlink to a file is followed", async () => {
    const path = config(
      `version: 1\ntemplates:\n  - { source: ./t.tmpl, target: a }\n  - { source: link.tmpl, target: b }\n`,
      { "t.tmpl": `{{ ref "${REF}" }}`, "other.tmpl": `x` },
    );
    symlinkSync("other.tmpl", join(path, "..", "link.tmpl"));
    const { plan } = await declared(path);
    expect(plan.templates?.map((t) => [t.name, t.fileName, t.mode, t.refs.map((r) => r.ref.raw)])).toEqual([
      ["template:a", "a", 0o400, [REF]],
      ["template:b", "b", 0o400, []],
    ]);
  });

  it("each unreadable source is its own 78 naming the file and why, and the others are still read", async () => {
    const path = config(
      [
        "version: 1",
        "templates:",
        "  - { source: missing.tmpl, target: a }",
        "  - { source: dir, target: b }",
        "  - { source: big.tmpl, target: c }",
        "  - { source: latin1.tmpl, target: d }",
        "  - { source: fifo, target: e }",
        "  - { source: good.tmpl, target: f }",
        "",
      ].join("\n"),
      {
        "big.tmpl": Buffer.alloc(1024 * 1024 + 1, 0x61),
        "latin1.tmpl": Buffer.from([0x63, 0x61, 0x66, 0xe9]),
        "good.tmpl": "{{ nope }}",
      },
    );
    mkdirSync(join(path, "..", "dir"));
    expect(spawnSync("mkfifo", [join(path, "..", "fifo")]).status).toBe(0);
    const problems = await problemsOf(path);
    expect(problems).toEqual([
      expect.stringMatching(/templates\[0\]\.source: missing\.tmpl does not exist/),
      expect.stringMatching(/templates\[1\]\.source: dir is a directory/),
      expect.stringMatching(/templates\[2\]\.source: big\.tmpl is larger than 1 MiB/),
      expect.stringMatching(/templates\[3\]\.source: latin1\.tmpl is not valid UTF-8/),
      expect.stringMatching(/templates\[4\]\.source: fifo is a FIFO or pipe/),
      expect.stringMatching(
        /good\.tmpl:1:4: unknown function "nope" \(the only function is ref\) \(templates\[5\] in .*secretwrap\.yaml\)/,
      ),
    ]);
    for (const p of problems) expect(p).toMatch(/^CONFIG_INVALID /);
  });
});

describe("templates: targets follow the file target rules, every problem in one run", () => {
  it("bad names, clashes with other declarations, bad modes and template syntax, all reported at once", async () => {
    const path = config(
      [
        "version: 1",
        "secrets:",
        `  DB_FILE: "${REF}"`,
        `  TOKEN: "${REF}"`,
        "templates:",
        `  - { content: "a", target: DB }`, // the file of DB_FILE
        `  - { content: "b", target: ../x }`,
        `  - { content: "c", target: ok1, mode: "0666" }`,
        `  - { content: "d", target: ok2, env: TOKEN }`, // TOKEN is declared
        `  - { content: "e", target: ok3, env: LD_PRELOAD }`,
        `  - { content: "f", target: ok4, env: "1BAD" }`,
        `  - { content: "g", target: ok5 }`,
        `  - { content: "h", target: ok5 }`, // a second template of one file
        `  - { content: "{{ ref \\"ref+file://\\" }}", target: ok6, env: TOKEN }`, // bad text, name still checked
        "",
      ].join("\n"),
    );
    expect(await problemsOf(path)).toEqual([
      expect.stringMatching(
        /^REF_INVALID .*templates\[8\]\.content:1:8: invalid reference ref\+file:\/\/: the locator/,
      ),
      expect.stringMatching(
        /^TARGET_INVALID file DB is already the target of DB_FILE .*a template targets it too \(declared in .* templates\[0\]\)/,
      ),
      expect.stringMatching(/^TARGET_INVALID file name "\.\.\/x" may not be \. or start with \.\./),
      expect.stringMatching(/^TARGET_INVALID mode "0666" must not let group or others write the file/),
      expect.stringMatching(
        /^TARGET_INVALID TOKEN is declared twice \(first in .*secretwrap\.yaml\) \(declared in .* templates\[3\]\)/,
      ),
      expect.stringMatching(/^TARGET_INVALID LD_PRELOAD changes how programs load code/),
      expect.stringMatching(/^TARGET_INVALID "1BAD" is not a valid variable name/),
      expect.stringMatching(/^TARGET_INVALID file ok5 is already the target of template:ok5/),
      expect.stringMatching(/^TARGET_INVALID TOKEN is declared twice .* templates\[8\]\)/),
    ]);
  });

  it("render: a template may not take the file an env target is written to", async () => {
    const path = config(
      `version: 1\nsecrets:\n  TOKEN: "${REF}"\ntemplates:\n  - { content: "x", target: TOKEN }\n`,
    );
    expect(await problemsOf(path)).toEqual([]);
    expect(await problemsOf(path, { command: "render" })).toEqual([
      expect.stringMatching(/^TARGET_INVALID file TOKEN is already the target of TOKEN/),
    ]);
  });
});

describe("templates: the plan", () => {
  it("a template's references join the fetches, deduplicated with the secrets' and each other's", async () => {
    const path = config(
      [
        "version: 1",
        "secrets:",
        `  PASSWORD: "ref+file://./s.json#/db/password"`,
        "templates:",
        "  - content: |",
        `      {{ ref "ref+file://./s.json#/db/user" }} {{ ref "ref+file://./s.json#/db/password" | json }}`,
        `      {{ ref "ref+file://./other.json" }} {{ ref "ref+file://./s.json#/db/user" | url }}`,
        "    target: app.yml",
        "    env: APP_CONFIG",
        '    mode: "0440"',
        "",
      ].join("\n"),
    );
    const { plan } = await declared(path);
    expect([...plan.fetches.keys()]).toEqual(["file://./s.json", "file://./other.json"]);
    expect(plan.targets.map((t) => t.name)).toEqual(["PASSWORD"]);
    expect(plan.templates).toMatchObject([
      {
        name: "template:app.yml",
        fileName: "app.yml",
        mode: 0o440,
        env: "APP_CONFIG",
        refs: [
          { key: "file://./s.json", ref: { raw: "ref+file://./s.json#/db/user" } },
          { key: "file://./s.json", ref: { raw: "ref+file://./s.json#/db/password" } },
          { key: "file://./other.json", ref: { raw: "ref+file://./other.json" } },
        ],
      },
    ]);
  });

  it("a config with only a template declares something: check and render do not call it empty", async () => {
    const path = config(`version: 1\ntemplates:\n  - { content: "static", target: a }\n`);
    for (const command of ["check", "render", "run"] as const) {
      const { plan } = await declared(path, { command, allowEmpty: false });
      expect(plan.templates).toHaveLength(1);
    }
  });
});

describe("templates and expanded secrets (every key of a secret)", () => {
  it("a key whose name or file is a template's `env` or target fails the expansion (78), naming the template", async () => {
    const path = config(
      [
        "version: 1",
        "secrets:",
        '  APP_: { ref: "ref+file://./s.json", expand: true }',
        '  TLS_: { ref: "ref+file://./t.json", expand: true, file: true }',
        "templates:",
        '  - { content: "x", target: TLS_KEY, env: APP_CONFIG }',
        "",
      ].join("\n"),
    );
    const { plan } = await declared(path);
    const outcomes = new Map<string, FetchOutcome>([
      [
        "file://./s.json",
        { ok: true, fetched: { bytes: Buffer.from('{"config":"a","other":"b"}') }, durationMs: 1 },
      ],
      ["file://./t.json", { ok: true, fetched: { bytes: Buffer.from('{"key":"k"}') }, durationMs: 1 }],
    ]);
    const result = targetValues(plan, outcomes, "run", new Redactor());
    expect(result.failures.map((f) => `${f.code} ${f.message}`)).toEqual([
      expect.stringMatching(
        /^TARGET_INVALID .*key "config" gives APP_CONFIG, which is taken by template:TLS_KEY/,
      ),
      expect.stringMatching(/^TARGET_INVALID .*key "key" .*TLS_KEY.* template:TLS_KEY/),
    ]);
    expect(result.values.has("template:TLS_KEY")).toBe(true);
  });
});
