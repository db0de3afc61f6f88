// The awsssm provider with the real AWS SDK (@aws-sdk/client-ssm) over real HTTP against the AWS fake's
// SSM Parameter Store (test/servers/aws-ssm.ts), which checks every SigV4 signature (scoped to "ssm")
// against the credentials it issued. Calls connect/fetch/checkVersion directly; the CLI path is in
// test/e2e/awsssm.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import { SecretwrapError } from "../../src/errors.ts";
import { selectField } from "../../src/field.ts";
import { MAX_SECRET_BYTES } from "../../src/limits.ts";
import type { Session } from "../../src/provider-api.ts";
import { validateOptions } from "../../providers/awsssm/options.ts";
import { canary } from "../helpers/canary.ts";
import { providerContext } from "../helpers/context.ts";
import { failureWithout, fetchRef, text, unique } from "../helpers/provider.ts";
import { providerUnderTest } from "../helpers/provider-under-test.ts";
import { AwsFake, isolateFromHostAws } from "../servers/aws.ts";
import { requestedNames } from "../servers/aws-ssm.ts";
import { reply, type RecordedRequest } from "../servers/harness.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";

// The source, or the built bundle with SECRETWRAP_TEST_PROVIDERS_FROM (scripts/test.mjs runs both).
const provider = await providerUnderTest("awsssm");

const work = mkdtempSync(join(tmpdir(), "secretwrap-ssm-provider-"));
const EXTRA = canary("ECHO");
const REGION = "eu-west-1";
let fake: AwsFake;
let pki: TestPki;

let restoreEnv: () => void = () => {};
beforeAll(async () => {
  restoreEnv = isolateFromHostAws(work);
  fake = await AwsFake.start({ errorMessageExtra: EXTRA });
  pki = createTestPki();
});
afterAll(async () => {
  await fake.close();
  restoreEnv();
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => {
  fake.server.clearFaults();
  fake.ssm.deniedActions.clear();
  fake.ssm.emptyPagesBefore = 0;
});

interface Harness {
  readonly session: Session;
  readonly secrets: string[];
  readonly log: string[];
}

const isolation = {
  AWS_CONFIG_FILE: join(work, "no-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
};

function staticEnv(extra: Record<string, string> = {}): Record<string, string> {
  const keys = fake.issueStatic();
  return {
    ...isolation,
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_SSM: fake.url,
    ...extra,
  };
}

async function connect(env: Record<string, string>, options: object = {}): Promise<Harness> {
  const { ctx, masked: secrets, logs: log } = providerContext(env, 5000);
  expect(validateOptions(options)).toEqual([]);
  const session = await provider.connect(options, ctx, AbortSignal.timeout(10_000));
  return { session, secrets, log };
}

const failure = (promise: Promise<unknown>) => failureWithout(promise, EXTRA);
const target = (r: RecordedRequest): string | undefined => r.headers["x-amz-target"] as string | undefined;
const body = (r: RecordedRequest): Record<string, unknown> => JSON.parse(r.body) as Record<string, unknown>;
/** A unique hierarchical path ("/ssm-test/<label>-<n>"). */
const path = (label: string): string => `/ssm-test/${unique(label)}`;
/** The reference for a path: vals' locator is the path without its leading "/". */
const ref = (name: string, rest = ""): string => `ref+awsssm://${name.slice(1)}${rest}`;
/** What the core hands a target: the fetched bytes with the reference's #field applied. */
const delivered = async (session: Session, raw: string): Promise<string> =>
  text(selectField(await fetchRef(session, raw), parseRef(raw).field));

describe("credentials: the AWS providers' shared chain", () => {
  it("static keys sign for the service ssm, and are reported as consumed", async () => {
    const name = path("static");
    fake.ssm.put(REGION, name, "v-static");
    const h = await connect(staticEnv());
    expect(text((await fetchRef(h.session, ref(name))).bytes)).toBe("v-static");
    expect(h.session.consumedEnv).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    expect(fake.signatures.at(-1)).toMatchObject({
      target: "GetParameters",
      valid: true,
      source: "static",
      region: REGION,
    });
    await h.session.close();
  });

  it("web identity: the token goes to STS, STS's keys sign the SSM calls, and all of it is masked", async () => {
    const tokenFile = join(work, "web-token");
    const token = `eyJ${canary("JWT")}\n`;
    writeFileSync(tokenFile, token);
    fake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/app", token };
    const name = path("irsa");
    fake.ssm.put(REGION, name, "v-irsa", "SecureString");
    const stsBefore = fake.stsCalls().length;
    const h = await connect({
      ...isolation,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: fake.webIdentity.roleArn,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL_SSM: fake.url,
      AWS_ENDPOINT_URL_STS: fake.url,
    });
    expect(text((await fetchRef(h.session, ref(name))).bytes)).toBe("v-irsa");
    expect(fake.stsCalls().length - stsBefore).toBe(1);
    expect(fake.signatures.at(-1)).toMatchObject({ valid: true, source: "sts", target: "GetParameters" });
    const issued = fake.issued.at(-1);
    expect(h.secrets).toEqual([token, issued?.accessKeyId, issued?.secretAccessKey, issued?.sessionToken]);
    await h.session.close();
  });

  it("a key the server never issued is AUTH_FAILED (77) after one request, pointing at the shared credentials docs", async () => {
    const name = path("badkey");
    fake.ssm.put(REGION, name, "x");
    const h = await connect({ ...staticEnv(), AWS_SECRET_ACCESS_KEY: "wrong-secret-key-0000000000000000" });
    const before = fake.ssmCalls().length;
    const e = await failure(fetchRef(h.session, ref(name)));
    expect([e.code, e.exitCode, e.transient]).toEqual(["AUTH_FAILED", 77, false]);
    expect(e.message).toContain("InvalidSignatureException");
    expect(e.hint).toContain("docs/providers/awssecrets.md#credentials");
    expect(fake.ssmCalls().length - before).toBe(1);
  });

  it("no credentials anywhere is AUTH_FAILED with the chain's hint; no region is CONFIG_INVALID naming the fix", async () => {
    const none = await failure(connect({ ...isolation, AWS_REGION: REGION }));
    expect([none.code, none.exitCode]).toEqual(["AUTH_FAILED", 77]);
    expect(none.hint).toContain("AWS_PROFILE");
    const keys = fake.issueStatic();
    const h = await connect({
      ...isolation,
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_ENDPOINT_URL_SSM: fake.url,
    });
    const e = await failure(fetchRef(h.session, "ref+awsssm://anything"));
    expect([e.code, e.exitCode]).toEqual(["CONFIG_INVALID", 78]);
    expect(e.hint).toContain("providers.awsssm.region");
  });
});

describe("values", () => {
  it("a SecureString is always decrypted; a StringList comes as SSM returns it; values are byte-exact", async () => {
    const [secure, list, plain] = [path("secure"), path("list"), path("plain")];
    const secret = canary("SECURE");
    fake.ssm.put(REGION, secure, secret, "SecureString");
    fake.ssm.put(REGION, list, "a,b,c", "StringList");
    fake.ssm.put(REGION, plain, " spaced\nline\t€ ");
    const h = await connect(staticEnv());
    const before = fake.ssmCalls().length;
    const got = await Promise.all([secure, list, plain].map((n) => fetchRef(h.session, ref(n))));
    expect(got.map((g) => text(g.bytes))).toEqual([secret, "a,b,c", " spaced\nline\t€ "]);
    const calls = fake.ssmCalls().slice(before);
    expect(calls.map((c) => [target(c), body(c)["WithDecryption"]])).toEqual([
      ["AmazonSSM.GetParameters", true],
    ]);
    expect(h.log.join("\n")).not.toContain(secret);
  });

  it("?version= reads that version (a :N selector, batched) and reports it; the latest reports its own", async () => {
    const name = path("versions");
    fake.ssm.put(REGION, name, "first");
    fake.ssm.put(REGION, name, "second");
    const h = await connect(staticEnv());
    const [latest, pinned] = await Promise.all([
      fetchRef(h.session, ref(name)),
      fetchRef(h.session, ref(name, "?version=1")),
    ]);
    // the latest: its number and when it was written (a recreated parameter is at 1 again)
    expect([text(latest.bytes), latest.version]).toEqual(["second", expect.stringMatching(/^2@\d{4}-/)]);
    expect([text(pinned.bytes), pinned.version]).toEqual(["first", "1"]);
    expect(requestedNames(fake.ssmCalls().at(-1)?.body ?? "{}").sort()).toEqual([name, `${name}:1`].sort());
    const missing = await failure(fetchRef(h.session, ref(name, "?version=9")));
    expect([missing.code, missing.exitCode]).toEqual(["SECRET_NOT_FOUND", 69]);
  });

  it("?mode=singleparam#field takes the field from the parameter's own JSON value", async () => {
    const name = path("json");
    fake.ssm.put(REGION, name, JSON.stringify({ user: "app", db: { password: "pw" } }), "SecureString");
    const h = await connect(staticEnv());
    expect(await delivered(h.session, ref(name, "?mode=singleparam#user"))).toBe("app");
    expect(await delivered(h.session, ref(name, "?mode=singleparam#/db/password"))).toBe("pw");
    expect(fake.ssmCalls("GetParametersByPath")).toHaveLength(0);
  });

  it("?region= reads from that region, signed for it", async () => {
    const name = path("regional");
    fake.ssm.put("us-east-2", name, "v-us");
    const h = await connect(staticEnv());
    expect(text((await fetchRef(h.session, ref(name, "?region=us-east-2"))).bytes)).toBe("v-us");
    expect(fake.signatures.at(-1)).toMatchObject({ region: "us-east-2", valid: true });
  });
});

describe("batching: GetParameters, 10 names per call", () => {
  it("25 at once in one region: 10 + 10 + 5 names, nothing else; 2 regions: one call each", async () => {
    const names = Array.from({ length: 25 }, () => path("many"));
    for (const n of names) fake.ssm.put(REGION, n, `value-${n}`);
    const other = Array.from({ length: 3 }, () => path("other"));
    for (const n of other) fake.ssm.put("us-west-2", n, `value-${n}`);
    const h = await connect(staticEnv());
    const before = fake.server.requests.length;
    const results = await Promise.all(names.map((n) => fetchRef(h.session, ref(n))));
    expect(results.map((r) => text(r.bytes))).toEqual(names.map((n) => `value-${n}`));
    const calls = fake.server.requests.slice(before);
    expect(calls.every((c) => target(c) === "AmazonSSM.GetParameters")).toBe(true);
    expect(calls.map((c) => requestedNames(c.body).length).sort((a, b) => a - b)).toEqual([5, 10, 10]);
    expect(new Set(calls.flatMap((c) => requestedNames(c.body)))).toEqual(new Set(names));
    const mixed = fake.server.requests.length;
    await Promise.all([
      ...names.slice(0, 4).map((n) => fetchRef(h.session, ref(n))),
      ...other.map((n) => fetchRef(h.session, ref(n, "?region=us-west-2"))),
    ]);
    expect(
      fake.ssmCalls(undefined, REGION).filter((c) => fake.server.requests.indexOf(c) >= mixed),
    ).toHaveLength(1);
    expect(fake.ssmCalls(undefined, "us-west-2")).toHaveLength(1);
  });

  it("missing names come back in InvalidParameters: SECRET_NOT_FOUND (69) for those only, in the same call", async () => {
    const [ok, missing1, missing2] = [path("ok"), path("missing"), path("missing")];
    fake.ssm.put(REGION, ok, "fine");
    const h = await connect(staticEnv());
    const before = fake.ssmCalls().length;
    const settled = await Promise.allSettled(
      [ok, missing1, missing2].map((n) => fetchRef(h.session, ref(n))),
    );
    expect(fake.ssmCalls().length - before).toBe(1);
    expect(settled[0]).toMatchObject({ status: "fulfilled" });
    for (const [i, s] of settled.slice(1).entries()) {
      const e = (s as PromiseRejectedResult).reason as SecretwrapError;
      expect([e.code, e.exitCode, e.transient]).toEqual(["SECRET_NOT_FOUND", 69, false]);
      expect(e.message).toContain([missing1, missing2][i]);
    }
  });

  it("one denied name denies AWS's whole call: each name is asked alone, so only that reference fails (77)", async () => {
    const [ok1, denied, ok2, kms] = [path("ok"), path("denied"), path("ok"), path("kms")];
    for (const n of [ok1, denied, ok2]) fake.ssm.put(REGION, n, `v-${n}`);
    fake.ssm.put(REGION, kms, canary("KMS"), "SecureString");
    fake.ssm.deny(REGION, denied);
    fake.ssm.denyKms(REGION, kms);
    const h = await connect(staticEnv());
    const before = fake.ssmCalls().length;
    const settled = await Promise.allSettled([ok1, denied, ok2, kms].map((n) => fetchRef(h.session, ref(n))));
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected"]);
    for (const s of [settled[1], settled[3]]) {
      const e = (s as PromiseRejectedResult).reason as SecretwrapError;
      expect([e.code, e.exitCode, e.transient]).toEqual(["ACCESS_DENIED", 77, false]);
      expect(e.message).not.toContain(EXTRA);
      expect(e.hint).toContain("kms:Decrypt");
      expect(e.hint).toContain("ssm:GetParameters");
    }
    // the call of four, then one call per name
    expect(
      fake
        .ssmCalls()
        .slice(before)
        .map((c) => requestedNames(c.body).length),
    ).toEqual([4, 1, 1, 1, 1]);
  });

  it("a whole call answered 'not found' (ParameterNotFound / ParameterVersionNotFound, as GetParameter answers) names no one name: each is asked alone, so an existing parameter is never reported absent", async () => {
    // optional: true tolerates only not found: a batch-wide "not found" taken for every name would
    // leave an existing optional parameter silently unset.
    const [present, pinned] = [path("nf-present"), path("nf-pinned")];
    const secret = canary("PRESENT");
    fake.ssm.put(REGION, present, secret, "SecureString");
    fake.ssm.put(REGION, pinned, "only-v1");
    const h = await connect(staticEnv());
    const isGet = (r: RecordedRequest) => target(r) === "AmazonSSM.GetParameters";
    for (const code of ["ParameterVersionNotFound", "ParameterNotFound"]) {
      fake.server.script(isGet, [reply(400, { __type: code, message: `Version 9 not found ${EXTRA}` })]);
      const before = fake.server.count(isGet);
      const [ok, gone] = await Promise.allSettled([
        fetchRef(h.session, ref(present)),
        fetchRef(h.session, ref(pinned, "?version=9")),
      ]);
      expect(ok.status === "fulfilled" ? text(ok.value.bytes) : ok.reason, code).toBe(secret);
      expect(gone.status === "rejected" ? (gone.reason as SecretwrapError).code : gone.status).toBe(
        "SECRET_NOT_FOUND",
      );
      expect(fake.server.count(isGet) - before).toBe(3);
    }
  });

  it("an identity without ssm:GetParameters at all: every reference is ACCESS_DENIED", async () => {
    const names = [path("nope"), path("nope")];
    for (const n of names) fake.ssm.put(REGION, n, "x");
    fake.ssm.deniedActions.add("GetParameters");
    const h = await connect(staticEnv());
    const settled = await Promise.allSettled(names.map((n) => fetchRef(h.session, ref(n))));
    for (const s of settled)
      expect(((s as PromiseRejectedResult).reason as SecretwrapError).code).toBe("ACCESS_DENIED");
  });
});

describe("vals' prefix form: a #field reads every parameter under the path", () => {
  it("25 parameters under a path: GetParametersByPath page by page (10 + 10 + 5), empty pages too, decrypted", async () => {
    const base = path("prefix");
    const secret = canary("PREFIX");
    for (let i = 0; i < 25; i++) fake.ssm.put(REGION, `${base}/p${String(i).padStart(2, "0")}`, `v${i}`);
    fake.ssm.put(REGION, `${base}/secure`, secret, "SecureString");
    fake.ssm.put(REGION, `${base}/deeper/hidden`, "one level only");
    fake.ssm.emptyPagesBefore = 1;
    const h = await connect(staticEnv());
    const before = fake.ssmCalls().length;
    const fetched = await fetchRef(h.session, ref(base, "#/p07"));
    const calls = fake.ssmCalls().slice(before);
    expect(calls.every((c) => target(c) === "AmazonSSM.GetParametersByPath")).toBe(true);
    // 26 parameters one level down: 3 pages of values, each after one empty page
    expect(calls).toHaveLength(6);
    expect(calls.map((c) => [body(c)["Path"], body(c)["WithDecryption"], body(c)["Recursive"]])[0]).toEqual([
      base,
      true,
      false,
    ]);
    expect(fetched.audit).toEqual({ parameters: "26" });
    expect(text(selectField(fetched, "/p07"))).toBe("v7");
    expect(text(selectField(fetched, "secure"))).toBe(secret);
    expect(() => selectField(fetched, "/deeper/hidden")).toThrow(/not in the secret/);
  });

  it("a malformed answer fails the reference instead of dropping a parameter: a page entry without a value, a name answered twice", async () => {
    const base = path("malformed");
    for (let i = 0; i < 12; i++) fake.ssm.put(REGION, `${base}/p${String(i).padStart(2, "0")}`, `v${i}`);
    const h = await connect(staticEnv());
    const isPage = (r: RecordedRequest) =>
      target(r) === "AmazonSSM.GetParametersByPath" && body(r)["NextToken"] !== undefined;
    // page 2 lists a parameter without its Value: the document would lack it (a partial map)
    fake.server.script(isPage, [
      reply(200, { Parameters: [{ Name: `${base}/p10`, Type: "SecureString", Version: 1 }] }),
    ]);
    const partial = await failure(fetchRef(h.session, ref(base, "#/p00")));
    expect([partial.code, partial.transient]).toEqual(["FETCH_FAILED", false]);
    // GetParameters answering one name twice with two values: neither is taken
    const name = path("twice");
    fake.ssm.put(REGION, name, "real");
    const isGet = (r: RecordedRequest) => target(r) === "AmazonSSM.GetParameters";
    fake.server.script(isGet, [
      reply(200, {
        Parameters: [
          { Name: name, Type: "String", Value: "real", Version: 1 },
          { Name: name, Type: "String", Value: "other", Version: 1 },
        ],
        InvalidParameters: [],
      }),
    ]);
    const twice = await failure(fetchRef(h.session, ref(name)));
    expect(twice.code).toBe("FETCH_FAILED");
  });

  it("?recursive=true: every level, as nested keys; vals' README examples hold", async () => {
    const foo = path("foo");
    fake.ssm.put(REGION, `${foo}/bar`, '{"BAR":"VALUE"}');
    fake.ssm.put(REGION, `${foo}/bar/a`, "A");
    fake.ssm.put(REGION, `${foo}/bar/b`, "B");
    const h = await connect(staticEnv());
    // vals: ref+awsssm://foo/bar and ref+awsssm://foo#/bar give {"BAR":"VALUE"}
    expect(await delivered(h.session, ref(`${foo}/bar`))).toBe('{"BAR":"VALUE"}');
    expect(await delivered(h.session, ref(foo, "#/bar"))).toBe('{"BAR":"VALUE"}');
    // ref+awsssm://foo/bar/a, foo/bar#/a and foo?recursive=true#/bar/a give A
    expect(await delivered(h.session, ref(`${foo}/bar/a`))).toBe("A");
    expect(await delivered(h.session, ref(`${foo}/bar`, "#/a"))).toBe("A");
    expect(await delivered(h.session, ref(foo, "?recursive=true#/bar/a"))).toBe("A");
    // ref+awsssm://foo/bar?mode=singleparam#/BAR gives VALUE
    expect(await delivered(h.session, ref(`${foo}/bar`, "?mode=singleparam#/BAR"))).toBe("VALUE");
    // ref+awsssm://foo/bar#/BAR fails: /foo/bar's parameters are {"a":"A","b":"B"}
    await expect(delivered(h.session, ref(`${foo}/bar`, "#/BAR"))).rejects.toThrow(/keys: a, b/);
    // recursively, a parameter that has parameters under it is their map (theirs win)
    expect(await delivered(h.session, ref(foo, "?recursive=true#/bar"))).toBe('{"a":"A","b":"B"}');
  });

  it("nothing under the path is SECRET_NOT_FOUND (69), with the hint to ?mode=singleparam", async () => {
    const name = path("lonely");
    fake.ssm.put(REGION, name, '{"password":"pw"}');
    const h = await connect(staticEnv());
    const e = await failure(fetchRef(h.session, ref(name, "#password")));
    expect([e.code, e.exitCode]).toEqual(["SECRET_NOT_FOUND", 69]);
    expect(e.hint).toContain("?mode=singleparam");
  });

  it("denied GetParametersByPath is ACCESS_DENIED (77) naming that action; over 1 MiB of parameters is refused", async () => {
    const base = path("denied-path");
    fake.ssm.put(REGION, `${base}/a`, "x");
    fake.ssm.deniedActions.add("GetParametersByPath");
    const h = await connect(staticEnv());
    const denied = await failure(fetchRef(h.session, ref(base, "#a")));
    expect([denied.code, denied.exitCode]).toEqual(["ACCESS_DENIED", 77]);
    expect(denied.hint).toContain("ssm:GetParametersByPath");
    fake.ssm.deniedActions.clear();
    const big = path("big");
    const chunk = "x".repeat(8192);
    const count = Math.ceil(MAX_SECRET_BYTES / chunk.length) + 1;
    for (let i = 0; i < count; i++) fake.ssm.put(REGION, `${big}/p${String(i).padStart(3, "0")}`, chunk);
    const before = fake.ssmCalls().length;
    const tooBig = await failure(fetchRef(h.session, ref(big, "#p000")));
    expect([tooBig.code, tooBig.transient]).toEqual(["FETCH_FAILED", false]);
    expect(tooBig.message).toContain(`more than ${MAX_SECRET_BYTES} bytes`);
    // it stops at the page that crossed the limit
    expect(fake.ssmCalls().length - before).toBe(Math.ceil((MAX_SECRET_BYTES + 1) / (chunk.length * 10)));
  });
});

describe("checkVersion (--watch)", () => {
  it("reads Version with GetParameters without decryption (no KMS call), batched; a new version shows", async () => {
    const [a, b, kms] = [path("watch"), path("watch"), path("watch-kms")];
    fake.ssm.put(REGION, a, "a1");
    fake.ssm.put(REGION, b, "b1", "SecureString");
    fake.ssm.put(REGION, kms, "k1", "SecureString");
    const h = await connect(staticEnv());
    const check = (name: string, rest = "") =>
      h.session.checkVersion?.(parseRef(ref(name, rest)), AbortSignal.timeout(5000));
    const before = fake.ssmCalls().length;
    const [checkA, checkB] = await Promise.all([check(a), check(b)]);
    expect([checkA, checkB].map((v) => v?.split("@")[0])).toEqual(["1", "1"]);
    const calls = fake.ssmCalls().slice(before);
    expect(calls.map((c) => [requestedNames(c.body).length, body(c)["WithDecryption"]])).toEqual([
      [2, false],
    ]);
    // the same answer a fetch reports as the version
    expect((await fetchRef(h.session, ref(a))).version).toBe(checkA);
    fake.ssm.put(REGION, a, "a2");
    expect((await check(a))?.split("@")[0]).toBe("2");
    // a key this identity may not decrypt with still has a version to compare
    fake.ssm.denyKms(REGION, kms);
    expect((await check(kms))?.split("@")[0]).toBe("1");
    const missing = await failure(Promise.resolve(check(path("gone"))));
    expect(missing.code).toBe("SECRET_NOT_FOUND");
  });

  it("a parameter deleted and created again is at version 1 again (SSM keeps no history of it): the check still sees the change", async () => {
    // What Terraform does when a parameter's type changes (String → SecureString): delete, then create.
    const name = path("recreated");
    fake.ssm.put(REGION, name, "before");
    const h = await connect(staticEnv());
    const first = await fetchRef(h.session, ref(name));
    await new Promise((resolve) => setTimeout(resolve, 5));
    fake.ssm.delete(REGION, name);
    fake.ssm.put(REGION, name, "after", "SecureString");
    const check = await h.session.checkVersion?.(parseRef(ref(name)), AbortSignal.timeout(5000));
    expect(check).not.toBe(first.version);
    const second = await fetchRef(h.session, ref(name));
    expect([text(second.bytes), second.version]).toEqual(["after", check]);
    // and an unchanged parameter keeps answering the version its fetch reported (no read per interval)
    expect(await h.session.checkVersion?.(parseRef(ref(name)), AbortSignal.timeout(5000))).toBe(check);
  });

  it("a pinned version is its own answer (no request); the prefix form has no cheap check", async () => {
    const h = await connect(staticEnv());
    const before = fake.ssmCalls().length;
    const signal = AbortSignal.timeout(5000);
    expect(await h.session.checkVersion?.(parseRef("ref+awsssm://x/y?version=4"), signal)).toBe("4");
    expect(await h.session.checkVersion?.(parseRef("ref+awsssm://x#/y"), signal)).toBeUndefined();
    expect(fake.ssmCalls().length).toBe(before);
  });
});

describe("faults: one attempt per call, the right transient flag, no server text", () => {
  it("ThrottlingException, InternalServerError and a 502 are transient after exactly one request; Retry-After is read", async () => {
    const name = path("throttle");
    fake.ssm.put(REGION, name, "x");
    const h = await connect(staticEnv());
    const isGet = (r: RecordedRequest) => target(r) === "AmazonSSM.GetParameters";
    for (const [fault, code] of [
      [
        reply(400, { __type: "ThrottlingException", message: `Rate exceeded ${EXTRA}` }),
        "ThrottlingException",
      ],
      [reply(500, { __type: "InternalServerError", message: EXTRA }), "InternalServerError"],
      [reply(502, `<html>${EXTRA}</html>`), "HTTP 502"],
    ] as const) {
      fake.server.script(isGet, [fault]);
      const before = fake.server.count(isGet);
      const e = await failure(fetchRef(h.session, ref(name)));
      expect([e.code, e.transient], code).toEqual(["FETCH_FAILED", true]);
      expect(e.message).toContain(code);
      expect(fake.server.count(isGet) - before).toBe(1);
    }
    fake.server.script(isGet, [
      reply(400, { __type: "ThrottlingException", message: "slow down" }, { "retry-after": "3" }),
    ]);
    expect((await failure(fetchRef(h.session, ref(name)))).retryAfterMs).toBe(3000);
    // paging too: a throttled page fails the read as transient (the core retries it whole)
    const base = path("paged");
    for (let i = 0; i < 12; i++) fake.ssm.put(REGION, `${base}/p${i}`, "v");
    fake.server.script(
      (r) => target(r) === "AmazonSSM.GetParametersByPath" && r.body.includes("NextToken"),
      [reply(400, { __type: "ThrottlingException", message: EXTRA })],
    );
    const paged = await failure(fetchRef(h.session, ref(base, "#p1")));
    expect([paged.code, paged.transient]).toEqual(["FETCH_FAILED", true]);
  });

  it("a hang ends when the attempt's signal fires; a reset is transient", async () => {
    const name = path("hang");
    fake.ssm.put(REGION, name, "x");
    const h = await connect(staticEnv());
    fake.server.script(() => true, [{ kind: "hang" }]);
    const started = Date.now();
    await expect(fetchRef(h.session, ref(name), AbortSignal.timeout(500))).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    fake.server.script(() => true, [{ kind: "reset" }]);
    const e = await failure(fetchRef(h.session, ref(name)));
    expect([e.code, e.transient]).toEqual(["FETCH_FAILED", true]);
  });
});

describe("TLS and endpoints", () => {
  it("https with caFile (or AWS_CA_BUNDLE) works; without it verification fails, not transient", async () => {
    const tlsFake = await AwsFake.start({ tls: pki.valid });
    try {
      const keys = tlsFake.issueStatic();
      tlsFake.ssm.put(REGION, "/tls/value", "over-tls");
      const env = {
        ...isolation,
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        AWS_REGION: REGION,
        AWS_ENDPOINT_URL_SSM: tlsFake.url,
      };
      const h = await connect(env, { caFile: pki.caFile });
      expect(text((await fetchRef(h.session, "ref+awsssm://tls/value")).bytes)).toBe("over-tls");
      const viaEnv = await connect({ ...env, AWS_CA_BUNDLE: pki.caFile });
      expect(text((await fetchRef(viaEnv.session, "ref+awsssm://tls/value")).bytes)).toBe("over-tls");
      const untrusted = await connect(env);
      const e = await failure(fetchRef(untrusted.session, "ref+awsssm://tls/value"));
      expect([e.code, e.transient]).toEqual(["FETCH_FAILED", false]);
      expect(e.message).toContain("TLS");
    } finally {
      await tlsFake.close();
    }
  });

  it("the block's endpoint wins over AWS_ENDPOINT_URL_SSM; plain http elsewhere than loopback is refused; options are strict", async () => {
    const name = path("endpoint");
    fake.ssm.put(REGION, name, "v-endpoint");
    const h = await connect(staticEnv({ AWS_ENDPOINT_URL_SSM: "https://127.0.0.1:1" }), {
      endpoint: fake.url,
    });
    expect(text((await fetchRef(h.session, ref(name))).bytes)).toBe("v-endpoint");
    const e = await failure(connect(staticEnv({ AWS_ENDPOINT_URL_SSM: "http://198.51.100.7:4566" })));
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.message).toContain("awsssm");
    expect(validateOptions({ endpoint: "http://198.51.100.7" })[0]?.path).toEqual(["endpoint"]);
    expect(validateOptions({ endpoint: "http://198.51.100.7", allowHttp: true })).toEqual([]);
    expect(validateOptions({ regoin: REGION }).length).toBe(1);
  });
});
