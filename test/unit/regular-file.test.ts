// src/regular-file.ts keeps what it read, and no more: a value lives as long as the run (under
// --watch, the app's whole life), so its bytes must not pin a buffer the size of the cap.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { readRegularFile } from "../../src/regular-file.ts";
import { scratchDirs } from "../helpers/scratch.ts";

const work = mkdtempSync(join(tmpdir(), "regular-file-"));
const scratch = scratchDirs(work);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("readRegularFile", () => {
  it("reads any content up to the cap exactly, holding no more memory than it read (+1)", () => {
    const dir = scratch();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 0, max: 6000 }), (content, cap) => {
        const path = join(dir, "f");
        writeFileSync(path, content);
        const read = readRegularFile(path, cap);
        if (content.length > cap) {
          expect(read).toMatchObject({ kind: "size" });
          return;
        }
        if (!("bytes" in read)) throw new Error(read.problem);
        expect(Buffer.compare(read.bytes, content)).toBe(0);
        expect(read.bytes.buffer.byteLength).toBeLessThanOrEqual(content.length + 1);
      }),
      { numRuns: 300 },
    );
  });

  it("a file whose size stat cannot tell (procfs says 0) is still read whole, within the cap", () => {
    const read = readRegularFile("/proc/self/status", 1024 * 1024);
    if (!("bytes" in read)) throw new Error(read.problem);
    expect(read.stat.size).toBe(0);
    expect(read.bytes.toString()).toContain("VmRSS");
    expect(readRegularFile("/proc/self/status", 16)).toMatchObject({ kind: "size" });
  });
});
