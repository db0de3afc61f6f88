// The config file's shape (zod/mini: a few KB instead of zod's whole bundle). Strict everywhere: a
// typo such as `optinal: true` is an error with its path, never silently ignored.
import { array, boolean, literal, optional, record, safeParse, strictObject, string, union, unknown, type infer as Infer } from "zod/mini";

const SecretEntry = union([
  string(),
  strictObject({
    ref: string(),
    file: optional(string()),
    mode: optional(string()),
    optional: optional(boolean()),
  }),
]);

export const ConfigFile = strictObject({
  version: literal(1),
  providers: optional(
    strictObject({
      vault: optional(unknown()),
      awssecrets: optional(unknown()),
      gcpsecrets: optional(unknown()),
      azurekeyvault: optional(unknown()),
      file: optional(unknown()),
    }),
  ),
  secrets: optional(record(string(), SecretEntry)),
  allowNames: optional(array(string())),
});

export type ConfigFile = Infer<typeof ConfigFile>;

export function validateConfig(data: unknown) {
  return safeParse(ConfigFile, data);
}
