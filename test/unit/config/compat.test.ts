// --compat (issue #18): each peer tool's forms → the canonical ref+ reference, as each tool's own source
// reads them; malformed or refused forms → 78 naming the variable without the value; and off by
// default: without --compat no value but a ref+ one is ever a declaration.
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { peerValueProblem, readPeerForm } from "../../../src/config/compat.ts";
import { loadDeclarations } from "../../../src/config/load.ts";
import { fetchKey, isRef, parseRef } from "../../../src/config/ref.ts";
import { SecretwrapError } from "../../../src/errors.ts";
import { collectPlan } from "../../../src/plan.ts";
import { PEER_TOOLS } from "../../../src/provider.ts";
import { canary } from "../../helpers/canary.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-compat-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;
const configFile = (text: string): string => {
  const path = join(work, `c${counter++}.yaml`);
  writeFileSync(path, text);
  return path;
};

const ALL = PEER_TOOLS;

/** [tool, value as the tool's users write it, canonical reference, file target] */
const FORMS: [string, string, string, boolean?][] = [
  // berglas: doc/reference-syntax.md, pkg/berglas/reference.go
  ["berglas", "sm://my-project/db-pass", "ref+gcpsecrets://my-project/db-pass"],
  ["berglas", "sm://my-project/db-pass#3", "ref+gcpsecrets://my-project/db-pass?version=3"],
  ["berglas", "sm://my-project/db-pass#latest", "ref+gcpsecrets://my-project/db-pass?version=latest"],
  ["berglas", "sm://123456789/db_pass", "ref+gcpsecrets://123456789/db_pass"],
  ["berglas", "sm://my%2Dproject/db%2Dpass", "ref+gcpsecrets://my-project/db-pass"],
  ["berglas", "sm://my-project/creds?destination=tempfile", "ref+gcpsecrets://my-project/creds", true],
  [
    "berglas",
    "sm://my-project/creds?destination=tmpfile#2",
    "ref+gcpsecrets://my-project/creds?version=2",
    true,
  ],
  ["berglas", "sm://my-project/creds?destination=", "ref+gcpsecrets://my-project/creds"],
  // secrets-init: README, pkg/secrets/aws/secrets.go, pkg/secrets/google/secrets.go
  [
    "secrets-init",
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
    "ref+awssecrets://arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
  ],
  [
    "secrets-init",
    "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:mydbpassword-cdma3",
    "ref+awssecrets://arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:mydbpassword-cdma3",
  ],
  [
    "secrets-init",
    "arn:aws:ssm:us-east-1:123456789012:parameter/api/key",
    "ref+awsssm://api/key?region=us-east-1",
  ],
  [
    "secrets-init",
    "arn:aws:ssm:us-east-1:123456789012:parameter/api/key:4",
    "ref+awsssm://api/key?region=us-east-1&version=4",
  ],
  ["secrets-init", "arn:aws:ssm::123456789012:parameter/flag", "ref+awsssm://flag"],
  [
    "secrets-init",
    "gcp:secretmanager:projects/my-project/secrets/mydbpassword",
    "ref+gcpsecrets://my-project/mydbpassword",
  ],
  [
    "secrets-init",
    "gcp:secretmanager:projects/my-project/secrets/mydbpassword/versions/2",
    "ref+gcpsecrets://my-project/mydbpassword?version=2",
  ],
  [
    "secrets-init",
    "gcp:secretmanager:projects/my-project/secrets/mydbpassword/versions/latest",
    "ref+gcpsecrets://my-project/mydbpassword?version=latest",
  ],
  // vault-env: bank-vaults/vault-sdk injector/vault/injector.go (the raw API path)
  ["vault-env", "vault:secret/data/app#password", "ref+vault://secret/data/app?api_path=true#password"],
  [
    "vault-env",
    "vault:secret/data/app#password#2",
    "ref+vault://secret/data/app?api_path=true&version=2#password",
  ],
  ["vault-env", "vault:kv/app/config#api_key", "ref+vault://kv/app/config?api_path=true#api_key"],
  ["vault-env", "vault:database/creds/app#username", "ref+vault://database/creds/app?api_path=true#username"],
  ["vault-env", "vault:secret/data/app#a/b", "ref+vault://secret/data/app?api_path=true#a/b"],
  ["vault-env", "vault:secret/data/app#/x~y", "ref+vault://secret/data/app?api_path=true#/~1x~0y"],
  ["vault-env", "vault:secret/data/app#k?q", "ref+vault://secret/data/app?api_path=true#k?q"],
  // >>vault: writes the body (a JSON object, {} when absent) and takes KEY of the answer.
  ["vault-env", ">>vault:pki/issue/web#certificate", "ref+vault://pki/issue/web?write=%7B%7D#certificate"],
  [
    "vault-env",
    '>>vault:pki/issue/web#private_key#{"common_name": "web.internal", "ttl": "1h"}',
    "ref+vault://pki/issue/web?write=%7B%22common_name%22%3A%20%22web.internal%22%2C%20%22ttl%22%3A%20%221h%22%7D#private_key",
  ],
  // The body is everything after the second # (it may hold # and &).
  [
    "vault-env",
    '>>vault:pki/issue/web#certificate#{"alt_names":"a#b&c"}',
    "ref+vault://pki/issue/web?write=%7B%22alt_names%22%3A%22a%23b%26c%22%7D#certificate",
  ],
];

/** [tool, value, what the message says]: the tool claims the value, and secretwrap refuses it (78). */
const REFUSED: [string, string, RegExp][] = [
  ["berglas", "sm://", /PROJECT\/SECRET/],
  ["berglas", "sm://only-project", /PROJECT\/SECRET/],
  ["berglas", "sm:///secret", /PROJECT\/SECRET/],
  ["berglas", "sm://p-roject/a/b", /contains a \//],
  ["berglas", "sm://My_Project/x", /project id/],
  ["berglas", "sm://my-project/x.y", /secret id/],
  ["berglas", "sm://my-project/x#%zz", /%-escape/],
  ["berglas", "sm://my-project/x?destination=/etc/app/key", /own secrets directory/],
  ["berglas", "sm://my-project/x?destinaton=tempfile", /other than destination/],
  ["berglas", "berglas://bucket/object", /Cloud Storage/],
  ["secrets-init", "arn:aws:secretsmanager:eu-west-1:123:secret:x", /not a Secrets Manager secret ARN/],
  ["secrets-init", "arn:aws:secretsmanagerX", /not a Secrets Manager secret ARN/],
  ["secrets-init", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a b", /ARN/],
  ["secrets-init", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x#k", /ARN/],
  ["secrets-init", "arn:aws:ssm:us-east-1:123456789012:parameter/a:b:c", /not an SSM parameter ARN/],
  ["secrets-init", "arn:aws:ssm:us-east-1:123456789012:parameter/", /not an SSM parameter ARN/],
  ["secrets-init", "arn:aws:ssm:us-east-1:123456789012:parameter/x:prod", /label is not supported/],
  ["secrets-init", "arn:aws:ssm:us-east-1:123456789012:parameter/a?b", /not an SSM parameter ARN/],
  // secrets-init cuts NAME=VALUE at every =: it reads the secret `a`, not `a=b` (pkg/secrets/aws).
  ["secrets-init", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a=b", /up to its first =/],
  ["secrets-init", "arn:aws:ssm:us-east-1:123456789012:parameter/a=b", /up to its first =/],
  ["secrets-init", "gcp:secretmanager:projects/my-project/secrets/a=b", /up to its first =/],
  ["secrets-init", "gcp:secretmanager:mydbpassword", /short form/],
  ["secrets-init", "gcp:secretmanager:projects//secrets/x", /not a Secret Manager/],
  ["secrets-init", "gcp:secretmanager:projects/my-project/secrets/x/versions/new", /not a Secret Manager/],
  ["secrets-init", "gcp:secretmanager:projects/my-project/secrets/x/extra", /not a Secret Manager/],
  ["vault-env", "vault:secret/data/app", /no #KEY/],
  ["vault-env", "vault:secret/data/app#", /#KEY is empty/],
  ["vault-env", "vault:#k", /path is empty/],
  ["vault-env", "vault:secret/data/app?x#k", /path/],
  ["vault-env", "vault:secret/data/app#k#latest", /positive whole number/],
  ["vault-env", "vault:secret/data/app#${.user}:${.pass}", /template/],
  ["vault-env", ">>vault:pki/issue/web", /no #KEY/],
  ["vault-env", ">>vault:pki/issue/web#", /#KEY is empty/],
  ["vault-env", ">>vault:#certificate", /path is empty/],
  ["vault-env", ">>vault:pki/issue/web#${.certificate}", /template/],
  ["vault-env", '>>vault:pki/issue/web#certificate#{"common_name":"zqsecret"', /not a JSON object/],
  ["vault-env", '>>vault:pki/issue/web#certificate#["zqsecret"]', /not a JSON object/],
  ["vault-env", ">>vault:pki/issue/web#certificate#zqsecret", /not a JSON object/],
  ["vault-env", ">>vault:pki/issue/web#certificate#null", /not a JSON object/],
  ["vault-env", ">>vault:pki/issue/web#certificate#", /not a JSON object/],
  ["vault-env", "postgres://u:${vault:secret/data/db#password}@db", /interpolation/],
  ["vault-env", "vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w==", /Transit/],
  ["vault-env", "vault:login", /login token/],
];

describe("each form maps to its canonical reference", () => {
  it.each(FORMS)("%s: %s → %s", (tool, value, ref, file = false) => {
    const read = readPeerForm("X", value, [tool], "environment");
    expect(read).toMatchObject({ ref, file, origin: { tool, form: value } });
    // Only its own tool reads it.
    for (const other of ALL.filter((t) => t !== tool))
      expect(readPeerForm("X", value, [other], "e")).toBeUndefined();
  });

  it.each(FORMS)("%s: %s parses as a reference with the form's parts", (_tool, _value, ref) => {
    expect(parseRef(ref).raw).toBe(ref);
  });
});

describe("A4: refused forms: 78 naming the variable, never the value", () => {
  it.each(REFUSED)("%s: %s", (tool, value, why) => {
    const read = readPeerForm("DB_PASSWORD", value, [tool], "a.env:3");
    expect(read).toBeDefined();
    const error = (read as { error: SecretwrapError }).error;
    expect(error).toBeInstanceOf(SecretwrapError);
    expect(error.exitCode).toBe(78);
    expect(error.message).toMatch(why);
    expect(error.message).toContain("DB_PASSWORD");
    expect(error.message).toContain("a.env:3");
    expect(error.subject).toEqual({ secret: "DB_PASSWORD" });
    // The value (past its tool's prefix, which the message names) is in neither message nor hint.
    const tail = value.replace(/^(>>)?vault:|^sm:\/\/|^berglas:\/\/|^arn:aws(-cn)?:|^gcp:secretmanager:/, "");
    // (vault:login is a fixed word, named by the message.)
    if (tail.length >= 4 && tail !== "login") {
      expect(error.message).not.toContain(tail);
      expect(error.hint).not.toContain(tail);
    }
  });
});

/** Whether one of the tools claims a value, by the tests each tool's source makes. */
function claimed(value: string): boolean {
  return (
    value.startsWith("sm://") ||
    value.startsWith("berglas://") ||
    /^arn:aws(-cn)?:secretsmanager/.test(value) ||
    (/^arn:aws(-cn)?:ssm/.test(value) && value.includes(":parameter/")) ||
    value.startsWith("gcp:secretmanager:") ||
    value.startsWith("vault:") ||
    value.startsWith(">>vault:") ||
    /\$\{>{0,2}vault:/.test(value)
  );
}

const PREFIXES = [
  "sm://",
  "berglas://",
  "arn:aws:secretsmanager:",
  "arn:aws-cn:secretsmanager:eu-west-1:123456789012:secret:",
  "arn:aws:ssm:us-east-1:123456789012:parameter/",
  "arn:aws:ssm:",
  "gcp:secretmanager:",
  "gcp:secretmanager:projects/my-project/secrets/",
  "vault:",
  ">>vault:",
  "x${vault:",
  "ref+",
  "SM://",
  "Vault:",
  "",
];
/** Values near the forms: a prefix of one (or none), then anything, including the forms' own characters. */
const tail = fc.string({
  unit: fc.constantFrom(
    ..."ab/#?=%:.-_~${}> 2\n\u202e".split(""),
    "destination=tempfile",
    "projects/",
    "my-project",
  ),
  maxLength: 24,
});
const nearForm = fc.tuple(fc.constantFrom(...PREFIXES), tail).map(([prefix, rest]) => prefix + rest);
/** The same, with a canary that must never be printed if the value is refused. */
const withCanary = fc
  .tuple(fc.constantFrom(...PREFIXES), tail, fc.stringMatching(/^[0-9]{6}$/), tail)
  .map(([prefix, before, digits, after]) => ({
    value: `${prefix}${before}zq${digits}${after}`,
    canary: `zq${digits}`,
  }));

describe("properties", () => {
  it("R13: never throws; claims exactly what the tools claim; an answer is a parsing reference or a 78 without the value", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          nearForm.map((value) => ({ value, canary: undefined })),
          withCanary,
        ),
        ({ value, canary }) => {
          const read = readPeerForm("NAME", value, ALL, "environment");
          expect(read !== undefined).toBe(claimed(value));
          if (read === undefined) return;
          if ("error" in read) {
            expect(read.error.exitCode).toBe(78);
            if (canary !== undefined) expect(read.error.message + read.error.hint).not.toContain(canary);
            return;
          }
          // A canonical reference either parses or is refused with secretwrap's own error (78).
          expect(isRef(read.ref)).toBe(true);
          try {
            const ref = parseRef(read.ref);
            expect(ref.raw).toBe(read.ref);
          } catch (error) {
            expect(error).toBeInstanceOf(SecretwrapError);
            expect((error as SecretwrapError).exitCode).toBe(78);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("off by default: without --compat, only ref+ values are declarations; every other value stays the app's", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(nearForm, { minLength: 1, maxLength: 6 }), async (values) => {
        const env = Object.fromEntries(values.map((v, i) => [`V${i}`, v]));
        const loaded = await loadDeclarations({ env });
        const declared = new Set([
          ...loaded.declarations.map((d) => d.name),
          ...loaded.refless.map((r) => r.name),
        ]);
        for (const [name, value] of Object.entries(env)) expect(declared.has(name)).toBe(isRef(value));
        expect(loaded.problems.every((p) => isRef(env[p.subject.secret ?? ""] ?? ""))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("with --compat, a value no enabled tool claims stays literal", async () => {
    await fc.assert(
      fc.asyncProperty(fc.subarray([...ALL]), nearForm, async (tools, value) => {
        const loaded = await loadDeclarations({ env: { V: value }, compat: tools });
        const declared = loaded.declarations.length + loaded.refless.length > 0;
        const anyClaims = tools.some((t) => readPeerForm("V", value, [t], "e") !== undefined);
        expect(declared).toBe(isRef(value) || anyClaims);
      }),
      { numRuns: 500 },
    );
  });
});

describe("secrets-init reads a value only up to its first =", () => {
  // pkg/secrets/aws/secrets.go and google/secrets.go: `kv := strings.Split(env, "=")`, value = kv[1].
  const cut = (value: string): string => value.split("=")[0] ?? "";
  it("a secrets-init form with = in it is refused: what secrets-init read (the text before it) is not what is written", () => {
    fc.assert(
      fc.property(nearForm, (value) => {
        const read = readPeerForm("V", value, ["secrets-init"], "environment");
        if (read === undefined || !value.includes("=")) return;
        expect(read).toHaveProperty("error");
        // Never a reference to the text after the = (which secrets-init never read).
        expect(read).not.toHaveProperty("ref");
      }),
      { numRuns: 3000 },
    );
    for (const prefix of [
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:",
      "arn:aws:ssm:us-east-1:123456789012:parameter/",
      "gcp:secretmanager:projects/my-project/secrets/",
    ]) {
      const value = `${prefix}app=prod`;
      expect(readPeerForm("V", cut(value), ["secrets-init"], "e")).toHaveProperty("ref");
      expect(readPeerForm("V", value, ["secrets-init"], "e")).toHaveProperty("error");
    }
  });
});

describe("NAME_FILE", () => {
  // README "What differs": a form is a reference, so the _FILE convention applies (the tools would put
  // the value itself into NAME_FILE); berglas' tempfile names the file after the whole variable.
  it.each([
    ["vault-env", "vault:secret/data/app#password", "DB"],
    ["berglas", "sm://my-project/db-pass", "DB"],
    ["secrets-init", "gcp:secretmanager:projects/my-project/secrets/db-pass", "DB"],
    ["berglas", "sm://my-project/db-pass?destination=tempfile", "DB_FILE"],
  ])("%s: DB_FILE=%s is a file named %s", async (tool, value, fileName) => {
    const loaded = await loadDeclarations({ env: { DB_FILE: value }, compat: [tool] });
    const { plan, problems } = collectPlan(loaded.declarations);
    expect([...loaded.problems, ...problems]).toEqual([]);
    expect(plan.targets[0]?.output).toMatchObject({ kind: "file", fileName });
  });
});

describe("a default in a compat form", () => {
  // A default is a literal (README): a ref+ one is refused, and so is one an enabled tool reads as a
  // reference, which would otherwise reach the app as that text where a secret was meant.
  const config = (value: string): string =>
    configFile(
      `version: 1\nsecrets:\n  D: { ref: "ref+file://./none", optional: true, default: ${JSON.stringify(value)} }\n`,
    );
  it.each(FORMS.map(([tool, value]) => [tool, value] as const))(
    "%s: %s as a default is refused with its tool on, kept as text with it off",
    async (tool, value) => {
      const path = config(value);
      const on = await loadDeclarations({ env: {}, configPath: path, compat: [tool] });
      expect(on.problems.map((p) => p.message)).toEqual([
        expect.stringMatching(/secrets\.D\.default: a default is a literal value, not a reference/),
      ]);
      expect(on.problems[0]?.exitCode).toBe(78);
      const tail = value.replace(/^vault:|^sm:\/\/|^arn:aws(-cn)?:|^gcp:secretmanager:/, "");
      expect(`${on.problems[0]?.message} ${on.problems[0]?.hint}`).not.toContain(tail);
      const off = await loadDeclarations({ env: {}, configPath: path, compat: [] });
      expect(off.problems).toEqual([]);
      expect(off.declarations[0]?.default).toBe(value);
    },
  );
  it("a malformed form as a default is refused too, never shown", async () => {
    const planted = canary("DEFAULT");
    const loaded = await loadDeclarations({
      env: {},
      configPath: config(`vault:${planted}`),
      compat: ["vault-env"],
    });
    expect(loaded.problems).toHaveLength(1);
    expect(JSON.stringify(loaded.problems.map((p) => [p.message, p.hint, p.subject]))).not.toContain(planted);
  });
});

describe("secrecy of what is declared", () => {
  it("no problem reported for a compat-form value shows a canary planted in it, whichever tools are on", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.subarray([...ALL], { minLength: 1 }),
        withCanary,
        async (tools, { value, canary }) => {
          const loaded = await loadDeclarations({ env: { V: value }, compat: tools });
          if (isRef(value)) return;
          for (const p of loaded.problems) {
            expect(p.exitCode).toBe(78);
            expect(`${p.message} ${p.hint} ${JSON.stringify(p.subject)}`).not.toContain(canary);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a form whose reference the provider refuses is 78 without the reference (berglas: a too-short project)", async () => {
    const loaded = await loadDeclarations({ env: { V: "sm://zq1/x" }, compat: ["berglas"] });
    expect(loaded.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^the value of V reads as a berglas reference .*not a GCP project id/),
    ]);
    expect(loaded.problems[0]?.message).not.toContain("zq1");
    expect(loaded.problems[0]?.exitCode).toBe(78);
  });
});

describe("where --compat comes from", () => {
  const env = { A: "sm://my-project/a", B: "vault:secret/data/b#k" };
  const names = async (input: Parameters<typeof loadDeclarations>[0]) =>
    (await loadDeclarations(input)).declarations.map((d) => d.name).sort();

  it("the config's compat: applies to every source when --compat is not given", async () => {
    const configPath = configFile(
      "version: 1\ncompat: [berglas]\nsecrets:\n  C: gcp:secretmanager:projects/my-project/secrets/c\n",
    );
    const loaded = await loadDeclarations({ env, configPath });
    expect(loaded.declarations.map((d) => d.name)).toEqual(["A"]);
    // C is in the config but secrets-init is not enabled: it is no reference.
    expect(loaded.problems.map((p) => p.subject.secret)).toEqual(["C"]);
  });

  it("--compat (or SECRETWRAP_COMPAT) replaces the config's list", async () => {
    const configPath = configFile("version: 1\ncompat: [berglas]\n");
    expect(await names({ env, configPath, compat: ["vault-env"] })).toEqual(["B"]);
    expect(await names({ env, configPath })).toEqual(["A"]);
    expect(await names({ env })).toEqual([]);
  });

  it("an unknown tool in the config is a config problem naming it", async () => {
    const configPath = configFile("version: 1\ncompat: [berglas, vals]\n");
    const loaded = await loadDeclarations({ env: {}, configPath });
    expect(loaded.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/compat\[1\]: unknown tool "vals"/),
    ]);
    expect(loaded.problems[0]?.exitCode).toBe(78);
  });

  it("a compat declaration keeps where it came from; berglas' tempfile is a file named after the variable", async () => {
    const loaded = await loadDeclarations({
      env: { GOOGLE_APPLICATION_CREDENTIALS: "sm://my-project/sa-key?destination=tempfile" },
      compat: ["berglas"],
    });
    expect(loaded.declarations).toEqual([
      expect.objectContaining({
        name: "GOOGLE_APPLICATION_CREDENTIALS",
        file: "GOOGLE_APPLICATION_CREDENTIALS",
        source: "environment",
        compat: { tool: "berglas", form: "sm://my-project/sa-key?destination=tempfile" },
      }),
    ]);
  });

  it("an env-file's compat-form value is a secret, and wins over the inherited plain value", async () => {
    const envFile = join(work, "compat.env");
    writeFileSync(envFile, "TOKEN=vault:secret/data/app#token\nPLAIN=vault\n");
    const loaded = await loadDeclarations({
      env: { TOKEN: "placeholder" },
      envFiles: [envFile],
      compat: ["vault-env"],
    });
    expect(loaded.declarations.map((d) => [d.name, d.ref.raw])).toEqual([
      ["TOKEN", "ref+vault://secret/data/app?api_path=true#token"],
    ]);
    expect(loaded.envFileValues).toEqual({ PLAIN: "vault" });
  });
});

describe("secrets-init's JSON object secrets", () => {
  const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf";
  const origin = (() => {
    const read = readPeerForm("DB", arn, ["secrets-init"], "environment");
    if (read === undefined || "error" in read) throw new Error("the ARN must read");
    return read.origin;
  })();
  const bytes = (text: string) => Buffer.from(text);

  it("a JSON object delivered whole is refused (secrets-init sets one variable per key), naming no key or value", () => {
    const error = peerValueProblem(origin, undefined, bytes('{"username":"app","password":"zq123456"}'));
    expect(error?.exitCode).toBe(78);
    expect(`${error?.message} ${error?.hint}`).not.toMatch(/zq123456|username/);
    expect(error?.hint).toContain("#KEY");
  });

  it.each(['"text"', "12345", "[1,2]", "null", "plain text", "{broken", "\u00ff"])(
    "any other value (%s) is delivered as secrets-init would deliver it",
    (text) => {
      expect(peerValueProblem(origin, undefined, bytes(text))).toBeUndefined();
    },
  );

  it("a #key selects from the object as usual, and other forms are never refused", () => {
    expect(peerValueProblem(origin, "password", bytes('{"password":"x"}'))).toBeUndefined();
    const sm = readPeerForm("X", "sm://my-project/s", ["berglas"], "e");
    if (sm === undefined || "error" in sm) throw new Error("sm:// must read");
    expect(peerValueProblem(sm.origin, undefined, bytes('{"a":"b"}'))).toBeUndefined();
    expect(peerValueProblem(undefined, undefined, bytes('{"a":"b"}'))).toBeUndefined();
  });
});

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v);
  } catch {
    return false;
  }
}

describe("vault-env >>vault: write bodies", () => {
  const json = fc.dictionary(
    fc.string({ maxLength: 8 }),
    fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null)),
    { maxKeys: 4 },
  );

  it("any JSON object body: the reference parses and carries the body as written in ?write; the same text is the same fetch", () => {
    fc.assert(
      fc.property(json, fc.constantFrom(0, 2), (body, indent) => {
        const text = JSON.stringify(body, null, indent);
        const value = `>>vault:pki/issue/web#certificate#${text}`;
        const read = readPeerForm("CERT", value, ["vault-env"], "environment");
        expect(read).toBeDefined();
        if (read === undefined || "error" in read) throw new Error("refused");
        const ref = parseRef(read.ref);
        expect(ref.locator).toBe("pki/issue/web");
        expect(ref.field).toBe("certificate");
        expect(ref.params["write"]).toBe(text);
        // Another key of the same text: the same fetch (one write), as vault-env's cache by text.
        const other = readPeerForm("K", `>>vault:pki/issue/web#private_key#${text}`, ["vault-env"], "e");
        if (other === undefined || "error" in other) throw new Error("refused");
        expect(fetchKey(parseRef(other.ref))).toBe(fetchKey(ref));
      }),
      { numRuns: 200 },
    );
  });

  it("a body that is not one JSON object: 78, and nothing of it in the message or hint", () => {
    const notObject = fc.oneof(
      fc.string({ maxLength: 20 }),
      json.map((o) => JSON.stringify(o).slice(0, -1)),
      fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }).map((a) => JSON.stringify(a)),
      fc
        .jsonValue()
        .filter((v) => v === null || typeof v !== "object" || Array.isArray(v))
        .map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(notObject, fc.stringMatching(/^[0-9]{6}$/), (text, digits) => {
        const secret = `zq${digits}`;
        const body = text.length === 0 ? secret : `${text}${secret}`;
        fc.pre(!isJsonObject(body));
        const read = readPeerForm(
          "CERT",
          `>>vault:pki/issue/web#certificate#${body}`,
          ["vault-env"],
          "a.env:2",
        );
        expect(read !== undefined && "error" in read).toBe(true);
        const error = (read as { error: SecretwrapError }).error;
        expect(error.exitCode).toBe(78);
        expect(`${error.message} ${error.hint}`).not.toContain(secret);
      }),
      { numRuns: 200 },
    );
  });

  it("a hand-written ?write must be a JSON object, and not with ?version", () => {
    expect(() => parseRef("ref+vault://pki/issue/web?write=%5B%5D#certificate")).toThrow(/JSON object/);
    expect(() => parseRef("ref+vault://pki/issue/web?write=zq123456#certificate")).toThrow(/JSON object/);
    expect(() => parseRef("ref+vault://pki/issue/web?write=%7B%7D&version=2#certificate")).toThrow(/version/);
    expect(parseRef("ref+vault://pki/issue/web?write=%7B%7D#certificate").params["write"]).toBe("{}");
  });
});
