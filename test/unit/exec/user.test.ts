// `--user nobody` and `--user 12345`: names resolved from /etc/passwd and /etc/group text (pure), and
// the HOME the app gets.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SecretwrapError } from "../../../src/errors.ts";
import { parseGroup, parsePasswd, readAccountFiles, resolveUser } from "../../../src/exec/user.ts";
import { withAccountHome } from "../../../src/output/env.ts";

const PASSWD = `root:x:0:0:root:/root:/bin/bash
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
app:x:1000:2000:App,,,:/home/app:/bin/sh
nohome:x:1001:1001:::/bin/sh
broken:x:notanumber:1:x:/x:/bin/sh
short:x:5
+nisuser::::::
123:x:4242:4242::/home/digits:/bin/sh
`;

const GROUP = `root:x:0:
nogroup:x:65534:
staff:x:50:app,other
app:x:2000:
broken:x:nope:
`;

const files = { passwd: PASSWD, group: GROUP };

describe("R13-small: --user resolves names via /etc/passwd and /etc/group", () => {
  it("R13-small: parsePasswd keeps well-formed entries only", () => {
    expect(parsePasswd(PASSWD).map((e) => e.name)).toEqual([
      "root",
      "daemon",
      "nobody",
      "app",
      "nohome",
      "123",
    ]);
    expect(parsePasswd(PASSWD).find((e) => e.name === "nohome")?.home).toBe("/");
    expect(parseGroup(GROUP).map((g) => [g.name, g.gid])).toEqual([
      ["root", 0],
      ["nogroup", 65534],
      ["staff", 50],
      ["app", 2000],
    ]);
  });

  it.each([
    ["nobody", { uid: 65534, gid: 65534, home: "/nonexistent" }],
    ["app", { uid: 1000, gid: 2000, home: "/home/app" }],
    ["app:staff", { uid: 1000, gid: 50, home: "/home/app" }],
    ["app:7", { uid: 1000, gid: 7, home: "/home/app" }],
    ["1000", { uid: 1000, gid: 2000, home: "/home/app" }],
    ["1000:nogroup", { uid: 1000, gid: 65534, home: "/home/app" }],
    ["12345", { uid: 12345, gid: 12345, home: "/" }],
    ["12345:0", { uid: 12345, gid: 0, home: "/" }],
    ["0", { uid: 0, gid: 0, home: "/root" }],
    ["nohome", { uid: 1001, gid: 1001, home: "/" }],
    // digits are an id, never a name (as docker does it)
    ["123", { uid: 123, gid: 123, home: "/" }],
    ["4294967294", { uid: 4294967294, gid: 4294967294, home: "/" }],
  ])("R13-small: --user %s", (spec, account) => {
    expect(resolveUser(spec, files)).toEqual(account);
  });

  it.each([
    ["nosuchuser", files, "no user"],
    ["app:nosuchgroup", files, "no group"],
    ["nobody", {}, "no /etc/passwd"],
    ["1000:staff", { passwd: PASSWD }, "no /etc/group"],
    ["", files, "expected USER[:GROUP]"],
    [":", files, "expected USER[:GROUP]"],
    ["app:", files, "expected USER[:GROUP]"],
    ["a:b:c", files, "expected USER[:GROUP]"],
    ["4294967295", files, "out of range"],
    ["1:99999999999", files, "out of range"],
    ["+nisuser", files, "no user"],
    ["broken", files, "no user"],
  ])("R13-small: --user %j is a usage error (%s)", (spec, db, message) => {
    expect(() => resolveUser(spec, db)).toThrow(message);
    try {
      resolveUser(spec, db);
    } catch (error) {
      expect(error).toBeInstanceOf(SecretwrapError);
      expect((error as SecretwrapError).exitCode).toBe(64);
    }
  });

  it("R13-small: any --user text and any account files give an account or a usage error, never a crash", () => {
    const line = fc
      .array(fc.oneof(fc.string({ maxLength: 8 }), fc.nat().map(String)), { minLength: 0, maxLength: 8 })
      .map((fields) => fields.join(":"));
    const file = fc.option(
      fc.array(line, { maxLength: 6 }).map((lines) => lines.join("\n")),
      { nil: undefined },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), file, file, (spec, passwd, group) => {
        const db = { ...(passwd === undefined ? {} : { passwd }), ...(group === undefined ? {} : { group }) };
        try {
          const account = resolveUser(spec, db);
          expect(Number.isInteger(account.uid) && account.uid >= 0 && account.uid < 2 ** 32 - 1).toBe(true);
          expect(Number.isInteger(account.gid) && account.gid >= 0 && account.gid < 2 ** 32 - 1).toBe(true);
          expect(account.home.length).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(SecretwrapError);
          expect((error as SecretwrapError).code).toBe("USAGE");
        }
      }),
      { numRuns: 500 },
    );
  });

  it("R13-small: this system's nobody resolves when /etc/passwd has one", () => {
    const system = readAccountFiles();
    const nobody =
      system.passwd === undefined ? undefined : parsePasswd(system.passwd).find((e) => e.name === "nobody");
    if (nobody === undefined) return;
    expect(resolveUser("nobody", system)).toMatchObject({ uid: nobody.uid, home: nobody.home });
  });
});

describe("R13-small: with --user the app's HOME is the account's", () => {
  it.each<[Record<string, string>, string[], string]>([
    [{ HOME: "/root", A: "1" }, [], "/home/app"],
    [{ A: "1" }, [], "/home/app"],
    [{ HOME: "/root" }, ["HOME"], "/root"],
    // --keep-env HOME keeps a HOME the caller has; without one there is nothing to keep
    [{ A: "1" }, ["HOME"], "/home/app"],
  ])("R13-small: inherited %j, --keep-env %j → HOME=%s", (inherited, keep, home) => {
    const env = withAccountHome(inherited, "/home/app", keep);
    expect(env["HOME"]).toBe(home);
    expect(env["A"]).toBe(inherited["A"]);
  });
});
