// The suite must not leave secrets behind. An exec-mode run leaves its default secrets dir
// (/dev/shm/secretwrap-XXXXXX) to the app, and nobody removes it after a test's app exits: each test
// that uses the default dir removes it itself. This fails the run if one did not.
//
// Only what this suite created counts: other secretwrap runs on the machine (another checkout's
// suite, a developer's own run) create and leave dirs of the same shape at the same time. A dir is
// this suite's when a file in it holds one of this suite's canaries: every canary carries the
// suite's token (test/helpers/canary.ts), which workers inherit from the environment set here.
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { MAX_SECRET_BYTES } from "../../src/limits.ts";
import { readRegularFile } from "../../src/regular-file.ts";
import { SUITE_TOKEN_VARIABLE, canaryPattern } from "../helpers/canary.ts";
import { DEFAULT_SECRETS_PARENT, isDefaultSecretsDirName } from "../helpers/secrets-dirs.ts";

const defaultDirs = (): Set<string> =>
  new Set(readdirSync(DEFAULT_SECRETS_PARENT).filter(isDefaultSecretsDirName));

function holdsSuiteCanary(dir: string, pattern: RegExp): boolean {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return false; // removed meanwhile, or not readable: not a leftover of ours to report
  }
  return names.some((name) => {
    // A secret file is at most MAX_SECRET_BYTES; never blocks on a FIFO (src/regular-file.ts).
    const read = readRegularFile(join(dir, name), MAX_SECRET_BYTES);
    return "bytes" in read && pattern.test(read.bytes.toString("latin1"));
  });
}

export default function setup(): () => void {
  const token = randomBytes(4).toString("hex");
  process.env[SUITE_TOKEN_VARIABLE] = token;
  const pattern = canaryPattern(token);
  const before = defaultDirs();
  return () => {
    const left = [...defaultDirs()]
      .filter((name) => !before.has(name))
      .filter((name) => holdsSuiteCanary(join(DEFAULT_SECRETS_PARENT, name), pattern));
    if (left.length > 0)
      throw new Error(
        `the tests left secrets dirs in ${DEFAULT_SECRETS_PARENT}: ${left.join(", ")} (remove them in the test)`,
      );
  };
}
