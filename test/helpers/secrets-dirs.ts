// The default secrets dirs a run creates (src/output/files.ts), as the test suite recognises them.
import { basename, dirname } from "node:path";
import { DEFAULT_SECRETS_PARENT, DEFAULT_SECRETS_PREFIX } from "../../src/output/files.ts";

export { DEFAULT_SECRETS_PARENT };

const NAME = new RegExp(`^${DEFAULT_SECRETS_PREFIX}[A-Za-z0-9]{6}$`);

/** A name in DEFAULT_SECRETS_PARENT that a run's default secrets dir would have. */
export const isDefaultSecretsDirName = (name: string): boolean => NAME.test(name);

export const isDefaultSecretsDir = (path: string): boolean =>
  dirname(path) === DEFAULT_SECRETS_PARENT && isDefaultSecretsDirName(basename(path));
