// The leftover guard counts what this suite created, and only that: another suite's (or anyone's)
// secretwrap run on the same machine leaves dirs of the same shape at the same time.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterEach, expect, it } from "vitest";
import setup from "../global/shm-leftovers.ts";
import { canary, SUITE_TOKEN_VARIABLE } from "../helpers/canary.ts";
import { DEFAULT_SECRETS_PARENT } from "../helpers/secrets-dirs.ts";

const made: string[] = [];
const ownToken = process.env[SUITE_TOKEN_VARIABLE];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  process.env[SUITE_TOKEN_VARIABLE] = ownToken;
});

function leftover(content: string): string {
  const dir = mkdtempSync(join(DEFAULT_SECRETS_PARENT, "secretwrap-"));
  made.push(dir);
  writeFileSync(join(dir, "DB_PASSWORD"), content, { mode: 0o400 });
  return basename(dir);
}

it("fails on a dir this suite left behind, and names it", () => {
  const teardown = setup();
  const ours = leftover(canary("LEFT"));
  expect(teardown).toThrow(new RegExp(`left secrets dirs in ${DEFAULT_SECRETS_PARENT}: .*${ours}`));
});

it("ignores dirs another run left: another suite's canaries, or anyone's secrets", () => {
  const teardown = setup();
  const theirs = [leftover(`CANARY_LEFT_${"0".repeat(8)}${"1".repeat(10)}`), leftover("a production secret")];
  // Only these two are checked: a test of this suite running beside this one may hold a dir of its own.
  let message = "";
  try {
    teardown();
  } catch (error) {
    message = (error as Error).message;
  }
  for (const name of theirs) expect(message).not.toContain(name);
});
