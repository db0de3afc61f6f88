// R16: the manifest that says which files in an output dir secretwrap published. It is read from a
// directory other users may write to, so any bytes at all must parse to "nothing is ours" or to exactly
// what secretwrap wrote; file names are data.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJson } from "../../../src/json.ts";
import { parseManifest, serializeManifest, type Stamp } from "../../../src/output/manifest.ts";

const stamp = fc.record(
  {
    ino: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
    uid: fc.integer({ min: 0, max: 0xfffffffe }),
    // A file set's links and generation dirs (file-set.ts); a plain file has no kind.
    kind: fc.constantFrom("link" as const, "dir" as const),
  },
  { requiredKeys: ["ino", "uid"] },
);
const name = fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty"));

describe("R16: the output dir's manifest", () => {
  it("R16: any file names (__proto__ included) and stamps round-trip through the manifest exactly", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.array(stamp, { maxLength: 2 }))), (entries) => {
        const manifest = new Map<string, Stamp[]>(entries);
        expect(parseManifest(serializeManifest(manifest))).toEqual(manifest);
      }),
    );
  });

  it("R16: any other bytes or JSON never throw and never claim a file (an empty manifest)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          const parsed = parseManifest(text);
          // Only a text of secretwrap's exact shape may claim files.
          if (parsed.size > 0) expect(serializeManifest(parsed)).toBe(`${JSON.stringify(parseJson(text))}\n`);
        },
      ),
    );
  });

  it("R16: a manifest with one malformed stamp claims nothing at all", () => {
    fc.assert(
      fc.property(
        fc.array(stamp, { maxLength: 3 }),
        fc.oneof(
          fc.constant({ ino: 12 }),
          fc.constant({ ino: "-1", uid: 0 }),
          fc.constant({ ino: "1", uid: 1.5 }),
          fc.constant({ ino: "1", uid: 0, kind: "file" }),
          fc.constant({ ino: "1", uid: 0, kind: null }),
          fc.string(),
        ),
        (good, bad) => {
          const text = JSON.stringify({ "secretwrap-manifest": 1, files: { a: good, b: [...good, bad] } });
          expect(parseManifest(text).size).toBe(0);
        },
      ),
    );
  });
});
