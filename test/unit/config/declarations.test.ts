// The declaration rules of issue #13: keys are data (R4), nothing declared is not a success (R5),
// every --env-file is loaded (R14), one precedence rule with a warning per conflict (R15), and one run
// reports every problem of every pass (R17).
import fc from "fast-check";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { declare, type DeclareInput } from "../../../src/config/declare.ts";
import { loadDeclarations } from "../../../src/config/load.ts";
import { parseEnvFile } from "../../../src/config/envfile.ts";
import { parseRef } from "../../../src/config/ref.ts";
import { SecretsFailedError, SecretwrapError } from "../../../src/errors.ts";
import { buildChildEnv } from "../../../src/output/env.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-decl-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;
const file = (text: string, ext = "yaml"): string => {
  const path = join(work, `f${counter++}.${ext}`);
  writeFileSync(path, text);
  return path;
};

/** The messages of a failed declare(), one per problem, or [] when it succeeded. */
async function problemsOf(input: Partial<DeclareInput>): Promise<string[]> {
  try {
    await declare({ command: "check", env: {}, allowNames: [], allowEmpty: true, ...input });
    return [];
  } catch (error) {
    if (!(error instanceof SecretwrapError)) throw error;
    const all = error instanceof SecretsFailedError ? error.failures : [error];
    return all.map((e) => `${e.subject.secret ?? ""} ${e.code} ${e.message}`);
  }
}

// Keys that name Object.prototype's machinery, plus any string at all.
const OBJECT_MACHINERY = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "__defineGetter__",
  "isPrototypeOf",
];
const anyKey = fc.oneof(fc.constantFrom(...OBJECT_MACHINERY), fc.string({ maxLength: 20 }));
const identifierKey = fc.oneof(
  fc.constantFrom(...OBJECT_MACHINERY.filter((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/),
);

describe("R4: map keys are data", () => {
  const secretRef = "ref+file:///run/secret";

  it("R4: any secret name in a YAML or JSON config is declared or refused with 78, never ignored", async () => {
    await fc.assert(
      fc.asyncProperty(anyKey, fc.boolean(), fc.boolean(), async (name, json, objectForm) => {
        const entry = objectForm ? { ref: secretRef } : secretRef;
        const text = json
          ? `{"version": 1, "secrets": {${JSON.stringify(name)}: ${JSON.stringify(entry)}}}`
          : `version: 1\nsecrets:\n  ${JSON.stringify(name)}: ${JSON.stringify(entry)}\n`;
        const loaded = await loadDeclarations({ env: {}, configPath: file(text) });
        const declared = loaded.declarations.map((d) => d.name);
        if (loaded.problems.length === 0) {
          expect(declared).toEqual([name]);
          // …and the plan either keeps it as a target or refuses it with 78.
          const problems = await problemsOf({ configPath: file(text) });
          if (problems.length > 0) expect(problems.join("\n")).toMatch(/TARGET_INVALID/);
        } else {
          for (const p of loaded.problems) expect(p.exitCode).toBe(78);
        }
      }),
      { numRuns: 300 },
    );
  });

  it.each(OBJECT_MACHINERY)("R4: %j is a name like any other in every place", async (key) => {
    const valid = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
    // config: secrets
    const config = await loadDeclarations({
      env: {},
      configPath: file(`{"version": 1, "secrets": {${JSON.stringify(key)}: "ref+file:///x"}}`, "json"),
    });
    expect(config.declarations.map((d) => d.name)).toEqual([key]);
    // config: a secret object's own keys and the top level are strict: an unknown key is refused, not skipped
    const strictSecret = await problemsOf({
      configPath: file(
        `{"version": 1, "secrets": {"A": {"ref": "ref+file:///x", ${JSON.stringify(key)}: 1}}}`,
      ),
    });
    expect(strictSecret.join("\n")).toContain(`unknown key ${JSON.stringify(key)}`);
    const strictTop = await problemsOf({ configPath: file(`{"version": 1, ${JSON.stringify(key)}: {}}`) });
    expect(strictTop.join("\n")).toContain(`unknown key ${JSON.stringify(key)}`);
    // config: providers
    const providers = await problemsOf({
      configPath: file(`{"version": 1, "providers": {${JSON.stringify(key)}: {}}}`),
    });
    expect(providers.join("\n")).toContain(`providers: unknown key ${JSON.stringify(key)}`);
    // reference parameters
    expect(() => parseRef(`ref+vault://secret/app?${key}=1`)).toThrow(/unknown parameter/);
    // env-file: a reference is declared, a plain value is kept
    if (valid) {
      const envFile = file(`${key}=ref+file:///x\nPLAIN_${key}=1\n${key}2=plain\n`, "env");
      const loaded = await loadDeclarations({ env: {}, envFiles: [envFile] });
      expect(loaded.declarations.map((d) => d.name)).toEqual([key]);
      expect(Object.entries(loaded.envFileValues)).toEqual([
        [`PLAIN_${key}`, "1"],
        [`${key}2`, "plain"],
      ]);
    } else {
      expect(parseEnvFile(`${key}=ref+file:///x`).problems).toHaveLength(1);
    }
    // environment
    const env: Record<string, string> = Object.fromEntries([[key, "ref+file:///x"]]);
    const fromEnv = await loadDeclarations({ env });
    expect(fromEnv.declarations.map((d) => d.name)).toEqual([key]);
  });

  it("R4: any env-file name reaches the app's environment as a name (or is a numbered problem)", () => {
    fc.assert(
      fc.property(
        identifierKey,
        fc.string({ maxLength: 10 }).filter((v) => !/[\s#"'\\]/.test(v)),
        (name, value) => {
          const { entries, problems } = parseEnvFile(`${name}=${value}`);
          expect(problems).toEqual([]);
          const envFileValues = Object.fromEntries(entries.map((e) => [e.name, e.value]));
          const env = buildChildEnv({
            inherited: {},
            pristine: false,
            keepEnv: [],
            envFileValues,
            declaredNames: new Set(),
            assigned: new Map(),
            consumedEnv: [],
          });
          expect(Object.hasOwn(env, name)).toBe(true);
          expect(env[name]).toBe(value);
          expect(Object.keys(env)).toEqual([name]);
        },
      ),
      { numRuns: 500 },
    );
  });

  // Key texts that YAML 1.2's core schema would read as a boolean, null, number, NaN or infinity.
  const anyCase = (word: string): fc.Arbitrary<string> =>
    fc
      .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
      .map((upper) => [...word].map((c, i) => (upper[i] === true ? c.toUpperCase() : c)).join(""));
  const sign = fc.constantFrom("", "-", "+");
  const digits = fc.stringMatching(/^[0-9]{1,6}$/);
  const nonStringKey = fc.oneof(
    fc.constantFrom("true", "false", "yes", "no", "on", "off", "null", "y", "n").chain(anyCase),
    fc.constant("~"),
    fc.tuple(sign, fc.constantFrom(".inf", ".nan").chain(anyCase)).map(([s, w]) => s + w),
    fc.tuple(sign, digits).map(([s, d]) => s + d),
    fc
      .tuple(fc.constantFrom("0x", "0o"), fc.stringMatching(/^[0-7]{1,6}$/), fc.boolean())
      .map(([prefix, d, upper]) => prefix + (upper && prefix === "0x" ? `${d}aF` : d)),
    fc
      .tuple(
        sign,
        fc.option(digits),
        fc.option(digits),
        fc.option(fc.tuple(fc.constantFrom("e", "E"), sign, digits)),
      )
      .filter(([, whole, fraction]) => whole !== null || fraction !== null)
      .map(([s, whole, fraction, exponent]) => {
        const mantissa = `${whole ?? ""}.${fraction ?? ""}`;
        return s + mantissa + (exponent === null ? "" : exponent.join(""));
      }),
    fc.tuple(sign, digits, fc.constantFrom("e", "E"), sign, digits).map((parts) => parts.join("")),
  );

  it("R4: a YAML key is the text written: true, ~, null, .nan, .inf, 0x1A, 1e3 stay names as written", async () => {
    await fc.assert(
      fc.asyncProperty(nonStringKey, async (key) => {
        // Values keep their types: optional must still be a boolean for the schema.
        const text = `version: 1\nsecrets:\n  ${key}: { ref: "ref+file:///x", optional: true }\n`;
        const loaded = await loadDeclarations({ env: {}, configPath: file(text) });
        expect(loaded.problems.map((p) => p.message)).toEqual([]);
        expect(loaded.declarations.map((d) => [d.name, d.optional])).toEqual([[key, true]]);
        // Then the name rules apply to that text: refused with 78, never silently renamed.
        const problems = await problemsOf({ configPath: file(text) });
        if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) expect(problems).toEqual([]);
        else {
          expect(problems).toHaveLength(1);
          expect(problems[0]).toContain(`${key} TARGET_INVALID "${key}" is not a valid variable name`);
        }
        // Everywhere else too: a secret object's keys, the top level, providers.
        const elsewhere = await problemsOf({
          configPath: file(
            `version: 1\n${key}: 1\nproviders: { ${key}: {} }\nsecrets:\n  A: { ref: "ref+file:///x", ${key}: 1 }\n`,
          ),
        });
        const quoted = JSON.stringify(key);
        expect(elsewhere.join("\n")).toContain(`(top level): unknown key ${quoted}`);
        expect(elsewhere.join("\n")).toContain(`providers: unknown key ${quoted}`);
        expect(elsewhere.join("\n")).toContain(`secrets.A: unknown key ${quoted}`);
      }),
      { numRuns: 300 },
    );
  });

  it("R4: a key that cannot be text (a list, an alias, !!int) is refused with 78 and a position", async () => {
    for (const entry of [
      "? [a]\n  : ref+file:///x",
      "!!int 7: ref+file:///x",
      "&k A: ref+file:///x\n  *k : ref+file:///y",
    ]) {
      const loaded = await loadDeclarations({
        env: {},
        configPath: file(`version: 1\nsecrets:\n  ${entry}\n`),
      });
      expect(loaded.declarations).toEqual([]);
      expect(loaded.problems.map((p) => [p.exitCode, p.message])).toContainEqual([
        78,
        expect.stringMatching(/:\d+:\d+: a mapping key must be plain text/),
      ]);
    }
  });
});

describe("R5: nothing declared", () => {
  it.each([
    ["check", false, 78],
    ["render", false, 78],
    ["check", true, 0],
    ["render", true, 0],
    ["run", false, 0],
    ["run", true, 0],
  ] as const)("R5: %s with nothing declared, allowEmpty=%s → %i", async (command, allowEmpty, code) => {
    let exit = 0;
    try {
      await declare({ command, env: { PATH: "/bin" }, allowNames: [], allowEmpty });
    } catch (error) {
      if (!(error instanceof SecretwrapError)) throw error;
      exit = error.exitCode;
      expect(error.hint).toMatch(/--allow-empty/);
    }
    expect(exit).toBe(code);
  });

  it("R5: a declared secret is not empty, whatever declares it", async () => {
    for (const input of [
      { env: { A: "ref+file:///x" } },
      { env: {}, envFiles: [file("A=ref+file:///x", "env")] },
      { env: {}, configPath: file("version: 1\nsecrets: { A: ref+file:///x }") },
    ]) {
      const { plan } = await declare({ command: "check", allowNames: [], allowEmpty: false, ...input });
      expect(plan.targets.map((t) => t.name)).toEqual(["A"]);
    }
  });
});

describe("R14: every --env-file is loaded, in order", () => {
  it("R14: all files are loaded; a later file wins for a plain value, with a warning", async () => {
    const a = file("A=one\nB=ref+file:///b\nSAME=x\n", "env");
    const b = file("A=two\nC=ref+file:///c\nSAME=x\n", "env");
    const loaded = await loadDeclarations({ env: {}, envFiles: [a, b] });
    expect(loaded.problems).toEqual([]);
    expect(loaded.declarations.map((d) => [d.name, d.source])).toEqual([
      ["B", `${a}:2`],
      ["C", `${b}:2`],
    ]);
    expect({ ...loaded.envFileValues }).toEqual({ A: "two", SAME: "x" });
    expect(loaded.warnings).toEqual([`A: ${b}:1 replaces the value set in ${a}:1`]);
  });

  it("R14: each unreadable file is its own 78 naming the file and why; the others are still read", async () => {
    const dir = join(work, "a-directory");
    mkdirSync(dir, { recursive: true });
    const missing = join(work, "missing.env");
    const bad = file("not an assignment\n", "env");
    const good = file("G=ref+not-a-scheme://x\n", "env");
    const problems = await problemsOf({ envFiles: [missing, dir, bad, good, "/dev/zero"] });
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(new RegExp(`CONFIG_INVALID ${missing}: the --env-file does not exist`));
    expect(problems[1]).toMatch(new RegExp(`CONFIG_INVALID ${dir}: the --env-file is a directory`));
    expect(problems[2]).toMatch(new RegExp(`CONFIG_INVALID ${bad}:1: expected NAME=value`));
    expect(problems[3]).toMatch(/^G PROVIDER_UNKNOWN .*unknown scheme "not-a-scheme"/);
    expect(problems[4]).toMatch(/\/dev\/zero: the --env-file is a device, not a regular file/);
  });
});

describe("R15: one precedence rule, a warning per conflict", () => {
  // Sources a name can come from, weakest first for plain values. The config declares only secrets.
  type Kind = "plain" | "secret";
  interface Source {
    readonly id: "env" | "fileA" | "fileB" | "config";
    readonly kind: Kind;
  }
  const SOURCES: readonly Source[] = [
    { id: "env", kind: "plain" },
    { id: "env", kind: "secret" },
    { id: "fileA", kind: "plain" },
    { id: "fileA", kind: "secret" },
    { id: "fileB", kind: "plain" },
    { id: "fileB", kind: "secret" },
    { id: "config", kind: "secret" },
  ];
  /** The README's rule as a rank: secrets, then the environment, then env-files (later over earlier). */
  const rank = (s: Source): number =>
    s.kind === "secret" ? 4 : s.id === "env" ? 3 : s.id === "fileB" ? 2 : 1;
  const pairs = SOURCES.flatMap((x, i) => SOURCES.slice(i + 1).map((y) => [x, y] as const)).filter(
    ([x, y]) => x.id !== y.id,
  );

  it.each(pairs.map(([x, y]) => [`${x.id}:${x.kind}`, `${y.id}:${y.kind}`, x, y] as const))(
    "R15: %s vs %s",
    async (_x, _y, x, y) => {
      const value = (s: Source): string => (s.kind === "secret" ? `ref+file:///${s.id}` : `from-${s.id}`);
      const env: Record<string, string> = {};
      let fileA = "";
      let fileB = "";
      let config = "version: 1\nsecrets: {}\n";
      for (const s of [x, y]) {
        if (s.id === "env") env["A"] = value(s);
        if (s.id === "fileA") fileA = `A=${value(s)}\n`;
        if (s.id === "fileB") fileB = `A=${value(s)}\n`;
        if (s.id === "config") config = `version: 1\nsecrets:\n  A: ${value(s)}\n`;
      }
      const paths = { fileA: file(fileA, "env"), fileB: file(fileB, "env"), config: file(config) };
      const input = { env, envFiles: [paths.fileA, paths.fileB], configPath: paths.config };
      if (x.kind === "secret" && y.kind === "secret") {
        // Two secrets for one name are never ranked: "declared twice", 78.
        const problems = await problemsOf(input);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/TARGET_INVALID A is declared twice/);
        return;
      }
      const { loaded, plan } = await declare({
        command: "check",
        allowNames: [],
        allowEmpty: true,
        ...input,
      });
      const [winner, loser] = rank(x) > rank(y) ? [x, y] : [y, x];
      const where = (s: Source): string =>
        s.id === "env" ? "the environment" : `${paths[s.id]}${s.id === "config" ? "" : ":1"}`;
      // The winner is what the app gets: a target for a secret, the plain value otherwise.
      const childEnv = buildChildEnv({
        inherited: env,
        pristine: false,
        keepEnv: [],
        envFileValues: loaded.envFileValues,
        declaredNames: new Set(plan.targets.map((t) => t.name)),
        assigned: new Map(plan.targets.map((t) => [t.name, "SECRET"])),
        consumedEnv: [],
      });
      expect(childEnv["A"]).toBe(winner.kind === "secret" ? "SECRET" : value(winner));
      // Exactly one warning, naming the variable and both sources, never a value.
      expect(loaded.warnings).toHaveLength(1);
      const warning = loaded.warnings[0] as string;
      expect(warning.startsWith("A: ")).toBe(true);
      expect(warning).toContain(where(winner));
      expect(warning).toContain(where(loser));
      expect(warning).not.toMatch(/from-/);
    },
  );

  // --pristine: the caller's plain variables are not a source for the app, except PATH/HOME/TERM/LANG
  // and --keep-env names. Those neither win nor warn; the others behave as without --pristine.
  it.each([
    { pristine: false, keepEnv: [], name: "A", app: "local", warns: /environment wins over/ },
    { pristine: true, keepEnv: [], name: "A", app: "fromfile", warns: undefined },
    { pristine: true, keepEnv: ["A"], name: "A", app: "local", warns: /environment wins over/ },
    { pristine: true, keepEnv: [], name: "LANG", app: "local", warns: /environment wins over/ },
    { pristine: false, keepEnv: ["A"], name: "A", app: "local", warns: /environment wins over/ },
  ])(
    "R15: --pristine $pristine, --keep-env $keepEnv: caller's $name=local vs env-file $name=fromfile → $app",
    async ({ pristine, keepEnv, name, app, warns }) => {
      const envFile = file(`${name}=fromfile\n`, "env");
      const env = { [name]: "local" };
      const { loaded, plan } = await declare({
        command: "run",
        env,
        envFiles: [envFile],
        allowNames: [],
        allowEmpty: true,
        inheritance: { pristine, keepEnv },
      });
      const childEnv = buildChildEnv({
        inherited: env,
        pristine,
        keepEnv,
        envFileValues: loaded.envFileValues,
        declaredNames: new Set(plan.targets.map((t) => t.name)),
        assigned: new Map(),
        consumedEnv: [],
      });
      expect(childEnv[name]).toBe(app);
      if (warns === undefined) expect(loaded.warnings).toEqual([]);
      else expect(loaded.warnings).toEqual([expect.stringMatching(warns)]);
    },
  );

  it("R15: with --pristine a secret replacing a caller's variable the app would not see does not warn", async () => {
    const config = file("version: 1\nsecrets:\n  A: ref+file:///a\n");
    const declared = (pristine: boolean) =>
      declare({
        command: "run",
        env: { A: "local" },
        configPath: config,
        allowNames: [],
        allowEmpty: true,
        inheritance: { pristine, keepEnv: [] },
      });
    expect((await declared(false)).loaded.warnings).toEqual([
      expect.stringMatching(/^A: the secret declared/),
    ]);
    expect((await declared(true)).loaded.warnings).toEqual([]);
  });

  it("R15: no warning when nothing conflicts or the plain values agree", async () => {
    const a = file("A=same\nB=ref+file:///b\n", "env");
    const loaded = await loadDeclarations({ env: { A: "same", C: "other" }, envFiles: [a] });
    expect(loaded.warnings).toEqual([]);
  });
});

describe("R17: one pass reports every config problem", () => {
  // render writes every target as a file, an env target's named after its variable: two targets of one
  // file name are a plan problem (78 naming both) before any fetch, not a false attack report at publish.
  it.each([
    {
      how: "environment: A and A_FILE",
      input: { env: { A: "ref+file:///nonexistent/s", A_FILE: "ref+file:///nonexistent/j.json#pass" } },
      first: "A",
      second: "A_FILE",
    },
    {
      how: "config: A and B with file: A",
      input: {
        configPath: file(
          "version: 1\nsecrets:\n  A: ref+file:///nonexistent/s\n  B: { ref: 'ref+file:///nonexistent/j', file: A }\n",
        ),
      },
      first: "A",
      second: "B",
    },
    {
      how: "config: B with file: A before env-file A",
      input: {
        configPath: file("version: 1\nsecrets:\n  B: { ref: 'ref+file:///nonexistent/j', file: A }\n"),
        envFiles: [file("A=ref+file:///nonexistent/s\n", "env")],
      },
      first: "A",
      second: "B",
    },
  ])("R17: render refuses two targets of one file name, env targets included ($how)", async (c) => {
    const problems = await problemsOf({ command: "render", ...c.input });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(
        `^${c.second} TARGET_INVALID file A is already the target of ${c.first} \\(declared in .+\\); ${c.second} targets it too`,
      ),
    );
    // run and check give A as a variable, B (or A_FILE) as file A: no clash there.
    expect(await problemsOf({ command: "check", ...c.input })).toEqual([]);
  });

  // Independent problems, each in its own secret or part, each recognisable by a marker in the output.
  const PROBLEMS = {
    unknownTopKey: { yaml: "extraTop: 1", marker: /unknown key "extraTop"/ },
    badVersion: { yaml: "", marker: /version: expected 1/ },
    unknownProvider: { yaml: "providers: { vualt: {} }", marker: /providers: unknown key "vualt"/ },
    badAllowNames: { yaml: "allowNames: 5", marker: /allowNames: expected array/ },
    unknownSecretKey: {
      secret: "S_KEY: { ref: 'ref+file:///x', optinal: true }",
      marker: /secrets\.S_KEY: unknown key "optinal"/,
    },
    notAnEntry: { secret: "S_NUM: 5", marker: /secrets\.S_NUM: expected a reference string/ },
    badScheme: { secret: "S_SCHEME: ref+vualt://x/y", marker: /S_SCHEME PROVIDER_UNKNOWN/ },
    badLocator: { secret: "S_LOC: ref+vault://onlymount", marker: /S_LOC REF_INVALID/ },
    badName: { secret: "1BAD: ref+file:///x", marker: /1BAD TARGET_INVALID .*not a valid variable name/ },
    badNameAndRef: {
      secret: "2BAD: ref+vualt://x",
      marker: /2BAD TARGET_INVALID .*not a valid variable name/,
    },
    dangerousName: { secret: "LD_PRELOAD: ref+file:///x", marker: /LD_PRELOAD TARGET_INVALID/ },
    badFile: {
      secret: "S_FILE: { ref: 'ref+file:///x', file: '../up' }",
      marker: /S_FILE TARGET_INVALID .*start with \.\./,
    },
    badMode: {
      secret: "S_MODE: { ref: 'ref+file:///x', file: m, mode: '0777' }",
      marker: /S_MODE TARGET_INVALID .*must not let group/,
    },
    envFileLine: { envFile: "this is not an assignment", marker: /:1: expected NAME=value/ },
    envFileRef: { envFile: "E_REF=ref+vault://x", marker: /E_REF REF_INVALID/ },
    envRef: { env: "ref+gcpsecrets://NOT-A-PROJECT/x", marker: /V_REF REF_INVALID/ },
    declaredTwice: {
      envFile: "TWICE=ref+file:///a",
      secret: "TWICE: ref+file:///b",
      marker: /TWICE is declared twice/,
    },
  } as const;
  type Name = keyof typeof PROBLEMS;
  const names = Object.keys(PROBLEMS) as Name[];

  it("R17: any set of independent problems is reported in ONE run, all of them", async () => {
    await fc.assert(
      fc.asyncProperty(fc.subarray(names, { minLength: 1 }), async (chosen) => {
        const top: string[] = [];
        const secrets: string[] = ["GOOD: ref+file:///fine"];
        const envLines: string[] = [];
        const env: Record<string, string> = {};
        for (const name of chosen) {
          const p = PROBLEMS[name] as { yaml?: string; secret?: string; envFile?: string; env?: string };
          if (p.yaml !== undefined && p.yaml !== "") top.push(p.yaml);
          if (p.secret !== undefined) secrets.push(p.secret);
          if (p.envFile !== undefined) envLines.push(p.envFile);
          if (p.env !== undefined) env["V_REF"] = p.env;
        }
        const yaml = [
          chosen.includes("badVersion") ? "version: 2" : "version: 1",
          ...top,
          "secrets:",
          ...secrets.map((s) => `  ${s}`),
        ].join("\n");
        const problems = await problemsOf({
          env,
          configPath: file(yaml),
          envFiles: [file(envLines.join("\n"), "env")],
        });
        const output = problems.join("\n");
        for (const name of chosen) expect(output, name).toMatch(PROBLEMS[name].marker);
        // Nothing else: no problem is invented, none reported twice.
        const expectedCount = chosen.length + (chosen.includes("badNameAndRef") ? 1 : 0);
        expect(problems, output).toHaveLength(expectedCount);
        expect(output).not.toMatch(/GOOD/);
      }),
      { numRuns: 150 },
    );
  });

  // Several problems on the SAME declaration: none may hide another (a bad mode hid a bad file name,
  // a schema error hid everything else about the secret).
  type Part = { readonly text?: string; readonly markers: readonly RegExp[] };
  const none: Part = { markers: [] };
  const NAME = {
    good: { text: "MULTI", markers: [] },
    bad: { text: "9MULTI", markers: [/9MULTI TARGET_INVALID .*not a valid variable name/] },
  } as const;
  const REF: Record<string, Part> = {
    good: { text: "ref: 'ref+file:///x'", markers: [] },
    badScheme: { text: "ref: 'ref+vualt://x'", markers: [/MULTI PROVIDER_UNKNOWN/] },
    notText: { text: "ref: 5", markers: [/secrets\.9?MULTI\.ref: expected string/] },
  };
  const FILE: Record<string, Part> = {
    none,
    good: { text: "file: m", markers: [] },
    dotDot: { text: "file: ../etc", markers: [/TARGET_INVALID .*start with \.\./] },
    slash: { text: "file: a/b", markers: [/TARGET_INVALID .*may not contain \//] },
    empty: { text: "file: ''", markers: [/TARGET_INVALID .*file name is empty/] },
    notText: { text: "file: 7", markers: [/secrets\.9?MULTI\.file: expected string/] },
  };
  const MODE: Record<string, Part> = {
    none,
    good: { text: "mode: '0400'", markers: [] },
    notOctal: { text: "mode: '0999'", markers: [/TARGET_INVALID .*mode "0999" must be an octal string/] },
    letters: { text: "mode: abc", markers: [/TARGET_INVALID .*mode "abc" must be an octal string/] },
    groupWrite: { text: "mode: '0777'", markers: [/TARGET_INVALID .*must not let group/] },
  };
  const SCHEMA: Record<string, Part> = {
    none,
    unknownKey: { text: "optinal: true", markers: [/secrets\.9?MULTI: unknown key "optinal"/] },
    wrongType: { text: "optional: 'yes'", markers: [/secrets\.9?MULTI\.optional: expected boolean/] },
    defaultNotOptional: {
      text: "default: fallback",
      markers: [/secrets\.9?MULTI\.default: a default applies only to a secret with optional: true/],
    },
    defaultIsRef: {
      text: "optional: true, default: 'ref+file:///y'",
      markers: [/secrets\.9?MULTI\.default: a default is a literal value, not a reference/],
    },
    defaultGood: { text: "optional: true, default: fallback", markers: [] },
  };
  const pick = (parts: Record<string, Part>): fc.Arbitrary<Part> => fc.constantFrom(...Object.values(parts));

  it("R17: every problem of ONE declaration (name, ref, file name, mode, schema) is reported in one run", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(NAME.good, NAME.bad),
        pick(REF),
        pick(FILE),
        pick(MODE),
        pick(SCHEMA),
        async (name, ref, fileName, mode, schema) => {
          const fields = [ref, fileName, mode, schema].flatMap((p) => (p.text === undefined ? [] : [p.text]));
          const yaml = `version: 1\nsecrets:\n  GOOD: ref+file:///fine\n  ${name.text}: { ${fields.join(", ")} }\n`;
          const markers = [name, ref, fileName, mode, schema].flatMap((p) => p.markers);
          // A mode without a file (MULTI does not end in _FILE) is a problem of its own.
          if (mode.text !== undefined && fileName.text === undefined) markers.push(/is not a file output/);
          const problems = await problemsOf({ configPath: file(yaml) });
          const output = problems.join("\n");
          for (const marker of markers) expect(output, String(marker)).toMatch(marker);
          expect(problems, output).toHaveLength(markers.length);
          expect(output).not.toMatch(/GOOD/);
        },
      ),
      { numRuns: 200 },
    );
  });
});
