// The suite must not leave secrets behind. An exec-mode run leaves its default secrets dir
// (/dev/shm/secretwrap-XXXXXX) to the app, and nobody removes it after a test's app exits: each test
// that uses the default dir removes it itself. This fails the run if one did not.
//
// Only what this suite created counts: other secretwrap runs on the machine (another checkout's
// suite, a developer's own run) create and leave dirs of the same shape at the same time. A dir is
// this suite's when a file in it holds one of this suite's canaries: every canary carries the
// suite's token (test/helpers/canary.ts), which workers inherit from the environment set here.
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, openSync, readdirSync, readSync, constants } from "node:fs";
import { join } from "node:path";
import { SUITE_TOKEN_VARIABLE, suiteCanaryPattern } from "../helpers/canary.ts";
import { DEFAULT_SECRETS_PARENT, isDefaultSecretsDirName } from "../helpers/secrets-dirs.ts";

const defaultDirs = (): Set<string> =>
  new Set(readdirSync(DEFAULT_SECRETS_PARENT).filter(isDefaultSecretsDirName));

/** The first 64 KiB of a regular file, never following a link or blocking on a FIFO; "" otherwise. */
function head(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return "";
  }
  try {
    if (!fstatSync(fd).isFile()) return "";
    const buffer = Buffer.alloc(64 * 1024);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString("latin1");
  } catch {
    return "";
  } finally {
    closeSync(fd);
  }
}

function holdsSuiteCanary(dir: string, pattern: RegExp): boolean {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return false; // removed meanwhile, or not readable: not a leftover of ours to report
  }
  return names.some((name) => pattern.test(head(join(dir, name))));
}

export default function setup(): () => void {
  const token = randomBytes(4).toString("hex");
  process.env[SUITE_TOKEN_VARIABLE] = token;
  const pattern = suiteCanaryPattern(token);
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
