// R12: the kernel's exec limits are checked before exec, with the kernel's own arithmetic. The
// arithmetic is checked against the real kernel here (spawning /bin/true at the edge and one byte
// past it), so a test fails if the formula drifts from what Linux does.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SecretwrapError } from "../../../src/errors.ts";
import { argumentSpace, checkExecLimits, execSize, stackLimitFrom } from "../../../src/exec/exec-limits.ts";
import { MAX_ARG_STRLEN } from "../../../src/limits.ts";

const TRUE = "/bin/true";
const space = argumentSpace(stackLimitFrom(readFileSync("/proc/self/limits", "utf8")));

/** What the kernel alone counts (execSize keeps extra room for a #! interpreter line). */
function kernelBytes(argv: readonly string[], env: Record<string, string>): number {
  const reserve = 256 + Buffer.byteLength(TRUE) + 1;
  return execSize(TRUE, argv, env).total - reserve;
}

/** Variables of at most 100 000 bytes each whose exec needs exactly `target` kernel bytes. */
function envOfKernelSize(target: number): Record<string, string> {
  const env: Record<string, string> = {};
  let i = 0;
  while (kernelBytes([TRUE], env) + 100_020 < target) env[`V${i++}`] = "x".repeat(100_000);
  const rest = target - kernelBytes([TRUE], { ...env, PAD: "" });
  env["PAD"] = "y".repeat(rest);
  return env;
}

const kernelRuns = (env: Record<string, string>): boolean => {
  const result = spawnSync(TRUE, [], { env });
  if (result.error !== undefined) expect((result.error as NodeJS.ErrnoException).code).toBe("E2BIG");
  return result.error === undefined && result.status === 0;
};

describe("R12: exec limits", () => {
  it("R12: the single-string limit counts NAME=value plus its NUL, exactly as the kernel does", () => {
    const name = "BIG";
    const atLimit = { [name]: "v".repeat(MAX_ARG_STRLEN - 1 - name.length - 1) }; // NAME=value + NUL = 128 KiB
    const over = { [name]: "v".repeat(MAX_ARG_STRLEN - name.length - 1) };
    expect(kernelRuns(atLimit)).toBe(true);
    expect(kernelRuns(over)).toBe(false);
    expect(() => checkExecLimits(TRUE, [TRUE], atLimit)).not.toThrow();
    const error = (() => {
      try {
        checkExecLimits(TRUE, [TRUE], over);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SecretwrapError);
    expect((error as SecretwrapError).exitCode).toBe(69);
    expect((error as SecretwrapError).message).toContain(`${name} (NAME=value is ${MAX_ARG_STRLEN} bytes)`);
    expect((error as SecretwrapError).hint).toContain("X_FILE");
  });

  it("R12: the total limit is the kernel's: at the edge it runs, one byte more is E2BIG", () => {
    expect(kernelRuns(envOfKernelSize(space))).toBe(true);
    expect(kernelRuns(envOfKernelSize(space + 1))).toBe(false);
  });

  it("R12: secretwrap refuses exactly what would not fit, for random sets of sizes around the limit", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: MAX_ARG_STRLEN - 10 }), { minLength: 1, maxLength: 40 }),
        (sizes) => {
          const env = Object.fromEntries(sizes.map((n, i) => [`S${i}`, "z".repeat(n)]));
          const fits = execSize(TRUE, [TRUE], env).total <= space;
          let thrown: unknown;
          try {
            checkExecLimits(TRUE, [TRUE], env, space);
          } catch (e) {
            thrown = e;
          }
          expect(thrown === undefined).toBe(fits);
          if (!fits) {
            const error = thrown as SecretwrapError;
            expect(error.code).toBe("VALUE_UNUSABLE");
            const largest = sizes.indexOf(Math.max(...sizes));
            expect(error.message).toContain(
              `(${((Math.max(...sizes) + `S${largest}`.length + 2) / 1024).toFixed(1)} KiB)`,
            );
            expect(error.hint).toContain("X_FILE");
          }
          // whatever secretwrap lets through, the kernel runs
          if (fits && sizes.length < 25) expect(kernelRuns(env)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("R12: the space is a quarter of the stack limit, at least 32 pages and at most 3/4 of 8 MiB", () => {
    const table: [string, number][] = [
      ["Max stack size            8388608              unlimited            bytes", 2 * 1024 * 1024],
      ["Max stack size            65536                65536                bytes", 128 * 1024],
      ["Max stack size            104857600            unlimited            bytes", 6 * 1024 * 1024],
      ["Max stack size            unlimited            unlimited            bytes", 6 * 1024 * 1024],
      ["Max stack size            16777216             unlimited            bytes", 4 * 1024 * 1024],
    ];
    for (const [line, expected] of table)
      expect(argumentSpace(stackLimitFrom(`Limit\n${line}\n`)), line).toBe(expected);
  });
});
