// A wire-level AWS fake on one loopback port, as reference/protocols.md §2 describes it:
// - SSM Parameter Store (awsJson1_1, X-Amz-Target AmazonSSM.<action>): aws-ssm.ts, as `fake.ssm`;
// - Secrets Manager (awsJson1_1: POST / with X-Amz-Target): GetSecretValue and BatchGetSecretValue,
//   with the real error shapes ({"__type","Message"}) and per-secret Errors inside a batch's 200;
//   DescribeSecret (metadata, VersionIdsToStages) and the write API PutSecretValue (a new version
//   takes AWSCURRENT, the old one AWSPREVIOUS), so a test rotates a secret the way AWS users do;
// - STS AssumeRoleWithWebIdentity (awsQuery: form body in, XML out), checking the token file content;
// - an ECS-style container-credentials endpoint (GET /creds, optional Authorization token);
// - IMDSv2 (PUT /latest/api/token, then the security-credentials documents).
// Every Secrets Manager and SSM request must carry a valid SigV4 signature made with credentials this fake
// issued (static keys it was given, or keys it handed out via STS/container/IMDS); the region of a
// request is the one in its signature scope, so one fake serves every region. Faults, latency and the
// request log come from harness.ts.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { TestServer, type RecordedRequest, type Reply } from "./harness.ts";
import { awsJsonError, awsJsonOk } from "./aws-json.ts";
import { type SsmAction, SsmParameters } from "./aws-ssm.ts";

type SecretsManagerSdk = typeof import("@aws-sdk/client-secrets-manager");

export const ACCOUNT = "123456789012";

export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly source: "static" | "sts" | "container" | "imds";
}

export interface SignatureCheck {
  readonly target: string;
  readonly accessKeyId: string;
  readonly source: IssuedCredentials["source"] | "unknown";
  readonly region: string;
  readonly valid: boolean;
  readonly problem?: string;
}

interface Version {
  readonly id: string;
  stages: string[];
  readonly value: string | Uint8Array;
  readonly created: number;
}

interface Secret {
  readonly name: string;
  readonly region: string;
  readonly arn: string;
  readonly versions: Version[];
  readonly created: number;
  /** When a version was last added or moved (DescribeSecret's LastChangedDate). */
  changed: number;
  /** When a value was last read, to the day as AWS reports it (DescribeSecret's LastAccessedDate). */
  accessed: number | undefined;
  /** Scheduled for deletion (DeleteSecret with a recovery window): GetSecretValue refuses it. */
  deleted: number | undefined;
  denied: boolean;
  kmsDenied: boolean;
}

/** The Secrets Manager actions a test may count (X-Amz-Target secretsmanager.<action>). */
export type SecretsManagerAction =
  "GetSecretValue" | "BatchGetSecretValue" | "DescribeSecret" | "PutSecretValue";

export interface AwsFakeOptions {
  readonly latencyMs?: number;
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Appended to every error Message: lets a test prove messages are never echoed to the user. */
  readonly errorMessageExtra?: string;
}

export class AwsFake {
  readonly server: TestServer;
  readonly signatures: SignatureCheck[] = [];
  readonly #credentials = new Map<string, IssuedCredentials>();
  readonly #secrets: Secret[] = [];
  readonly #extra: string;
  /** What STS accepts: the role and the exact token file content (trailing newline included). */
  webIdentity: { roleArn: string; token: string } | undefined;
  /** How long the temporary keys STS, the container endpoint and IMDS hand out are valid. */
  credentialLifetimeSec = 3600;
  /** What the container endpoint wants in Authorization (undefined: no token required). */
  containerToken: string | undefined;
  /** Deny the BatchGetSecretValue action itself (an IAM policy that grants only GetSecretValue). */
  batchDenied = false;
  /** Actions the identity's policy does not allow at all (e.g. DescribeSecret): AccessDeniedException. */
  readonly deniedActions = new Set<SecretsManagerAction>();
  readonly #imdsTokens = new Set<string>();
  /** SSM Parameter Store in every region, behind the same credentials. */
  readonly ssm: SsmParameters;

  private constructor(server: TestServer, extra: string) {
    this.server = server;
    this.#extra = extra;
    this.ssm = new SsmParameters(ACCOUNT, this.#principal(), extra);
  }

  static async start(options: AwsFakeOptions = {}): Promise<AwsFake> {
    // The handler needs the fake and the fake needs the server: tie the knot through a holder.
    const holder: { fake?: AwsFake } = {};
    const server = await TestServer.start({
      handler: (request) => (holder.fake as AwsFake).handle(request),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
    });
    holder.fake = new AwsFake(
      server,
      options.errorMessageExtra === undefined ? "" : ` ${options.errorMessageExtra}`,
    );
    return holder.fake;
  }

  get url(): string {
    return this.server.url;
  }

  /** Every credential this fake accepts or handed out (for canary scans of the user's output). */
  get issued(): readonly IssuedCredentials[] {
    return [...this.#credentials.values()];
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Long-term keys the fake accepts (as if they belonged to an IAM user). */
  issueStatic(): IssuedCredentials {
    return this.#issue("static", "AKIA");
  }

  /** Creates a secret with one version in AWSCURRENT; returns its ARN and version id. */
  putSecret(region: string, name: string, value: string | Uint8Array): { arn: string; versionId: string } {
    let secret = this.#secrets.find((s) => s.region === region && s.name === name);
    if (secret === undefined) {
      const arn = `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}-${randomBytes(3).toString("hex")}`;
      const now = Date.now() / 1000;
      secret = {
        name,
        region,
        arn,
        versions: [],
        created: now,
        changed: now,
        accessed: undefined,
        deleted: undefined,
        denied: false,
        kmsDenied: false,
      };
      this.#secrets.push(secret);
    }
    return { arn: secret.arn, versionId: this.putVersion(region, name, value, ["AWSCURRENT"]) };
  }

  /**
   * Adds a version with these staging labels (moving AWSCURRENT makes the old one AWSPREVIOUS), in
   * process; a test that wants the wire path calls PutSecretValue (rotate, adminClient).
   */
  putVersion(region: string, name: string, value: string | Uint8Array, stages: readonly string[]): string {
    return this.#addVersion(this.#must(region, name), value, stages, randomUuid());
  }

  #addVersion(secret: Secret, value: string | Uint8Array, stages: readonly string[], id: string): string {
    const current = secret.versions.find((v) => v.stages.includes("AWSCURRENT"));
    for (const version of secret.versions) {
      version.stages = version.stages.filter(
        (s) => !stages.includes(s) && !(stages.includes("AWSCURRENT") && s === "AWSPREVIOUS"),
      );
    }
    if (stages.includes("AWSCURRENT") && current !== undefined) current.stages.push("AWSPREVIOUS");
    secret.versions.push({ id, stages: [...stages], value, created: Date.now() / 1000 });
    secret.changed = Date.now() / 1000;
    return id;
  }

  /**
   * A new version through the real write API: PutSecretValue sent by the AWS SDK over HTTP, signed
   * with keys this fake issued (so it shows in calls("PutSecretValue")). Returns its VersionId.
   */
  async rotate(
    region: string,
    name: string,
    value: string | Uint8Array,
    stages?: readonly string[],
  ): Promise<string> {
    const { client, sdk } = await this.adminClient(region);
    try {
      const out = await client.send(
        new sdk.PutSecretValueCommand({
          SecretId: name,
          ...(typeof value === "string" ? { SecretString: value } : { SecretBinary: value }),
          ...(stages === undefined ? {} : { VersionStages: [...stages] }),
        }),
      );
      return out.VersionId ?? "";
    } finally {
      client.destroy();
    }
  }

  /**
   * A new version of an SSM parameter through the real write API: PutParameter with Overwrite, sent by
   * the AWS SDK over HTTP and signed with keys this fake issued. Returns the new Version.
   */
  async putParameter(region: string, name: string, value: string): Promise<number> {
    const sdk = await import("@aws-sdk/client-ssm");
    const keys = this.issueStatic();
    const client = new sdk.SSMClient({
      region,
      endpoint: this.url,
      maxAttempts: 1,
      credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
    });
    try {
      const out = await client.send(
        new sdk.PutParameterCommand({ Name: name, Value: value, Overwrite: true }),
      );
      return out.Version ?? 0;
    } finally {
      client.destroy();
    }
  }

  /** An SDK client for this fake (static keys it issued, one attempt), for tests that write. */
  async adminClient(region: string): Promise<{ client: SecretsManagerClient; sdk: SecretsManagerSdk }> {
    const sdk = await import("@aws-sdk/client-secrets-manager");
    const keys = this.issueStatic();
    const client = new sdk.SecretsManagerClient({
      region,
      endpoint: this.url,
      maxAttempts: 1,
      credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
    });
    return { client, sdk };
  }

  /** As DeleteSecret with a recovery window: reads are refused, DescribeSecret shows DeletedDate. */
  scheduleDeletion(region: string, name: string): void {
    this.#must(region, name).deleted = Date.now() / 1000;
  }

  /** The identity has no secretsmanager:GetSecretValue on this secret. */
  deny(region: string, name: string): void {
    this.#must(region, name).denied = true;
  }

  /** The identity may not kms:Decrypt with this secret's key. */
  denyKms(region: string, name: string): void {
    this.#must(region, name).kmsDenied = true;
  }

  /** Requests whose X-Amz-Target is secretsmanager.<target> (or any Secrets Manager call). */
  calls(target?: SecretsManagerAction, region?: string): RecordedRequest[] {
    return this.server.requests.filter((r) => {
      const t = header(r, "x-amz-target");
      if (t === undefined || (target !== undefined && t !== `secretsmanager.${target}`)) return false;
      return region === undefined || scopeRegion(r) === region;
    });
  }

  /** Requests whose X-Amz-Target is AmazonSSM.<target> (or any SSM call). */
  ssmCalls(target?: SsmAction, region?: string): RecordedRequest[] {
    return this.server.requests.filter((r) => {
      const t = header(r, "x-amz-target");
      if (t === undefined || !t.startsWith("AmazonSSM.")) return false;
      if (target !== undefined && t !== `AmazonSSM.${target}`) return false;
      return region === undefined || scopeRegion(r) === region;
    });
  }

  stsCalls(): RecordedRequest[] {
    return this.server.requests.filter(
      (r) => r.method === "POST" && r.body.includes("Action=AssumeRoleWithWebIdentity"),
    );
  }

  containerCalls(): RecordedRequest[] {
    return this.server.requests.filter((r) => r.method === "GET" && r.path.startsWith("/creds"));
  }

  imdsCalls(): RecordedRequest[] {
    return this.server.requests.filter((r) => r.path.startsWith("/latest/"));
  }

  handle(request: RecordedRequest): Reply {
    if (request.method === "GET" && request.path.startsWith("/creds")) return this.#container(request);
    if (request.path.startsWith("/latest/")) return this.#imds(request);
    const target = header(request, "x-amz-target");
    if (request.method === "POST" && target?.startsWith("secretsmanager.") === true)
      return this.#secretsManager(request, target.slice("secretsmanager.".length));
    if (request.method === "POST" && target?.startsWith("AmazonSSM.") === true)
      return this.#ssm(request, target.slice("AmazonSSM.".length));
    if (
      request.method === "POST" &&
      (header(request, "content-type") ?? "").startsWith("application/x-www-form-urlencoded")
    )
      return this.#sts(request);
    return { status: 404, body: "not a route of the AWS fake" };
  }

  // ---- SSM Parameter Store (aws-ssm.ts) ----

  #ssm(request: RecordedRequest, target: string): Reply {
    const auth = this.#verify(request, target, "ssm");
    if (auth.error !== undefined) return auth.error;
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(request.body) as Record<string, unknown>;
    } catch {
      return awsJsonError(
        400,
        "SerializationException",
        "Start of structure or map found where not expected.",
      );
    }
    return this.ssm.handle(auth.region, target, input);
  }

  // ---- Secrets Manager ----

  #secretsManager(request: RecordedRequest, target: string): Reply {
    const auth = this.#verify(request, target, "secretsmanager");
    if (auth.error !== undefined) return auth.error;
    const region = auth.region;
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(request.body) as Record<string, unknown>;
    } catch {
      return this.#jsonError(
        400,
        "SerializationException",
        "Start of structure or map found where not expected.",
      );
    }
    if ((this.deniedActions as Set<string>).has(target)) {
      return this.#jsonError(
        400,
        "AccessDeniedException",
        `User: ${this.#principal()} is not authorized to perform: secretsmanager:${target} because no identity-based policy allows the secretsmanager:${target} action${this.#extra}`,
      );
    }
    if (target === "GetSecretValue") return this.#getSecretValue(region, input);
    if (target === "BatchGetSecretValue") return this.#batchGetSecretValue(region, input);
    if (target === "DescribeSecret") return this.#describeSecret(region, input);
    if (target === "PutSecretValue") return this.#putSecretValue(region, input);
    return this.#jsonError(400, "UnknownOperationException", "");
  }

  #getSecretValue(region: string, input: Record<string, unknown>): Reply {
    const id = input["SecretId"];
    if (typeof id !== "string" || id === "")
      return this.#jsonError(400, "InvalidParameterException", "SecretId is required.");
    const result = this.#read(region, id, input["VersionId"], input["VersionStage"], "GetSecretValue");
    if ("code" in result) return this.#jsonError(400, result.code, result.message);
    return this.#ok(result.entry);
  }

  #batchGetSecretValue(region: string, input: Record<string, unknown>): Reply {
    if (this.batchDenied) {
      return this.#jsonError(
        400,
        "AccessDeniedException",
        `User: ${this.#principal()} is not authorized to perform: secretsmanager:BatchGetSecretValue because no identity-based policy allows the secretsmanager:BatchGetSecretValue action`,
      );
    }
    if (input["Filters"] !== undefined)
      return this.#jsonError(400, "InvalidRequestException", "The AWS fake supports SecretIdList only.");
    const ids = input["SecretIdList"];
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === "string")) {
      return this.#jsonError(400, "InvalidParameterException", "Either SecretIdList or Filters is required.");
    }
    if (ids.length > 20)
      return this.#jsonError(400, "InvalidParameterException", "SecretIdList may hold at most 20 ids.");
    const SecretValues: object[] = [];
    const Errors: object[] = [];
    for (const id of ids) {
      const result = this.#read(region, id, undefined, undefined, "GetSecretValue");
      if ("code" in result) Errors.push({ SecretId: id, ErrorCode: result.code, Message: result.message });
      else SecretValues.push(result.entry);
    }
    return this.#ok({ SecretValues, Errors });
  }

  /**
   * Metadata only, fields with a value only (as AWS answers): no value, so no decryption (a kmsDenied
   * or GetSecretValue-denied secret still describes). A secret scheduled for deletion shows DeletedDate.
   */
  #describeSecret(region: string, input: Record<string, unknown>): Reply {
    const id = input["SecretId"];
    if (typeof id !== "string" || id === "")
      return this.#jsonError(400, "InvalidParameterException", "SecretId is required.");
    const secret = this.#lookup(region, id);
    if (secret === undefined)
      return this.#jsonError(
        400,
        "ResourceNotFoundException",
        `Secrets Manager can't find the specified secret.${this.#extra}`,
      );
    const VersionIdsToStages: Record<string, string[]> = {};
    // Versions without a staging label are deprecated: AWS leaves them out of this map.
    for (const v of secret.versions) if (v.stages.length > 0) VersionIdsToStages[v.id] = [...v.stages];
    return this.#ok({
      ARN: secret.arn,
      Name: secret.name,
      RotationEnabled: false,
      CreatedDate: secret.created,
      LastChangedDate: secret.changed,
      ...(secret.accessed === undefined ? {} : { LastAccessedDate: secret.accessed }),
      ...(secret.deleted === undefined ? {} : { DeletedDate: secret.deleted + 7 * 86_400 }),
      VersionIdsToStages,
    });
  }

  /**
   * A new version (AWS's rules): its VersionId is the ClientRequestToken (the SDK fills one in); the
   * same token with the same value again changes nothing, with another value it is
   * ResourceExistsException. Without VersionStages the new version takes AWSCURRENT, and the version
   * that had it becomes AWSPREVIOUS.
   */
  #putSecretValue(region: string, input: Record<string, unknown>): Reply {
    const id = input["SecretId"];
    if (typeof id !== "string" || id === "")
      return this.#jsonError(400, "InvalidParameterException", "SecretId is required.");
    const text = input["SecretString"];
    const binary = input["SecretBinary"];
    if (
      (text === undefined) === (binary === undefined) ||
      (text !== undefined && typeof text !== "string") ||
      (binary !== undefined && typeof binary !== "string")
    )
      return this.#jsonError(
        400,
        "InvalidParameterException",
        "You must provide either SecretString or SecretBinary.",
      );
    const value = typeof text === "string" ? text : new Uint8Array(Buffer.from(binary as string, "base64"));
    const stagesIn = input["VersionStages"];
    if (stagesIn !== undefined && (!Array.isArray(stagesIn) || !stagesIn.every((x) => typeof x === "string")))
      return this.#jsonError(400, "InvalidParameterException", "VersionStages must be a list of strings.");
    const token = input["ClientRequestToken"];
    if (token !== undefined && (typeof token !== "string" || !/^.{32,64}$/.test(token)))
      return this.#jsonError(
        400,
        "InvalidParameterException",
        "ClientRequestToken must be 32 to 64 characters.",
      );
    const secret = this.#lookup(region, id);
    if (secret === undefined)
      return this.#jsonError(
        400,
        "ResourceNotFoundException",
        `Secrets Manager can't find the specified secret.${this.#extra}`,
      );
    if (secret.deleted !== undefined)
      return this.#jsonError(
        400,
        "InvalidRequestException",
        `You can't perform this operation on the secret because it was marked for deletion.${this.#extra}`,
      );
    const versionId = typeof token === "string" ? token : randomUuid();
    const existing = secret.versions.find((v) => v.id === versionId);
    if (existing !== undefined) {
      if (!sameValue(existing.value, value))
        return this.#jsonError(
          400,
          "ResourceExistsException",
          `You can't modify an existing version, you can only create new versions.${this.#extra}`,
        );
    } else {
      const first = secret.versions.length === 0;
      const stages = stagesIn ?? ["AWSCURRENT"];
      this.#addVersion(
        secret,
        value,
        first && !stages.includes("AWSCURRENT") ? [...stages, "AWSCURRENT"] : stages,
        versionId,
      );
    }
    const version = secret.versions.find((v) => v.id === versionId) as Version;
    return this.#ok({
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      VersionStages: version.stages,
    });
  }

  #read(
    region: string,
    id: string,
    versionId: unknown,
    stage: unknown,
    action: string,
  ): { entry: object } | { code: string; message: string } {
    const secret = this.#lookup(region, id);
    if (secret === undefined)
      return {
        code: "ResourceNotFoundException",
        message: `Secrets Manager can't find the specified secret.${this.#extra}`,
      };
    if (secret.deleted !== undefined) {
      return {
        code: "InvalidRequestException",
        message: `You can't perform this operation on the secret because it was marked for deletion.${this.#extra}`,
      };
    }
    if (secret.denied) {
      return {
        code: "AccessDeniedException",
        message: `User: ${this.#principal()} is not authorized to perform: secretsmanager:${action} on resource: ${id} because no identity-based policy allows the secretsmanager:${action} action${this.#extra}`,
      };
    }
    let version: Version | undefined;
    if (typeof versionId === "string") {
      version = secret.versions.find((v) => v.id === versionId);
      if (version === undefined || (typeof stage === "string" && !version.stages.includes(stage))) {
        return {
          code: "ResourceNotFoundException",
          message: `Secrets Manager can't find the specified secret value for VersionId: ${versionId}${this.#extra}`,
        };
      }
    } else {
      const wanted = typeof stage === "string" ? stage : "AWSCURRENT";
      version = secret.versions.find((v) => v.stages.includes(wanted));
      if (version === undefined)
        return {
          code: "ResourceNotFoundException",
          message: `Secrets Manager can't find the specified secret value for staging label: ${wanted}${this.#extra}`,
        };
    }
    if (secret.kmsDenied)
      return {
        code: "DecryptionFailure",
        message: `Secrets Manager can't decrypt the protected secret text using the provided KMS key.${this.#extra}`,
      };
    secret.accessed = Math.floor(Date.now() / 86_400_000) * 86_400;
    const value =
      typeof version.value === "string"
        ? { SecretString: version.value }
        : { SecretBinary: Buffer.from(version.value).toString("base64") };
    return {
      entry: {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        ...value,
        VersionStages: version.stages,
        CreatedDate: version.created,
      },
    };
  }

  #lookup(region: string, id: string): Secret | undefined {
    if (id.startsWith("arn:")) {
      // A full ARN, or a partial one without the random 6-character suffix.
      return this.#secrets.find((s) => s.region === region && (s.arn === id || s.arn.slice(0, -7) === id));
    }
    return this.#find(region, id);
  }

  #find(region: string, name: string): Secret | undefined {
    return this.#secrets.find((s) => s.region === region && s.name === name);
  }

  #must(region: string, name: string): Secret {
    const secret = this.#find(region, name);
    if (secret === undefined) throw new Error(`no secret ${name} in ${region}`);
    return secret;
  }

  #principal(): string {
    return `arn:aws:sts::${ACCOUNT}:assumed-role/app/session`;
  }

  #ok(body: object): Reply {
    return awsJsonOk(body);
  }

  #jsonError(status: number, code: string, message: string): Reply {
    return awsJsonError(status, code, message, "Message");
  }

  // ---- SigV4 ----

  /** `signingName`: the service the signature must be scoped to ("secretsmanager", "ssm"). */
  #verify(
    request: RecordedRequest,
    target: string,
    signingName: string,
  ): { region: string; error?: undefined } | { error: Reply } {
    const authorization = header(request, "authorization") ?? "";
    const match =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
        authorization,
      );
    const fail = (code: string, problem: string, accessKeyId = "", region = ""): { error: Reply } => {
      this.signatures.push({
        target,
        accessKeyId,
        source: this.#credentials.get(accessKeyId)?.source ?? "unknown",
        region,
        valid: false,
        problem,
      });
      return { error: this.#jsonError(400, code, `${problem}${this.#extra}`) };
    };
    if (match === null) return fail("MissingAuthenticationTokenException", "Missing Authentication Token");
    const [accessKeyId, day, region, service, signedHeaders, signature] = match.slice(1) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const credentials = this.#credentials.get(accessKeyId);
    if (credentials === undefined)
      return fail(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        accessKeyId,
        region,
      );
    if (service !== signingName)
      return fail(
        "InvalidSignatureException",
        `Credential should be scoped to correct service: '${signingName}'.`,
        accessKeyId,
        region,
      );
    const amzDate = header(request, "x-amz-date") ?? "";
    if (!amzDate.startsWith(day) || !(Math.abs(parseAmzDate(amzDate) - Date.now()) <= 15 * 60_000)) {
      return fail("InvalidSignatureException", "Signature expired or date mismatch.", accessKeyId, region);
    }
    if (credentials.sessionToken !== undefined) {
      if (
        header(request, "x-amz-security-token") !== credentials.sessionToken ||
        !signedHeaders.split(";").includes("x-amz-security-token")
      ) {
        return fail(
          "UnrecognizedClientException",
          "The security token included in the request is invalid.",
          accessKeyId,
          region,
        );
      }
    }
    const names = signedHeaders.split(";");
    if (!names.includes("host"))
      return fail("InvalidSignatureException", "'Host' must be a signed header.", accessKeyId, region);
    const payloadHash = sha256(request.body);
    const claimed = header(request, "x-amz-content-sha256");
    if (claimed !== undefined && claimed !== payloadHash)
      return fail(
        "InvalidSignatureException",
        "The provided x-amz-content-sha256 header does not match what was computed.",
        accessKeyId,
        region,
      );
    const [path, query = ""] = request.path.split("?") as [string, string?];
    const canonicalRequest = [
      request.method,
      path,
      canonicalQuery(query),
      names.map((n) => `${n}:${(header(request, n) ?? "").trim().replace(/\s+/g, " ")}\n`).join(""),
      signedHeaders,
      payloadHash,
    ].join("\n");
    const scope = `${day}/${region}/${service}/aws4_request`;
    const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
    let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, day);
    for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
    const expected = hmac(key, stringToSign);
    if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) {
      return fail(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided.",
        accessKeyId,
        region,
      );
    }
    this.signatures.push({ target, accessKeyId, source: credentials.source, region, valid: true });
    return { region };
  }

  #issue(source: IssuedCredentials["source"], prefix: string): IssuedCredentials {
    const accessKeyId = `${prefix}${randomBytes(8).toString("hex").toUpperCase()}`;
    const credentials: IssuedCredentials = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString("base64"),
      ...(source === "static" ? {} : { sessionToken: `IQoJ${randomBytes(60).toString("base64")}` }),
      source,
    };
    this.#credentials.set(accessKeyId, credentials);
    return credentials;
  }

  // ---- STS (awsQuery) ----

  #sts(request: RecordedRequest): Reply {
    const form = new URLSearchParams(request.body);
    const xmlError = (code: string, message: string): Reply => ({
      status: 400,
      body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message + this.#extra)}</Message></Error><RequestId>${randomUuid()}</RequestId></ErrorResponse>`,
      headers: { "content-type": "text/xml" },
    });
    if (form.get("Action") !== "AssumeRoleWithWebIdentity" || form.get("Version") !== "2011-06-15")
      return xmlError("InvalidAction", "Could not find operation.");
    const expected = this.webIdentity;
    if (expected === undefined || form.get("RoleArn") !== expected.roleArn)
      return xmlError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
    if (form.get("WebIdentityToken") !== expected.token)
      return xmlError(
        "InvalidIdentityToken",
        "Couldn't retrieve verification key from your identity provider.",
      );
    const session = form.get("RoleSessionName");
    if (session === null || session === "")
      return xmlError("ValidationError", "RoleSessionName is required.");
    const c = this.#issue("sts", "ASIA");
    const body =
      `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
      `<SubjectFromWebIdentityToken>system:serviceaccount:default:app</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience>` +
      `<AssumedRoleUser><Arn>arn:aws:sts::${ACCOUNT}:assumed-role/app/${escapeXml(session)}</Arn><AssumedRoleId>AROA${randomBytes(8).toString("hex").toUpperCase()}:${escapeXml(session)}</AssumedRoleId></AssumedRoleUser>` +
      `<Credentials><AccessKeyId>${c.accessKeyId}</AccessKeyId><SecretAccessKey>${escapeXml(c.secretAccessKey)}</SecretAccessKey><SessionToken>${escapeXml(c.sessionToken ?? "")}</SessionToken><Expiration>${expiresIn(this.credentialLifetimeSec)}</Expiration></Credentials>` +
      `<Provider>arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.example</Provider></AssumeRoleWithWebIdentityResult>` +
      `<ResponseMetadata><RequestId>${randomUuid()}</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`;
    return { status: 200, body, headers: { "content-type": "text/xml" } };
  }

  // ---- container credentials (ECS / EKS Pod Identity) ----

  #container(request: RecordedRequest): Reply {
    if (this.containerToken !== undefined && header(request, "authorization") !== this.containerToken) {
      return {
        status: 403,
        body: { Code: "AccessDeniedException", Message: `Authorization token is invalid${this.#extra}` },
      };
    }
    const c = this.#issue("container", "ASIA");
    return {
      status: 200,
      body: {
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        Token: c.sessionToken,
        Expiration: expiresIn(this.credentialLifetimeSec),
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/task`,
      },
    };
  }

  // ---- IMDSv2 ----

  #imds(request: RecordedRequest): Reply {
    if (request.method === "PUT" && request.path === "/latest/api/token") {
      if (header(request, "x-aws-ec2-metadata-token-ttl-seconds") === undefined)
        return { status: 400, body: "" };
      const token = randomBytes(24).toString("base64url");
      this.#imdsTokens.add(token);
      return { status: 200, body: token, headers: { "content-type": "text/plain" } };
    }
    if (!this.#imdsTokens.has(header(request, "x-aws-ec2-metadata-token") ?? ""))
      return { status: 401, body: "" };
    const base = "/latest/meta-data/iam/security-credentials/";
    if (request.path === base)
      return { status: 200, body: "instance-role", headers: { "content-type": "text/plain" } };
    if (request.path === `${base}instance-role`) {
      const c = this.#issue("imds", "ASIA");
      return {
        status: 200,
        body: {
          Code: "Success",
          LastUpdated: new Date().toISOString(),
          Type: "AWS-HMAC",
          AccessKeyId: c.accessKeyId,
          SecretAccessKey: c.secretAccessKey,
          Token: c.sessionToken,
          Expiration: expiresIn(this.credentialLifetimeSec),
        },
      };
    }
    return { status: 404, body: "" };
  }
}

// ---- helpers ----

/**
 * Keeps the host's AWS setup out of this test worker: the SDK reads shared config files and the IMDS
 * endpoint from process.env. `work` is a dir of the test's own (its files do not exist). Returns the
 * way back.
 */
export function isolateFromHostAws(work: string): () => void {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) delete process.env[name];
  process.env["AWS_CONFIG_FILE"] = `${work}/no-config`;
  process.env["AWS_SHARED_CREDENTIALS_FILE"] = `${work}/no-credentials`;
  process.env["AWS_EC2_METADATA_DISABLED"] = "true";
  return () => {
    process.env = saved;
  };
}

export function header(request: RecordedRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(",") : value;
}

export function scopeRegion(request: RecordedRequest): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(header(request, "authorization") ?? "")?.[1];
}

/** The SecretIds a Secrets Manager request asked for. */
export function requestedIds(request: RecordedRequest): string[] {
  const body = JSON.parse(request.body) as { SecretId?: string; SecretIdList?: string[] };
  return body.SecretIdList ?? (body.SecretId === undefined ? [] : [body.SecretId]);
}

function canonicalQuery(query: string): string {
  if (query === "") return "";
  return query
    .split("&")
    .map((p) => p.split("=") as [string, string?])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v ?? ""}`)
    .join("&");
}

function sameValue(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}

function sha256(data: string): string {
  return createHash("sha256").update(data, "utf8").digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m === null) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function expiresIn(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function randomUuid(): string {
  return crypto.randomUUID();
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

// ---- the same tests against a real endpoint (LocalStack, or AWS itself) ----

/** What a test needs from wherever the secrets live: the fake above, or a real endpoint. */
export interface AwsBackend {
  readonly real: boolean;
  /** Environment that makes secretwrap sign in to this backend with static keys. */
  readonly staticEnv: Readonly<Record<string, string>>;
  readonly endpoint: string;
  putSecret(
    region: string,
    name: string,
    value: string | Uint8Array,
  ): Promise<{ arn: string; versionId: string }>;
  putVersion(
    region: string,
    name: string,
    value: string | Uint8Array,
    stages: readonly string[],
  ): Promise<string>;
}

export const REAL_AWS_ENDPOINT = process.env["SECRETWRAP_TEST_AWS_ENDPOINT"];

/** Seeds a real Secrets Manager (SECRETWRAP_TEST_AWS_ENDPOINT; keys from SECRETWRAP_TEST_AWS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY, LocalStack's "test"/"test" otherwise). */
export async function realBackend(endpoint: string): Promise<AwsBackend> {
  const sdk = await import("@aws-sdk/client-secrets-manager");
  const credentials = {
    accessKeyId: process.env["SECRETWRAP_TEST_AWS_ACCESS_KEY_ID"] ?? "test",
    secretAccessKey: process.env["SECRETWRAP_TEST_AWS_SECRET_ACCESS_KEY"] ?? "test",
  };
  const client = (region: string) => new sdk.SecretsManagerClient({ region, endpoint, credentials });
  const value = (v: string | Uint8Array) =>
    typeof v === "string" ? { SecretString: v } : { SecretBinary: v };
  return {
    real: true,
    endpoint,
    staticEnv: {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    },
    async putSecret(region, name, v) {
      const out = await client(region).send(new sdk.CreateSecretCommand({ Name: name, ...value(v) }));
      return { arn: out.ARN ?? "", versionId: out.VersionId ?? "" };
    },
    async putVersion(region, name, v, stages) {
      const out = await client(region).send(
        new sdk.PutSecretValueCommand({ SecretId: name, ...value(v), VersionStages: [...stages] }),
      );
      return out.VersionId ?? "";
    },
  };
}

export function fakeBackend(fake: AwsFake): AwsBackend {
  const keys = fake.issueStatic();
  return {
    real: false,
    endpoint: fake.url,
    staticEnv: {
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
    },
    putSecret: (region, name, v) => Promise.resolve(fake.putSecret(region, name, v)),
    putVersion: (region, name, v, stages) => Promise.resolve(fake.putVersion(region, name, v, stages)),
  };
}
