// The awssecrets version check of `run --watch` (Session.checkVersion), with the real AWS SDK over
// real HTTP against test/servers/aws.ts (every call SigV4-checked). New versions are written through
// the real write API (PutSecretValue, sent by the SDK: AwsFake.rotate), and the fake counts
// DescribeSecret apart from GetSecretValue/BatchGetSecretValue, so "no value read" is a number here.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import type { Session } from "../../src/provider-api.ts";
import { descriptor } from "../../providers/awssecrets/descriptor.ts";
import { validateOptions } from "../../providers/awssecrets/options.ts";
import { canary } from "../helpers/canary.ts";
import { providerContext } from "../helpers/context.ts";
import { failureWithout, fetchRef, text, unique } from "../helpers/provider.ts";
import { providerUnderTest } from "../helpers/provider-under-test.ts";
import { AwsFake, requestedIds, scopeRegion, isolateFromHostAws } from "../servers/aws.ts";
import { reply } from "../servers/harness.ts";

// The source, or the built bundle with SECRETWRAP_TEST_PROVIDERS_FROM (scripts/test.mjs runs both).
const provider = await providerUnderTest("awssecrets");

const work = mkdtempSync(join(tmpdir(), "secretwrap-aws-versions-"));
const EXTRA = canary("ECHO");
const REGION = "eu-west-1";
let fake: AwsFake;

let restoreEnv: () => void = () => {};
beforeAll(async () => {
  restoreEnv = isolateFromHostAws(work);
  fake = await AwsFake.start({ errorMessageExtra: EXTRA });
});
afterAll(async () => {
  await fake.close();
  restoreEnv();
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => {
  fake.server.clearFaults();
  fake.deniedActions.clear();
});

interface Harness {
  readonly session: Session;
  readonly logs: string[];
  check(raw: string, signal?: AbortSignal): Promise<string | undefined>;
}

async function connect(): Promise<Harness> {
  const keys = fake.issueStatic();
  const env = {
    AWS_CONFIG_FILE: join(work, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
  };
  expect(validateOptions({})).toEqual([]);
  const { ctx, logs } = providerContext(env);
  const session = await provider.connect({}, ctx, AbortSignal.timeout(10_000));
  const checkVersion = session.checkVersion?.bind(session);
  if (checkVersion === undefined) throw new Error("awssecrets has no checkVersion");
  return {
    session,
    logs,
    check: (raw, signal = AbortSignal.timeout(5_000)) => checkVersion(parseRef(raw), signal),
  };
}

const failure = (promise: Promise<unknown>) => failureWithout(promise, EXTRA);

/** Secrets Manager calls from now on, by action. */
function counter(): () => { describe: number; get: number; batch: number; all: number } {
  const at = {
    describe: fake.calls("DescribeSecret").length,
    get: fake.calls("GetSecretValue").length,
    batch: fake.calls("BatchGetSecretValue").length,
    all: fake.server.requests.length,
  };
  return () => ({
    describe: fake.calls("DescribeSecret").length - at.describe,
    get: fake.calls("GetSecretValue").length - at.get,
    batch: fake.calls("BatchGetSecretValue").length - at.batch,
    all: fake.server.requests.length - at.all,
  });
}

/** A new secret whose value is a canary; returns its name, value and first VersionId. */
function secret(label: string): { name: string; value: string; versionId: string; arn: string } {
  const name = unique(label);
  const value = canary(label.toUpperCase());
  const { versionId, arn } = fake.putSecret(REGION, name, value);
  return { name, value, versionId, arn };
}

/** No canary of this suite's secrets in what the provider logged. */
function expectNoValueIn(logs: readonly string[], ...values: string[]): void {
  for (const line of logs) for (const value of [...values, EXTRA]) expect(line).not.toContain(value);
}

it("the descriptor declares checkVersion", () => {
  expect(descriptor.capabilities.checkVersion).toBe(true);
});

describe("checkVersion: DescribeSecret, no value read", () => {
  it("equals Fetched.version of a lone fetch (GetSecretValue), with one DescribeSecret and no value call", async () => {
    const s = secret("single");
    const h = await connect();
    const fetched = await fetchRef(h.session, `ref+awssecrets://${s.name}`);
    expect(fetched.version).toBe(s.versionId);
    const calls = counter();
    expect(await h.check(`ref+awssecrets://${s.name}`)).toBe(fetched.version);
    expect(calls()).toEqual({ describe: 1, get: 0, batch: 0, all: 1 });
    expect(requestedIds(fake.calls("DescribeSecret").at(-1)!)).toEqual([s.name]);
    expect(fake.signatures.at(-1)).toMatchObject({ target: "DescribeSecret", valid: true, region: REGION });
    expectNoValueIn(h.logs, s.value);
    await h.session.close();
  });

  it("equals Fetched.version of batched fetches (BatchGetSecretValue)", async () => {
    const a = secret("batch-a");
    const b = secret("batch-b");
    const h = await connect();
    const before = counter();
    const [fa, fb] = await Promise.all([
      fetchRef(h.session, `ref+awssecrets://${a.name}`),
      fetchRef(h.session, `ref+awssecrets://${b.name}`),
    ]);
    expect(before()).toMatchObject({ batch: 1, get: 0 });
    const calls = counter();
    expect([
      await h.check(`ref+awssecrets://${a.name}`),
      await h.check(`ref+awssecrets://${b.name}`),
    ]).toEqual([fa.version, fb.version]);
    expect([fa.version, fb.version]).toEqual([a.versionId, b.versionId]);
    expect(calls()).toEqual({ describe: 2, get: 0, batch: 0, all: 2 });
    await h.session.close();
  });

  it("after PutSecretValue the answer is the new VersionId, and the next fetch serves the new value", async () => {
    const s = secret("rotate");
    const h = await connect();
    const ref = `ref+awssecrets://${s.name}`;
    const first = await fetchRef(h.session, ref);
    expect(await h.check(ref)).toBe(first.version);

    const next = canary("ROTATED");
    const calls = counter();
    const newId = await fake.rotate(REGION, s.name, next);
    expect(fake.calls("PutSecretValue").length).toBeGreaterThan(0);
    const seen = await h.check(ref);
    expect(seen).toBe(newId);
    expect(seen).not.toBe(first.version);
    expect(calls()).toMatchObject({ describe: 1, get: 0, batch: 0 });

    const second = await fetchRef(h.session, ref);
    expect([text(second.bytes), second.version]).toEqual([next, seen]);
    // The old version now carries AWSPREVIOUS: a reference to that stage follows it.
    expect(await h.check(`${ref}?version_stage=AWSPREVIOUS`)).toBe(first.version);
    // Unchanged since: the same answer again, still without a value read.
    const again = counter();
    expect(await h.check(ref)).toBe(seen);
    expect(again()).toMatchObject({ describe: 1, get: 0, batch: 0 });
    expectNoValueIn(h.logs, s.value, next);
    await h.session.close();
  });

  it("a named stage: the version that carries it, apart from AWSCURRENT", async () => {
    const s = secret("stage");
    const h = await connect();
    const pending = canary("PENDING");
    const pendingId = await fake.rotate(REGION, s.name, pending, ["AWSPENDING"]);
    const ref = `ref+awssecrets://${s.name}?version_stage=AWSPENDING`;
    const fetched = await fetchRef(h.session, ref);
    expect([text(fetched.bytes), fetched.version]).toEqual([pending, pendingId]);
    expect(await h.check(ref)).toBe(pendingId);
    // AWSCURRENT did not move.
    expect(await h.check(`ref+awssecrets://${s.name}`)).toBe(s.versionId);
    // A stage no version carries: what a fetch says (GetSecretValue's ResourceNotFoundException).
    const gone = await failure(h.check(`ref+awssecrets://${s.name}?version_stage=NOSUCHSTAGE`));
    expect([gone.code, gone.transient]).toEqual(["SECRET_NOT_FOUND", false]);
    expect(
      (await failure(fetchRef(h.session, `ref+awssecrets://${s.name}?version_stage=NOSUCHSTAGE`))).code,
    ).toBe("SECRET_NOT_FOUND");
    await h.session.close();
  });

  it("a reference pinned to a VersionId answers that id without a request", async () => {
    const s = secret("pinned");
    await fake.rotate(REGION, s.name, canary("LATER"));
    const h = await connect();
    const calls = counter();
    expect(await h.check(`ref+awssecrets://${s.name}?version_id=${s.versionId}`)).toBe(s.versionId);
    expect(calls().all).toBe(0);
    const fetched = await fetchRef(h.session, `ref+awssecrets://${s.name}?version_id=${s.versionId}`);
    expect(fetched.version).toBe(s.versionId);
    await h.session.close();
  });

  it("an ARN of another region is described in that region", async () => {
    const name = unique("arn");
    const value = canary("ARN");
    const { arn, versionId } = fake.putSecret("us-west-2", name, value);
    const h = await connect();
    expect(await h.check(`ref+awssecrets://${arn}`)).toBe(versionId);
    expect(scopeRegion(fake.calls("DescribeSecret").at(-1)!)).toBe("us-west-2");
    expect((await fetchRef(h.session, `ref+awssecrets://${arn}`)).version).toBe(versionId);
    await h.session.close();
  });

  it("a binary secret: the same VersionId from the check and the fetch", async () => {
    const name = unique("binary");
    const { versionId } = fake.putSecret(REGION, name, new Uint8Array([0, 1, 2, 255]));
    const h = await connect();
    expect((await fetchRef(h.session, `ref+awssecrets://${name}`)).version).toBe(versionId);
    const next = await fake.rotate(REGION, name, new Uint8Array([9, 9]));
    expect(await h.check(`ref+awssecrets://${name}`)).toBe(next);
    expect(Buffer.from((await fetchRef(h.session, `ref+awssecrets://${name}`)).bytes)).toEqual(
      Buffer.from([9, 9]),
    );
    await h.session.close();
  });
});

describe("DescribeSecret denied (a policy that grants GetSecretValue only)", () => {
  it("answers undefined after one denied call, then sends none; fetching still works", async () => {
    const secrets = [secret("denied-a"), secret("denied-b"), secret("denied-c")];
    fake.deniedActions.add("DescribeSecret");
    const h = await connect();
    const calls = counter();
    // Checked at once, as a watch checks its secrets: one probe, not one denied call per secret.
    const answers = await Promise.all(secrets.map((s) => h.check(`ref+awssecrets://${s.name}`)));
    expect(answers).toEqual([undefined, undefined, undefined]);
    expect(calls()).toEqual({ describe: 1, get: 0, batch: 0, all: 1 });
    expect(await h.check(`ref+awssecrets://${secrets[0]!.name}`)).toBeUndefined();
    expect(calls().all).toBe(1);
    // One debug line says so, naming the action and nothing of the server's message.
    const lines = h.logs.filter((l) => l.includes("DescribeSecret"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("debug");
    expectNoValueIn(h.logs, ...secrets.map((s) => s.value));
    // The watch falls back to fetching: GetSecretValue is allowed.
    const fetched = await fetchRef(h.session, `ref+awssecrets://${secrets[1]!.name}`);
    expect(text(fetched.bytes)).toBe(secrets[1]!.value);
    await h.session.close();
  });

  it("is remembered per session: a new session asks again", async () => {
    const s = secret("denied-again");
    fake.deniedActions.add("DescribeSecret");
    const first = await connect();
    expect(await first.check(`ref+awssecrets://${s.name}`)).toBeUndefined();
    await first.session.close();
    fake.deniedActions.clear();
    const second = await connect();
    const calls = counter();
    expect(await second.check(`ref+awssecrets://${s.name}`)).toBe(s.versionId);
    expect(calls().describe).toBe(1);
    await second.session.close();
  });

  it("allowed checks run side by side once the first answered", async () => {
    const secrets = [secret("side-a"), secret("side-b"), secret("side-c")];
    const h = await connect();
    const calls = counter();
    const answers = await Promise.all(secrets.map((s) => h.check(`ref+awssecrets://${s.name}`)));
    expect(answers).toEqual(secrets.map((s) => s.versionId));
    expect(calls()).toMatchObject({ describe: 3, get: 0, batch: 0 });
    await h.session.close();
  });
});

describe("failures map as fetch failures do, quoting nothing the server said", () => {
  it("an unknown secret is SECRET_NOT_FOUND, not transient", async () => {
    const h = await connect();
    const e = await failure(h.check(`ref+awssecrets://${unique("missing")}`));
    expect([e.code, e.transient]).toEqual(["SECRET_NOT_FOUND", false]);
    expect(e.message).toContain("ResourceNotFoundException");
    await h.session.close();
  });

  it("throttling and a 500 are transient, and do not switch the check off", async () => {
    const s = secret("faults");
    const h = await connect();
    const isDescribe = (r: { headers: Readonly<Record<string, string | string[] | undefined>> }) =>
      r.headers["x-amz-target"] === "secretsmanager.DescribeSecret";
    fake.server.script(isDescribe, [
      reply(400, { __type: "ThrottlingException", Message: `Rate exceeded ${EXTRA}` }),
      reply(500, { __type: "InternalServiceError", Message: `oops ${EXTRA}` }),
    ]);
    const throttled = await failure(h.check(`ref+awssecrets://${s.name}`));
    expect([throttled.code, throttled.transient, throttled.message]).toEqual([
      "FETCH_FAILED",
      true,
      `${s.name}: AWS Secrets Manager is throttling (ThrottlingException, HTTP 400)`,
    ]);
    const failing = await failure(h.check(`ref+awssecrets://${s.name}`));
    expect([failing.code, failing.transient]).toEqual(["FETCH_FAILED", true]);
    // Neither was a denial: the next check asks again and answers.
    expect(await h.check(`ref+awssecrets://${s.name}`)).toBe(s.versionId);
    await h.session.close();
  });

  it("bad credentials are AUTH_FAILED and do not count as a denial", async () => {
    const s = secret("badauth");
    const h = await connect();
    fake.server.script(
      (r) => r.headers["x-amz-target"] === "secretsmanager.DescribeSecret",
      [reply(400, { __type: "UnrecognizedClientException", Message: `bad ${EXTRA}` })],
    );
    const e = await failure(h.check(`ref+awssecrets://${s.name}`));
    expect([e.code, e.transient]).toEqual(["AUTH_FAILED", false]);
    expect(await h.check(`ref+awssecrets://${s.name}`)).toBe(s.versionId);
    await h.session.close();
  });

  it("a hung DescribeSecret ends when the check's signal fires", async () => {
    const s = secret("hang");
    const h = await connect();
    fake.server.script(
      (r) => r.headers["x-amz-target"] === "secretsmanager.DescribeSecret",
      [{ kind: "hang" }],
    );
    const started = Date.now();
    const e = await failure(h.check(`ref+awssecrets://${s.name}`, AbortSignal.timeout(300)));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(e.transient).toBe(true);
    await h.session.close();
  });

  it("a secret scheduled for deletion fails as a fetch does, not as unchanged", async () => {
    const s = secret("deleting");
    const h = await connect();
    fake.scheduleDeletion(REGION, s.name);
    const e = await failure(h.check(`ref+awssecrets://${s.name}`));
    expect([e.code, e.transient]).toEqual(["FETCH_FAILED", false]);
    const fetchFailure = await failure(fetchRef(h.session, `ref+awssecrets://${s.name}`));
    expect(fetchFailure.code).toBe("FETCH_FAILED");
    await h.session.close();
  });
});

describe("the fake's write API (PutSecretValue), as AWS documents it", () => {
  it("the ClientRequestToken becomes the VersionId; the same token again is idempotent, another value is refused", async () => {
    const s = secret("token");
    const { client, sdk } = await fake.adminClient(REGION);
    try {
      const token = crypto.randomUUID();
      const put = () =>
        client.send(
          new sdk.PutSecretValueCommand({ SecretId: s.name, SecretString: "v2", ClientRequestToken: token }),
        );
      const first = await put();
      expect([first.VersionId, first.VersionStages]).toEqual([token, ["AWSCURRENT"]]);
      await put();
      const described = await client.send(new sdk.DescribeSecretCommand({ SecretId: s.name }));
      expect(described.VersionIdsToStages).toEqual({
        [s.versionId]: ["AWSPREVIOUS"],
        [token]: ["AWSCURRENT"],
      });
      expect([described.Name, described.ARN]).toEqual([s.name, s.arn]);
      await expect(
        client.send(
          new sdk.PutSecretValueCommand({ SecretId: s.name, SecretString: "v3", ClientRequestToken: token }),
        ),
      ).rejects.toMatchObject({ name: "ResourceExistsException" });
    } finally {
      client.destroy();
    }
  });
});
