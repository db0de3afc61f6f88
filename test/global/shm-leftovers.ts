// The suite must not leave secrets behind. An exec-mode run leaves its default secrets dir
// (/dev/shm/secretwrap-XXXXXX) to the app, and nobody removes it after a test's app exits: each test
// that uses the default dir removes it itself. This fails the run if one did not.
// (A secretwrap run by someone else on the same machine during the suite would be counted too.)
import { readdirSync } from "node:fs";
import { DEFAULT_SECRETS_PARENT, isDefaultSecretsDirName } from "../helpers/secrets-dirs.ts";

const defaultDirs = (): Set<string> =>
  new Set(readdirSync(DEFAULT_SECRETS_PARENT).filter(isDefaultSecretsDirName));

export default function setup(): () => void {
  const before = defaultDirs();
  return () => {
    const left = [...defaultDirs()].filter((name) => !before.has(name));
    if (left.length > 0)
      throw new Error(
        `the tests left secrets dirs in ${DEFAULT_SECRETS_PARENT}: ${left.join(", ")} (remove them in the test)`,
      );
  };
}
