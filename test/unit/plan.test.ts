import { describe, expect, it } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import { SecretsFailedError } from "../../src/errors.ts";
import { buildPlan, checkFileName, checkName, parseMode, type Declaration } from "../../src/plan.ts";

const decl = (name: string, ref = "ref+file://./x", extra: Partial<Declaration> = {}): Declaration => ({
  name,
  ref: parseRef(ref),
  optional: false,
  source: "test",
  ...extra,
});

describe("A6, A7: target names", () => {
  it.each([
    ["1FOO", /not a valid variable name/],
    ["FOO-BAR", /not a valid variable name/],
    ["FOO=BAR", /not a valid variable name/],
    ["", /not a valid variable name/],
    ["FÖO", /not a valid variable name/],
    ["A\0B", /not a valid variable name/],
    ["LD_PRELOAD", /changes how programs load code/],
    ["LD_LIBRARY_PATH", /changes how programs load code/],
    ["NODE_OPTIONS", /changes how programs load code/],
    ["PATH", /changes how programs load code/],
    ["BASH_ENV", /changes how programs load code/],
    ["PYTHONPATH", /changes how programs load code/],
    ["GCONV_PATH", /changes how programs load code/],
    ["SECRETWRAP_CONFIG", /secretwrap's own settings/],
  ])("refuses %j", (name, message) => {
    expect(checkName(name, new Set())).toMatch(message);
  });

  it("allows a dangerous name only when it is explicitly allowed", () => {
    expect(checkName("LD_PRELOAD", new Set(["LD_PRELOAD"]))).toBeUndefined();
    expect(checkName("DB_PASSWORD", new Set())).toBeUndefined();
    expect(checkName("_x1", new Set())).toBeUndefined();
  });
});

describe("A8: file names (kubelet's rules, one component)", () => {
  it.each([
    "",
    ".",
    "..",
    "..data",
    "..foo",
    "../../x",
    "a/../../b",
    "/abs/path",
    "a/b",
    "new\nline",
    "x".repeat(256),
  ])("refuses %j", (name) => {
    expect(checkFileName(name)).toBeDefined();
  });
  it.each(["tls.key", "DB_PASSWORD", "a..b", ".hidden", "x".repeat(255)])("accepts %j", (name) => {
    expect(checkFileName(name)).toBeUndefined();
  });
});

describe("modes", () => {
  it.each(["777", "0666", "0620", "0200", "abc", "04000", "400x"])("refuses %j", (mode) => {
    expect(typeof parseMode(mode)).toBe("string");
  });
  it.each([
    ["0400", 0o400],
    ["440", 0o440],
    ["0600", 0o600],
    ["0444", 0o444],
  ])("accepts %j", (mode, value) => {
    expect(parseMode(mode)).toBe(value);
  });
});

describe("buildPlan", () => {
  it("A5: refuses a target named like a setting of a provider used in the same run", () => {
    const vault = "ref+vault://secret/app/db#token";
    const problems = (declarations: Declaration[]): string => {
      try {
        buildPlan(declarations);
        return "";
      } catch (error) {
        return (error as SecretsFailedError).failures.map((f) => f.message).join("\n");
      }
    };
    expect(problems([decl("VAULT_TOKEN", vault)])).toMatch(
      /VAULT_TOKEN is a setting the vault provider reads itself/,
    );
    expect(problems([decl("AWS_SECRET_ACCESS_KEY", "ref+awssecrets://prod/app"), decl("X", vault)])).toMatch(
      /awssecrets provider/,
    );
    // Another provider's variable is just a name; an explicit allow also lets it through.
    expect(buildPlan([decl("VAULT_TOKEN", "ref+awssecrets://prod/vault-token")]).targets).toHaveLength(1);
    expect(buildPlan([decl("VAULT_TOKEN", vault)], new Set(["VAULT_TOKEN"])).targets).toHaveLength(1);
  });

  it("fetches a secret once however many fields are used", () => {
    const plan = buildPlan([
      decl("USER", "ref+file://./db.json#user"),
      decl("PASS", "ref+file://./db.json#password"),
      decl("OTHER", "ref+file://./o"),
    ]);
    expect(plan.fetches.size).toBe(2);
    expect(plan.targets).toHaveLength(3);
    expect(plan.schemes).toEqual(["file"]);
  });

  it("X_FILE becomes a file named X with mode 0400; `file:` and `mode:` override", () => {
    const plan = buildPlan([
      decl("DB_PASSWORD_FILE"),
      decl("TLS", "ref+file://./k", { file: "tls.key", mode: "0440" }),
      decl("_FILE"),
    ]);
    expect(plan.targets.map((t) => t.output)).toEqual([
      { kind: "file", fileName: "DB_PASSWORD", mode: 0o400 },
      { kind: "file", fileName: "tls.key", mode: 0o440 },
      { kind: "env" },
    ]);
  });

  it("reports every problem at once", () => {
    let caught: unknown;
    try {
      buildPlan([
        decl("1BAD"),
        decl("A", "ref+file://./a", { file: "../x" }),
        decl("B", "ref+file://./b", { file: "same" }),
        decl("C", "ref+file://./c", { file: "same" }),
        decl("B"),
        decl("E", "ref+file://./e", { mode: "0400" }),
      ]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SecretsFailedError);
    const messages = (caught as SecretsFailedError).failures.map((f) => f.message);
    expect(messages).toHaveLength(5);
    expect(messages.join("\n")).toMatch(
      /not a valid variable name[\s\S]*start with \.\.[\s\S]*already the target of B[\s\S]*declared twice[\s\S]*not a file output/,
    );
    expect((caught as SecretsFailedError).exitCode).toBe(78);
  });
});
