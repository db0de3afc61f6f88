import { describe, expect, it } from "vitest";
import { loadDeclarations } from "../../../src/config/load.ts";
import { fetchKey, isRef, parseRef } from "../../../src/config/ref.ts";
import { SecretwrapError } from "../../../src/errors.ts";

const invalid: [string, string, RegExp][] = [
  ["no ref+ prefix", "vault://secret/a", /must start with ref\+/],
  ["no ://", "ref+vault:secret/a", /expected ref\+<scheme>/],
  ["unknown scheme", "ref+vualt://secret/a", /unknown scheme "vualt"; supported: vault, awssecrets/],
  ["empty locator", "ref+file://", /locator after :\/\/ is empty/],
  ["empty field", "ref+file://./x#", /#field after # is empty/],
  ["vault without a path", "ref+vault://secret", /<mount>\/<path>/],
  ["vault empty segment", "ref+vault://secret//db", /<mount>\/<path>/],
  ["vault dot-dot", "ref+vault://secret/../sys", /may not contain/],
  ["vault %-escape (vals would decode it)", "ref+vault://secret/a%2Fb#k", /without %-escapes/],
  ["vault non-numeric version", "ref+vault://secret/db?version=abc", /positive whole number/],
  ["vault version zero", "ref+vault://secret/db?version=0", /positive whole number/],
  ["unknown parameter", "ref+vault://secret/db?versoin=2", /unknown parameter "versoin"; accepted: version/],
  ["repeated parameter", "ref+vault://secret/db?version=1&version=2", /given twice/],
  ["empty parameter", "ref+vault://secret/db?version=", /is empty/],
  [
    "aws bad ARN partition",
    "ref+awssecrets://arn:aws:s3:us-east-1:123456789012:secret:x",
    /not a Secrets Manager ARN/,
  ],
  [
    "aws ARN region mismatch",
    "ref+awssecrets://arn:aws:secretsmanager:us-east-1:123456789012:secret:x?region=eu-west-1",
    /does not match/,
  ],
  ["aws bad region", "ref+awssecrets://prod/app?region=mars", /not an AWS region/],
  ["aws bad name", "ref+awssecrets://prod app", /1-512 of/],
  ["gcp one segment", "ref+gcpsecrets://my-project", /<project>\/<secret>/],
  ["gcp bad project", "ref+gcpsecrets://My_Project/x", /project id/],
  ["gcp bad version", "ref+gcpsecrets://my-project/x?version=newest", /latest/],
  ["azure bad vault name", "ref+azurekeyvault://a/x", /vault name/],
  ["azure double hyphen", "ref+azurekeyvault://my--vault/x", /vault name/],
  ["azure bad version", "ref+azurekeyvault://my-vault/x/123", /32 hexadecimal/],
  ["ssm empty segment", "ref+awsssm://myapp//db", /separated by single \//],
  ["ssm trailing slash", "ref+awsssm://myapp/db/", /does not end with \//],
  ["ssm root alone", "ref+awsssm:///", /does not end with \//],
  ["ssm version selector in the name", "ref+awsssm://myapp/db:3", /A-Z a-z 0-9 _ \. -/],
  ["ssm space", "ref+awsssm://my app", /A-Z a-z 0-9 _ \. -/],
  ["ssm 16 levels", `ref+awsssm://${"a/".repeat(15)}b`, /at most 15 levels/],
  ["ssm bad region", "ref+awsssm://myapp/db?region=mars", /not an AWS region/],
  ["ssm version zero", "ref+awsssm://myapp/db?version=0", /version number/],
  ["ssm version text", "ref+awsssm://myapp/db?version=latest", /version number/],
  ["ssm unknown mode", "ref+awsssm://myapp/db?mode=yaml#/a", /"singleparam" or absent/],
  ["ssm recursive yes", "ref+awsssm://myapp?recursive=yes#/a", /true or false/],
  ["ssm version in the prefix form", "ref+awsssm://myapp?version=2#/db", /version reads one parameter/],
  ["ssm recursive without a field", "ref+awsssm://myapp/db?recursive=true", /prefix form only/],
  [
    "ssm recursive with singleparam",
    "ref+awsssm://myapp/db?recursive=true&mode=singleparam#a",
    /prefix form only/,
  ],
  ["ssm vals' role_arn (not taken)", "ref+awsssm://myapp/db?role_arn=x", /unknown parameter "role_arn"/],
  ["file takes no parameters", "ref+file://./x?version=1", /no parameters are accepted/],
  ["broken escape", "ref+vault://secret/db?version=%zz", /%-escape/],
];

const valid: [string, object][] = [
  [
    "ref+vault://secret/myapp/db#password",
    { scheme: "vault", locator: "secret/myapp/db", field: "password", params: {} },
  ],
  [
    "ref+vault://secret/myapp/db?version=3#password",
    { locator: "secret/myapp/db", params: { version: "3" }, field: "password" },
  ],
  ["ref+vault://database/creds/app", { locator: "database/creds/app" }],
  ["ref+awssecrets://prod/myapp#api_key", { scheme: "awssecrets", locator: "prod/myapp", field: "api_key" }],
  [
    "ref+awssecrets://arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf?version_stage=AWSPREVIOUS",
    {
      locator: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
      params: { version_stage: "AWSPREVIOUS" },
    },
  ],
  [
    "ref+gcpsecrets://my-proj/db-pass?version=5",
    { scheme: "gcpsecrets", locator: "my-proj/db-pass", params: { version: "5" } },
  ],
  ["ref+gcpsecrets://123456789/tls?location=europe-west1", { params: { location: "europe-west1" } }],
  ["ref+azurekeyvault://my-kv/db-pass", { scheme: "azurekeyvault", locator: "my-kv/db-pass" }],
  [
    "ref+azurekeyvault://my-kv/db-pass/0123456789abcdef0123456789abcdef",
    { locator: "my-kv/db-pass/0123456789abcdef0123456789abcdef" },
  ],
  [
    "ref+file://./dev/secrets.json#/db/password",
    { scheme: "file", locator: "./dev/secrets.json", field: "/db/password" },
  ],
  ["ref+file:///run/secrets/token", { locator: "/run/secrets/token" }],
  ["ref+awsssm://myapp/db/password", { scheme: "awsssm", locator: "myapp/db/password", params: {} }],
  ["ref+awsssm:///myapp/db/password", { locator: "/myapp/db/password" }],
  ["ref+awsssm://myapp/db?version=3&region=eu-west-1", { params: { version: "3", region: "eu-west-1" } }],
  [
    "ref+awsssm://myapp?recursive=true#/db/password",
    { params: { recursive: "true" }, field: "/db/password" },
  ],
  ["ref+awsssm://myapp/db?mode=singleparam&version=2#password", { field: "password" }],
  [
    "ref+awsssm://aws/reference/secretsmanager/prod_db-1.x",
    { locator: "aws/reference/secretsmanager/prod_db-1.x" },
  ],
];

describe("A3, A4: parseRef", () => {
  it.each(invalid)("rejects %s", (_what, raw, message) => {
    let caught: unknown;
    try {
      parseRef(raw);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SecretwrapError);
    expect((caught as SecretwrapError).message).toMatch(message);
    expect([78]).toContain((caught as SecretwrapError).exitCode);
  });

  it.each(valid)("parses %s", (raw, expected) => {
    expect(parseRef(raw)).toMatchObject({ raw, ...expected });
  });

  it("only a whole value that starts with ref+ is a reference", () => {
    expect(isRef("ref+file://x")).toBe(true);
    expect(isRef(" ref+file://x")).toBe(false);
    expect(isRef("prefix ref+file://x")).toBe(false);
  });

  it("one fetch per secret and version, whatever the field", () => {
    const a = parseRef("ref+vault://secret/db?version=2#user");
    const b = parseRef("ref+vault://secret/db?version=2#password");
    const c = parseRef("ref+vault://secret/db#password");
    expect(fetchKey(a)).toBe(fetchKey(b));
    expect(fetchKey(a)).not.toBe(fetchKey(c));
  });

  it("awsssm: a #field reads every parameter under the path (vals' prefix form), so it is a fetch of its own", () => {
    const whole = parseRef("ref+awsssm://myapp/db");
    const user = parseRef("ref+awsssm://myapp/db#/user");
    const password = parseRef("ref+awsssm://myapp/db#password");
    const single = parseRef("ref+awsssm://myapp/db?mode=singleparam#password");
    const singleOther = parseRef("ref+awsssm://myapp/db?mode=singleparam#user");
    expect(fetchKey(user)).toBe(fetchKey(password));
    expect(fetchKey(user)).toBe("awsssm://myapp/db (parameters under the path)");
    expect(fetchKey(whole)).toBe("awsssm://myapp/db");
    expect(fetchKey(single)).toBe(fetchKey(singleOther));
    expect(new Set([whole, user, single].map(fetchKey)).size).toBe(3);
  });

  it("an unknown scheme's hint lists the schemes of the registry, also once it is a declaration's problem", async () => {
    const hint =
      "use one of the supported schemes: vault, awssecrets, gcpsecrets, azurekeyvault, awsssm, file";
    expect(() => parseRef("ref+vualt://secret/a")).toThrow(expect.objectContaining({ hint }));
    const loaded = await loadDeclarations({ env: { X: "ref+vualt://secret/a" } });
    expect(loaded.problems.map((p) => [p.code, p.hint])).toEqual([["PROVIDER_UNKNOWN", hint]]);
  });
});
