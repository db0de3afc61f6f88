// ?api_path=true (vault-env's form under --compat): the locator is Vault's API path. On KV v2 its data/
// segment after the mount is required and taken off, so it reads the same secret as the `vault kv get`
// form; on KV v1 and other engines the path is read as is, as vault-env reads it.
import { describe, expect, it } from "vitest";
import { parseRef } from "../../../src/config/ref.ts";
import { SecretwrapError } from "../../../src/errors.ts";
import { type MountInfo, secretPathInMount } from "../../../providers/vault/mounts.ts";

const KV2: MountInfo = { path: "secret/", kind: "kv2" };
const KV2_DEEP: MountInfo = { path: "team/kv/", kind: "kv2" };
const KV1: MountInfo = { path: "kv/", kind: "kv1" };
const DB: MountInfo = { path: "database/", kind: "other" };

describe("secretPathInMount", () => {
  it.each([
    ["ref+vault://secret/app/db", KV2, "app/db"],
    ["ref+vault://secret/data/app/db", KV2, "data/app/db"],
    ["ref+vault://secret/data/app/db?api_path=true", KV2, "app/db"],
    ["ref+vault://team/kv/data/app?api_path=true&version=2", KV2_DEEP, "app"],
    ["ref+vault://secret/data/data/x?api_path=true", KV2, "data/x"],
    ["ref+vault://kv/data/app?api_path=true", KV1, "data/app"],
    ["ref+vault://kv/app?api_path=true", KV1, "app"],
    ["ref+vault://database/creds/app?api_path=true", DB, "creds/app"],
  ] as const)("%s on %o → %s", (raw, mount, path) => {
    expect(secretPathInMount(parseRef(raw), mount)).toBe(path);
  });

  it.each(["ref+vault://secret/app/db?api_path=true", "ref+vault://secret/database/x?api_path=true"])(
    "%s on KV v2 without data/ is a reference error (78) that says where data/ goes",
    (raw) => {
      const error = (() => {
        try {
          secretPathInMount(parseRef(raw), KV2);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(SecretwrapError);
      expect((error as SecretwrapError).exitCode).toBe(78);
      expect((error as SecretwrapError).message).toContain("secret/data/");
    },
  );

  it("api_path takes only true", () => {
    expect(() => parseRef("ref+vault://secret/data/x?api_path=yes")).toThrow(/api_path takes only true/);
  });
});
