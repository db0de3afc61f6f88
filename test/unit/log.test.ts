// R9 (one record, one line) and R10 (masking never reveals a value by inference), on the logger
// and the reports every command prints.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { collectVocabulary } from "../../scripts/vocabulary.mjs";
import { describeRef, parseRef } from "../../src/config/ref.ts";
import { SecretsFailedError, SecretwrapError } from "../../src/errors.ts";
import { selectField } from "../../src/field.ts";
import { parseJson } from "../../src/json.ts";
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat } from "../../src/log.ts";
import { checkFileName, checkName, parseMode } from "../../src/plan.ts";
import { printable } from "../../src/printable.ts";
import { MASK, Redactor } from "../../src/redact.ts";
import { auditLine, reportError } from "../../src/report.ts";
import { VOCABULARY_WORDS } from "../../src/vocabulary.ts";

function logger(format: LogFormat, redactor = new Redactor()) {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", format, redactor, write: (l) => lines.push(l) });
  return { log, lines };
}

// Text that tries to end or disguise a line: every C0/C1 control, DEL, the Unicode separators,
// bidi overrides, lone surrogates, and a forged record, mixed with arbitrary UTF-16 code units.
const hostile = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c)),
      fc.constantFrom("\n", "\r\n", "\u2028", "\u2029", "\u0085", "\u202e", "\u2066", "\ud800", "\udfff"),
      fc.constantFrom("secretwrap: error: forged", "\nsecretwrap: ", " x=y", '"', "\\", "="),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(""));
const fieldsArb = fc.dictionary(
  fc.oneof(fc.constantFrom("ref", "secret", "reason", "msg", "level"), hostile),
  hostile,
  {
    maxKeys: 5,
  },
);

// Independent of src/printable.ts: what a terminal or line-based collector treats as a line end or
// a control sequence, and code units that are not valid Unicode.
// eslint-disable-next-line no-control-regex -- control characters are what is looked for
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const isWellFormed = (s: string): boolean => Buffer.from(s, "utf8").toString("utf8") === s;

describe("R9: one log record per line", () => {
  it("R9: one log record per line, whatever control bytes any field holds (text)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...LOG_LEVELS), hostile, fieldsArb, (level, msg, fields) => {
        const { log, lines } = logger("text");
        log[level](msg, fields);
        expect(lines).toHaveLength(1);
        const line = lines[0] ?? "";
        expect(line.indexOf("\n")).toBe(line.length - 1);
        expect(line.startsWith(level === "info" ? "secretwrap: " : `secretwrap: ${level}: `)).toBe(true);
        expect(UNSAFE_TEXT.test(line.slice(0, -1))).toBe(false);
        expect(isWellFormed(line)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("R9: one JSON object per line, parseable, holding exactly what was logged", () => {
    fc.assert(
      fc.property(fc.constantFrom(...LOG_LEVELS), hostile, fieldsArb, (level, msg, fields) => {
        const { log, lines } = logger("json");
        log[level](msg, fields);
        const line = lines[0] ?? "";
        expect(lines).toHaveLength(1);
        expect(line.indexOf("\n")).toBe(line.length - 1);
        expect(UNSAFE_TEXT.test(line.slice(0, -1))).toBe(false);
        expect(isWellFormed(line)).toBe(true);
        const record = parseJson(line) as Record<string, unknown>;
        expect(record["level"]).toBe(level);
        expect(record["msg"]).toBe(msg);
        for (const [k, v] of Object.entries(fields))
          if (!["time", "level", "msg"].includes(k)) expect(record[k]).toBe(v);
      }),
      { numRuns: 500 },
    );
  });

  it("R9: every line of an error report is its own record, whatever the reference and message hold", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LOG_FORMATS),
        hostile,
        hostile,
        hostile,
        (format, ref, message, hint) => {
          const { log, lines } = logger(format);
          const failure = new SecretwrapError("SECRET_NOT_FOUND", message, {
            hint,
            subject: { secret: "A", ref },
          });
          reportError(
            log,
            new SecretsFailedError([failure, failure], "2 of 2 secrets"),
            "the command was not started",
          );
          auditLine(log, {
            name: "A",
            provider: "file",
            ref,
            version: message,
            target: "env",
            durationMs: 1,
            status: "ok",
          });
          expect(lines).toHaveLength(6);
          for (const line of lines) {
            expect(line.indexOf("\n")).toBe(line.length - 1);
            if (format === "text") expect(line.startsWith("secretwrap:")).toBe(true);
            else expect(() => parseJson(line)).not.toThrow();
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("R9: every user-controlled string in a message is shown by the one rule of printable.ts (\\n, never ?)", () => {
    const thrown = (f: () => unknown): SecretwrapError => {
      try {
        f();
      } catch (error) {
        if (error instanceof SecretwrapError) return error;
        throw error;
      }
      throw new Error("expected a SecretwrapError");
    };
    fc.assert(
      fc.property(hostile, (text) => {
        // A reference: its description, the error's message and its ref= field.
        const raw = `ref+vualt://x/${text}`;
        expect(describeRef(raw)).toBe(printable(raw));
        const refError = thrown(() => parseRef(raw));
        expect(refError.subject.ref).toBe(printable(raw));
        expect(refError.message).toContain(printable(raw));
        // A variable name, a file name, a mode, a #field.
        expect(checkName(`1${text}`, new Set())).toContain(`"${printable(`1${text}`, 100)}"`);
        expect(checkFileName(`../${text}`)).toContain(`"${printable(`../${text}`, 100)}"`);
        expect(parseMode(`x${text}`)).toContain(`"${printable(`x${text}`, 100)}"`);
        const fieldError = thrown(() =>
          selectField({ bytes: new TextEncoder().encode('{"k": 1}') }, `f${text}`),
        );
        expect(fieldError.message).toContain(`"${printable(`f${text}`, 80)}"`);
        // …and the text log shows the escapes, not a stand-in character.
        const { log, lines } = logger("text");
        reportError(log, refError, "the command was not started");
        if (text.includes("\n")) expect(lines.join("")).toContain("\\n");
        if (!raw.includes("?")) expect(lines.join("")).not.toContain("?");
      }),
      { numRuns: 300 },
    );
  });
});

// The fixed text of what secretwrap prints for a failed run, an audit line and a check line.
function printAll(format: LogFormat, redactor: Redactor): string {
  const { log, lines } = logger(format, redactor);
  const failures = [
    new SecretwrapError("SECRET_NOT_FOUND", "/run/secrets/db does not exist", {
      subject: { secret: "DB_PASSWORD", ref: "ref+file:///run/secrets/db" },
    }),
    new SecretwrapError("FETCH_FAILED", "vault: connection refused by vault.example:8200", {
      subject: { secret: "API_KEY", ref: "ref+vault://secret/myapp#api_key" },
    }),
  ];
  reportError(
    log,
    new SecretsFailedError(failures, "2 of 5 secrets could not be resolved"),
    "the command was not started",
  );
  reportError(log, new SecretwrapError("USAGE", "no command after --"), "see --help");
  auditLine(log, {
    name: "TOKEN",
    provider: "awssecrets",
    ref: "ref+awssecrets://prod/myapp#api_key",
    version: "AWSCURRENT",
    target: "file:token",
    durationMs: 12,
    status: "ok",
  });
  log.warn("VAULT_SKIP_VERIFY is ignored: secretwrap always verifies Vault's certificate", {
    provider: "vault",
  });
  return lines.join("");
}

const SCHEMES = ["vault", "awssecrets", "gcpsecrets", "azurekeyvault", "awsssm", "file", "ref", "secretwrap"];

describe("R10: the redactor does not reveal a value by inference", () => {
  it("R10: a value made of secretwrap's own words, a scheme, or too short to hide leaves every message intact", () => {
    const plain = { text: printAll("text", new Redactor()), json: printAll("json", new Redactor()) };
    const words = [
      ...VOCABULARY_WORDS.split(" "),
      ...SCHEMES,
      "a",
      "e:",
      "DB",
      "   ",
      "----",
      "secrets could not",
    ];
    for (const value of words) {
      for (const format of LOG_FORMATS) {
        const redactor = new Redactor();
        redactor.add(value);
        const out = printAll(format, redactor);
        const normalise = (s: string): string => s.replace(/"time":"[^"]*"/g, "");
        expect(normalise(out), value).toBe(normalise(plain[format]));
      }
    }
  });

  it("R10: a value where foreign text carries it is masked there, and only there, for any value", () => {
    // A value that is not spelled by secretwrap's words: some word of it is unknown, or it has a
    // character its messages do not use between words.
    const value = fc
      .tuple(
        fc.stringMatching(/^[A-Za-z0-9]{0,6}$/),
        fc.oneof(fc.stringMatching(/^[a-z0-9]{4,10}$/), fc.stringMatching(/^[!@#$%&*"'`?]{1,3}$/)),
        fc.stringMatching(/^[A-Za-z0-9 ._-]{0,6}$/),
      )
      .map((parts) => parts.join(""))
      .filter((v) => v.length >= 4);
    const vocabulary = new Set(VOCABULARY_WORDS.split(" "));
    fc.assert(
      fc.property(value, fc.constantFrom(...LOG_FORMATS), (secret, format) => {
        const words = secret.toLowerCase().match(/[a-z0-9]+/g) ?? [];
        // values without a letter or digit are not masks at all (docs/security.md#redaction)
        fc.pre(/[A-Za-z0-9]/.test(secret));
        fc.pre(!/^[A-Za-z0-9 \-_./:+]*$/.test(secret) || words.some((w) => !vocabulary.has(w)));
        const fixedBefore = "provider answered 400 for ";
        const fixedAfter = " (the request was not retried)";
        const raw = `${fixedBefore}${secret}${fixedAfter}`;
        // only the planted occurrence, separated from the fixed words
        fc.pre(
          raw.indexOf(secret) === raw.lastIndexOf(secret) &&
            /^[^A-Za-z0-9]|[^A-Za-z0-9]$/.test(` ${secret} `),
        );
        const redactor = new Redactor();
        redactor.add(secret);
        const { log, lines } = logger(format, redactor);
        log.error(raw, { reason: secret, ref: "ref+vault://secret/app#key", code: "FETCH_FAILED" });
        const line = lines[0] ?? "";
        expect(line).not.toContain(secret);
        if (format === "text") {
          expect(line).toBe(
            `secretwrap: error: ${fixedBefore}${MASK}${fixedAfter} reason=${MASK} ref=ref+vault://secret/app#key code=FETCH_FAILED\n`,
          );
        } else {
          const record = parseJson(line) as Record<string, unknown>;
          expect(record["msg"]).toBe(`${fixedBefore}${MASK}${fixedAfter}`);
          expect(record["reason"]).toBe(MASK);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("R10: values that are prefixes or parts of each other are all masked, each by one mask", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]{8,16}$/), fc.integer({ min: 4, max: 7 }), (long, cut) => {
        fc.pre(!new Set(VOCABULARY_WORDS.split(" ")).has(long));
        const short = long.slice(0, cut);
        // "SHORTx" must be neither the long value itself (long = "abcdefgx", cut 7: rightly one mask)
        // nor a word the reader knows ("prefi" + "x"): both are rightly masked differently.
        fc.pre(`${short}x` !== long && !new Set(VOCABULARY_WORDS.split(" ")).has(`${short}x`));
        fc.pre((long.toLowerCase().match(/[a-z0-9]+/g) ?? []).length > 0);
        const redactor = new Redactor();
        redactor.add(short);
        redactor.add(long);
        redactor.add("REDACTED");
        const { log, lines } = logger("text", redactor);
        log.error(`body: ${long}|${short}x|${long}${long}`);
        expect(lines[0]).toBe(`secretwrap: error: body: ${MASK}|${MASK}x|${MASK}\n`);
      }),
    );
  });

  it("R10: names and references are shown as they are, even when a value equals part of them", () => {
    const redactor = new Redactor();
    for (const value of ["acme", "payroll", "ACME_DB", "payroll/db", "ref+vault://acme"]) redactor.add(value);
    const { log, lines } = logger("text", redactor);
    const failure = new SecretwrapError("SECRET_NOT_FOUND", "acme/payroll/db does not exist", {
      subject: { secret: "ACME_DB", ref: "ref+vault://acme/payroll/db#password" },
    });
    reportError(
      log,
      new SecretsFailedError([failure], "1 of 1 secrets could not be resolved"),
      "the command was not started",
    );
    expect(lines[1]).toBe(
      "secretwrap: error:   ✖ ACME_DB SECRET_NOT_FOUND: acme/payroll/db does not exist secret=ACME_DB ref=ref+vault://acme/payroll/db#password code=SECRET_NOT_FOUND\n",
    );
    // the same value outside them is masked
    log.error("server said: payroll-acme is sealed", { reason: "acme" });
    expect(lines.at(-1)).toBe(`secretwrap: error: server said: ${MASK}-${MASK} is sealed reason=${MASK}\n`);
  });

  it("R10: the words of the command line are known: a value equal to one is not pointed at by a mask", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9]{3,11}$/), (word) => {
        const redactor = new Redactor();
        redactor.add(word);
        const lines: string[] = [];
        const command = ["run", "--", `/opt/${word}/bin/server`, `--name=${word}`];
        const log = createLogger({
          level: "debug",
          format: "text",
          redactor,
          write: (l) => lines.push(l),
          known: command,
        });
        log.error(`command not found: /opt/${word}/bin/server`);
        expect(lines[0]).toBe(`secretwrap: error: command not found: /opt/${word}/bin/server\n`);
        // the word is public already (anyone can read the command line); a value that is not stays masked
        const other = `${word}zq7`;
        redactor.add(other);
        log.error(`the server answered ${other}!`);
        expect(lines[1]).toBe(`secretwrap: error: the server answered ${MASK}!\n`);
      }),
    );
  });

  it("R10: the vocabulary holds every word of secretwrap's own strings (rerun scripts/vocabulary.mjs)", () => {
    const listed = new Set(VOCABULARY_WORDS.split(" "));
    const missing = collectVocabulary().filter((word) => !listed.has(word));
    expect(missing).toEqual([]);
  });
});
