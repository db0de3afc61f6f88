// R6: every environment variable a supported Node documents is classified in src/launch/node-knobs.ts.
// The list is read from each Node the suite runs (test/helpers/nodes.ts): the "Environment variables:"
// section of `node --help`, and the ENVIRONMENT section of its node(1) man page where one ships with it
// (the npm `node` package has one; a distribution's Node has it under /usr/share/man). A Node that
// documents a new variable fails this test until the table says what it does to secretwrap.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { APP_ONLY_VARIABLES } from "../../../src/appenv.ts";
import { parseEnviron, printableName, unrepresentable } from "../../../src/launch/environ.ts";
import { LAUNCH_KNOBS, NODE_KNOBS, RUNTIME_KNOBS } from "../../../src/launch/node-knobs.ts";
import { NODES } from "../../helpers/nodes.ts";

function fromHelp(bin: string): string[] {
  const help = execFileSync(bin, ["--help"], { encoding: "utf8" });
  const section = help.split(/^Environment variables:$/m)[1];
  if (section === undefined) throw new Error(`${bin} --help has no "Environment variables:" section`);
  const names: string[] = [];
  for (const line of section.replace(/^\n/, "").split("\n")) {
    if (line.trim() === "") break;
    const name = /^([A-Z][A-Z0-9_]*)(\s|$)/.exec(line)?.[1];
    if (name !== undefined) names.push(name);
  }
  return names;
}

/** node(1) beside the binary (<prefix>/share/man/man1), plain or gzipped; undefined if none ships. */
function fromManPage(bin: string): string[] | undefined {
  const prefix = dirname(dirname(realpathSync(bin)));
  const base = join(prefix, "share/man/man1/node.1");
  const page = existsSync(base)
    ? readFileSync(base, "utf8")
    : existsSync(`${base}.gz`)
      ? gunzipSync(readFileSync(`${base}.gz`)).toString("utf8")
      : undefined;
  if (page === undefined) return undefined;
  const section = page.split(/^\.Sh ENVIRONMENT$/m)[1]?.split(/^\.Sh /m)[0] ?? "";
  return [...section.matchAll(/^\.It Ev ([A-Z][A-Z0-9_]*)/gm)].map((m) => m[1] ?? "");
}

describe("R6: Node's own environment variables", () => {
  it.each(NODES)(
    "R6: every variable $name documents (--help, node(1)) is classified in one table",
    (node) => {
      const help = fromHelp(node.bin);
      // A parser that finds nothing would make this test pass vacuously.
      expect(help).toContain("NODE_DEBUG");
      expect(help).toContain("NODE_TLS_REJECT_UNAUTHORIZED");
      const man = fromManPage(node.bin);
      if (man !== undefined) expect(man).toContain("NODE_OPTIONS");
      const documented = [...new Set([...help, ...(man ?? [])])];
      const missing = documented.filter((name) => !Object.hasOwn(NODE_KNOBS, name));
      expect(missing, `add these to src/launch/node-knobs.ts`).toEqual([]);
    },
  );

  it("R6: every neutralised knob is app-only (handed back to the app), every harmless one has a reason", () => {
    for (const name of [...LAUNCH_KNOBS, ...RUNTIME_KNOBS]) expect(APP_ONLY_VARIABLES).toContain(name);
    for (const [name, knob] of Object.entries(NODE_KNOBS)) expect(knob.why.length, name).toBeGreaterThan(10);
    // The ones that reached secretwrap before this rule: the NODE_DEBUG leak among them.
    for (const name of ["NODE_OPTIONS", "NODE_DEBUG", "NODE_EXTRA_CA_CERTS", "NODE_PATH", "OPENSSL_CONF"])
      expect(LAUNCH_KNOBS).toContain(name);
  });
});

describe("R1: the raw environment block", () => {
  const variable = fc
    .tuple(
      fc.uint8Array({ minLength: 1, maxLength: 12 }).filter((b) => !b.includes(0) && !b.includes(0x3d)),
      fc.uint8Array({ maxLength: 24 }).filter((b) => !b.includes(0)),
    )
    .map(([name, value]) => ({ name: Buffer.from(name), value: Buffer.from(value) }));

  it("R1: parses any NAME=value bytes back exactly, and flags exactly the entries that are not UTF-8", () => {
    fc.assert(
      fc.property(fc.array(variable, { maxLength: 8 }), (vars) => {
        const block = Buffer.concat(
          vars.flatMap((v) => [v.name, Buffer.from("="), v.value, Buffer.from([0])]),
        );
        const parsed = parseEnviron(block);
        expect(parsed.map((v) => [v.name.toString("hex"), v.value.toString("hex")])).toEqual(
          vars.map((v) => [v.name.toString("hex"), v.value.toString("hex")]),
        );
        const utf8 = (b: Buffer): boolean => Buffer.from(b.toString("utf8"), "utf8").equals(b);
        // Random short names repeat: a later entry whose value differs from the first is flagged too.
        const firstOf = (name: Buffer): Buffer | undefined =>
          vars.find((v) => v.name.equals(name) && utf8(v.name) && utf8(v.value))?.value;
        expect(unrepresentable(parsed).length).toBe(
          vars.filter((v) => {
            if (!utf8(v.name) || !utf8(v.value)) return true;
            const first = vars.find((w) => w.name.equals(v.name) && utf8(w.value));
            return first !== v && !(firstOf(v.name) ?? v.value).equals(v.value);
          }).length,
        );
        // A name is printed without control bytes (one log line); one that is not UTF-8, in ASCII.
        for (const v of parsed) {
          const printed = printableName(v.name);
          expect(printed).not.toMatch(/\p{Cc}/u);
          if (!utf8(v.name)) expect(printed).toMatch(/^[\x20-\x7e]+$/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("R1: an entry without '=' or with an empty name is flagged, never dropped", () => {
    const parsed = parseEnviron(Buffer.from("A=1\0NOEQUALS\0=empty\0B=\0", "latin1"));
    expect(unrepresentable(parsed).map((v) => v.value.toString())).toEqual(["NOEQUALS", "=empty"]);
  });

  it("R1: a name held twice with different values is flagged (getenv and Node see only the first); identical duplicates collapse", () => {
    const name = fc.constantFrom("A", "a.b", "0", "__proto__", "é");
    const value = fc.constantFrom("", "plain", "ref+file:///nonexistent", "x=y");
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 10 }), (entries) => {
        const block = Buffer.from(entries.map(([n, v]) => `${n}=${v}\0`).join(""), "utf8");
        const flagged = unrepresentable(parseEnviron(block)).map((v) => v.name.toString("utf8"));
        const values = new Map<string, Set<string>>();
        for (const [n, v] of entries) values.set(n, (values.get(n) ?? new Set()).add(v));
        // Exactly the names with more than one value are flagged, and only by their later entries.
        expect(new Set(flagged)).toEqual(
          new Set([...values].filter(([, vs]) => vs.size > 1).map(([n]) => n)),
        );
        const first = new Map<string, string>();
        for (const [n, v] of entries) if (!first.has(n)) first.set(n, v);
        expect(flagged.length).toBe(
          entries.filter(([n, v], i) => entries.findIndex(([m]) => m === n) !== i && first.get(n) !== v)
            .length,
        );
      }),
      { numRuns: 500 },
    );
    const parsed = parseEnviron(Buffer.from("A=plain\0B=1\0A=ref+file:///nonexistent\0B=1\0", "utf8"));
    expect(unrepresentable(parsed).map((v) => v.name.toString())).toEqual(["A"]);
  });
});
