// The manifest rules on their own: each must reject what it is there to reject, not only accept the
// examples (kubernetes.test.ts, compose.test.ts apply them).
import { describe, expect, it } from "vitest";
import { dockerfileStages, envValueProblem, imageProblem, mountHolding, secretwrapArgv } from "./rules.ts";

describe("envValueProblem", () => {
  it.each([
    ["DB_PASSWORD", "ref+vault://secret/myapp/db#password"],
    ["TLS_KEY_FILE", "ref+gcpsecrets://my-proj/tls-key"],
    ["TLS_KEY_FILE", "/run/secretwrap/app/tls.key"],
    ["SECRETWRAP_SECRETS_DIR", "/run/secretwrap/app"],
    ["LOG_LEVEL", "info"],
    ["VAULT_ROLE", "myapp"],
    ["AWS_REGION", "eu-west-1"],
  ])("accepts %s=%s", (name, value) => {
    expect(envValueProblem(name, value)).toBeUndefined();
  });

  it.each([
    ["DB_PASSWORD", "hunter2", "literal"],
    ["API_KEY", "abc", "literal"],
    ["GITHUB_TOKEN", "x", "literal"],
    ["DATABASE_URL", "postgres://db/app", "literal"],
    ["CLIENT_SECRET_FILE", "relative/path", "literal"],
    ["DB_PASSWORD", "ref+vault://", "invalid reference"],
    ["DB_PASSWORD", "ref+nope://x", "unknown scheme"],
    ["ANYTHING", "postgres://app:hunter2@db/app", "a password in a URL"],
    ["ANYTHING", "hvs.CAESIJ7w3l0mR0Tj8n4xZ2q5aB", "a Vault token"],
    ["ANYTHING", "AKIAIOSFODNN7EXAMPLE", "an AWS access key id"],
    ["ANYTHING", "-----BEGIN RSA PRIVATE KEY-----", "a private key"],
    ["ANYTHING", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.sig", "a JWT"],
  ])("rejects %s=%s (%s)", (name, value, why) => {
    expect(envValueProblem(name, value)).toContain(why);
  });
});

describe("imageProblem", () => {
  it.each([
    "registry.example.com/myapp:1.4.2",
    "registry.example.com:5000/team/app:v2",
    `busybox@sha256:${"a".repeat(64)}`,
    `node:24-bookworm-slim@sha256:${"0".repeat(64)}`,
  ])("accepts %s", (image) => {
    expect(imageProblem(image)).toBeUndefined();
  });

  it.each(["myapp", "myapp:latest", "registry.example.com:5000/app", "myapp:stable", "my app:1"])(
    "rejects %s",
    (image) => {
      expect(imageProblem(image)).toBeDefined();
    },
  );
});

describe("secretwrapArgv", () => {
  it.each([
    [
      ["secretwrap", "render", "--out", "/x"],
      ["render", "--out", "/x"],
    ],
    [
      ["/opt/secretwrap/tini", "--", "/opt/secretwrap/secretwrap", "run", "--", "app"],
      ["run", "--", "app"],
    ],
    [
      ["tini", "--", "secretwrap", "run", "--"],
      ["run", "--"],
    ],
  ])("finds the program in %j", (argv, expected) => {
    expect(secretwrapArgv(argv)).toEqual(expected);
  });

  it.each([
    [["cp", "/usr/local/bin/secretwrap", "/opt/"]],
    [["/app/server", "secretwrap"]],
    [["tini", "--"]],
    [[]],
  ])("not a secretwrap run: %j", (argv) => {
    expect(secretwrapArgv(argv)).toBeUndefined();
  });
});

describe("mountHolding", () => {
  const mounts = [{ mountPath: "/run" }, { mountPath: "/run/secretwrap" }, { mountPath: "/etc/secretwrap/" }];
  it.each([
    ["/run/secretwrap/app", "/run/secretwrap"],
    ["/run/secretwrap", "/run/secretwrap"],
    ["/run/secretwrapper", "/run"],
    ["/etc/secretwrap/secretwrap.yaml", "/etc/secretwrap/"],
    ["/var/run", undefined],
  ])("%s is on %s", (path, expected) => {
    expect(mountHolding(mounts, path)?.mountPath).toBe(expected);
  });
});

it("dockerfileStages reads each stage's exec-form ENTRYPOINT and CMD", () => {
  const stages = dockerfileStages(
    ["FROM a AS one", 'ENTRYPOINT ["tini", "--"]', 'CMD ["x"]', "FROM b AS two", "CMD sh -c shell-form"].join(
      "\n",
    ),
  );
  expect(stages.get("one")).toEqual({ entrypoint: ["tini", "--"], cmd: ["x"] });
  expect(stages.get("two")).toEqual({});
});
