// Declaring every key of a secret: config `expand: true` (with `file: true` for files) and env-file
// `DB_*=` / `DB_*_FILE=`, and what each refuses at load time (78), before any fetch.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { declare, type DeclareInput } from "../../../src/config/declare.ts";
import { parseEnvFile } from "../../../src/config/envfile.ts";
import { SecretsFailedError, SecretwrapError } from "../../../src/errors.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-expand-decl-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;
const file = (text: string, ext = "yaml"): string => {
  const path = join(work, `f${counter++}.${ext}`);
  writeFileSync(path, text);
  return path;
};

async function declared(input: Partial<DeclareInput>) {
  return await declare({ command: "check", env: {}, allowNames: [], allowEmpty: true, ...input });
}

/** The messages of a failed declare(), one per problem, and the exit code. */
async function refusal(input: Partial<DeclareInput>): Promise<{ messages: string[]; exitCode: number }> {
  try {
    await declared(input);
  } catch (error) {
    if (!(error instanceof SecretwrapError)) throw error;
    const all = error instanceof SecretsFailedError ? error.failures : [error];
    return { messages: all.map((e) => e.message), exitCode: error.exitCode };
  }
  throw new Error("declare() succeeded");
}

const config = (entry: string): string => file(`version: 1\nsecrets:\n  DB_: ${entry}\n`);

describe("config: expand: true", () => {
  it("declares the prefix as DB_* (env) or DB_*_FILE (file: true, with its mode)", async () => {
    const env = await declared({ configPath: config('{ ref: "ref+file:///db.json", expand: true }') });
    expect(env.plan.targets.map((t) => [t.name, t.expand, t.output])).toEqual([
      ["DB_*", { prefix: "DB_", files: false }, { kind: "env" }],
    ]);
    const files = await declared({
      configPath: config('{ ref: "ref+file:///db.json", expand: true, file: true, mode: "0440" }'),
    });
    expect(files.plan.targets.map((t) => [t.name, t.expand, t.output])).toEqual([
      ["DB_*_FILE", { prefix: "DB_", files: true }, { kind: "file", fileName: "DB_*", mode: 0o440 }],
    ]);
  });

  it.each([
    [
      '{ ref: "ref+file:///db.json", expand: true, optional: true, default: "x" }',
      /default does not apply to expand/,
    ],
    [
      '{ ref: "ref+file:///db.json", expand: true, file: "db.txt" }',
      /file is true \(one file per key\) or absent/,
    ],
    ['{ ref: "ref+file:///db.json", file: true }', /file: true\/false applies only with expand: true/],
    ['{ ref: "ref+file:///db.json", expand: "yes" }', /expand/],
    [
      '{ ref: "ref+file:///db.json", expand: true, mode: "0400" }',
      /mode is set but DB_\* is not a file output/,
    ],
  ])("%s is refused (78)", async (entry, message) => {
    const { messages, exitCode } = await refusal({ configPath: config(entry) });
    expect(messages.join("\n")).toMatch(message);
    expect(exitCode).toBe(78);
  });

  it.each([
    ['""', /needs a prefix/],
    ["1DB_", /valid start of a variable name/],
    ["DB-", /valid start of a variable name/],
    ["LD_", /load code/],
  ])("prefix %s is refused (78)", async (prefix, message) => {
    const path = file(`version: 1\nsecrets:\n  ${prefix}: { ref: "ref+file:///db.json", expand: true }\n`);
    const { messages, exitCode } = await refusal({ configPath: path });
    expect(messages.join("\n")).toMatch(message);
    expect(exitCode).toBe(78);
  });
});

describe("env-file: PREFIX*=", () => {
  it("parses DB_* and DB_*_FILE names, and nothing else with a star", () => {
    const { entries, problems } = parseEnvFile("DB_*=ref+file:///a\nDB_*_FILE=ref+file:///b\nA*B=x\n**=y\n");
    expect(entries.map((e) => e.name)).toEqual(["DB_*", "DB_*_FILE"]);
    expect(problems.map((p) => p.line)).toEqual([3, 4]);
  });

  it("DB_* is one env declaration, DB_*_FILE one of files", async () => {
    const envFile = file("DB_*=ref+file:///a.json\nCERT_*_FILE=ref+file:///b.json\n", "env");
    const { plan } = await declared({ envFiles: [envFile] });
    expect(plan.targets.map((t) => [t.name, t.expand, t.output.kind, t.source])).toEqual([
      ["DB_*", { prefix: "DB_", files: false }, "env", `${envFile}:1`],
      ["CERT_*_FILE", { prefix: "CERT_", files: true }, "file", `${envFile}:2`],
    ]);
  });

  it.each([
    ["*=ref+file:///a.json", /needs a prefix/],
    ["*_FILE=ref+file:///a.json", /needs a prefix/],
    ["DB_*=plain value", /its value must be a reference/],
    ["9_*=ref+file:///a.json", /valid start of a variable name/],
    ["DB_*=ref+file:///a.json\nDB_*=ref+file:///b.json", /DB_\* is declared twice/],
  ])("%j is refused (78)", async (text, message) => {
    const { messages, exitCode } = await refusal({ envFiles: [file(text, "env")] });
    expect(messages.join("\n")).toMatch(message);
    expect(exitCode).toBe(78);
  });

  it("the config's DB_ and the env-file's DB_* are one declaration made twice", async () => {
    const { messages } = await refusal({
      envFiles: [file("DB_*=ref+file:///a.json", "env")],
      configPath: config('{ ref: "ref+file:///db.json", expand: true }'),
    });
    expect(messages.join("\n")).toMatch(/DB_\* is declared twice/);
  });
});

describe("plain values an expanded secret's keys replace", () => {
  it("are told once the names are known, by the one precedence rule, and only those", async () => {
    const a = file("DB_USER=from-a\nOTHER=x\n", "env");
    const b = file("DB_USER=from-b\nDB_*=ref+file:///db.json\n", "env");
    const { loaded } = await declared({ envFiles: [a, b], env: { DB_PASSWORD: "inherited", DB_HOST: "h" } });
    const warnings = loaded.laterSecrets([
      { name: "DB_USER", source: `${b}:2 (DB_*)` },
      { name: "DB_PASSWORD", source: `${b}:2 (DB_*)` },
    ]);
    expect(warnings).toEqual([
      `DB_PASSWORD: the secret declared in ${b}:2 (DB_*) replaces the value inherited from the environment`,
      `DB_USER: the secret declared in ${b}:2 (DB_*) replaces the value set in ${a}:1`,
      `DB_USER: the secret declared in ${b}:2 (DB_*) replaces the value set in ${b}:1`,
    ]);
  });

  it("with --pristine an inherited value is no source, so nothing is told about it", async () => {
    const { loaded } = await declared({
      envFiles: [file("DB_*=ref+file:///db.json\n", "env")],
      env: { DB_PASSWORD: "inherited" },
      inheritance: { pristine: true },
    });
    expect(loaded.laterSecrets([{ name: "DB_PASSWORD", source: "x (DB_*)" }])).toEqual([]);
  });
});
