// SSM Parameter Store on the AWS fake (test/servers/aws.ts routes `X-Amz-Target: AmazonSSM.<action>`
// here after checking the request's SigV4 signature for the service "ssm"): GetParameters (1–10
// names, `name:version` selectors, missing names in InvalidParameters inside the 200),
// GetParametersByPath (one level, or Recursive, paged by MaxResults ≤ 10 and an opaque NextToken) and
// PutParameter (Overwrite makes a new version), each with WithDecryption as AWS applies it: a
// SecureString without it is an opaque ciphertext. Error bodies as AWS sends them ({"__type",
// "message"}); IAM denials fail the whole call, as AWS does when any name in it is not allowed.
import { randomBytes } from "node:crypto";
import type { Reply } from "./harness.ts";
import { awsJsonError, awsJsonOk } from "./aws-json.ts";

export type ParameterType = "String" | "StringList" | "SecureString";

/** The SSM actions a test may count (X-Amz-Target AmazonSSM.<action>). */
export type SsmAction = "GetParameters" | "GetParametersByPath" | "PutParameter";

interface ParameterVersion {
  readonly version: number;
  readonly value: string;
  readonly modified: number;
}

interface Parameter {
  readonly region: string;
  readonly name: string;
  readonly type: ParameterType;
  readonly versions: ParameterVersion[];
  /** The identity has no ssm:GetParameters / GetParametersByPath on it. */
  denied: boolean;
  /** The identity may not kms:Decrypt with its key (SecureString only matters). */
  kmsDenied: boolean;
}

/** GetParameters takes at most this many names, GetParametersByPath this MaxResults. */
const MAX_NAMES = 10;

export class SsmParameters {
  readonly #parameters: Parameter[] = [];
  readonly #account: string;
  readonly #principal: string;
  /** Appended to every error message (AwsFakeOptions.errorMessageExtra). */
  readonly #extra: string;
  /** Actions the identity's policy does not allow at all: AccessDeniedException. */
  readonly deniedActions = new Set<SsmAction>();
  /** GetParametersByPath answers this many empty pages (with a NextToken) before each real one. */
  emptyPagesBefore = 0;

  constructor(account: string, principal: string, extra: string) {
    this.#account = account;
    this.#principal = principal;
    this.#extra = extra;
  }

  /** Creates the parameter, or (Overwrite) adds a version; returns the new version number. */
  put(region: string, name: string, value: string, type: ParameterType = "String"): number {
    if (!name.startsWith("/")) throw new Error(`the fake holds hierarchical names only: ${name}`);
    let parameter = this.#find(region, name);
    if (parameter === undefined) {
      parameter = { region, name, type, versions: [], denied: false, kmsDenied: false };
      this.#parameters.push(parameter);
    }
    const version = (parameter.versions.at(-1)?.version ?? 0) + 1;
    parameter.versions.push({ version, value, modified: Date.now() / 1000 });
    return version;
  }

  /**
   * DeleteParameter: the parameter and its whole history go; one put again later starts at version 1
   * (SSM keeps nothing of a deleted name, unlike Secrets Manager's recovery window).
   */
  delete(region: string, name: string): void {
    this.#parameters.splice(this.#parameters.indexOf(this.#must(region, name)), 1);
  }

  deny(region: string, name: string): void {
    this.#must(region, name).denied = true;
  }

  denyKms(region: string, name: string): void {
    this.#must(region, name).kmsDenied = true;
  }

  handle(region: string, action: string, input: Record<string, unknown>): Reply {
    if ((this.deniedActions as Set<string>).has(action)) return this.#denied(action, "*");
    if (action === "GetParameters") return this.#getParameters(region, input);
    if (action === "GetParametersByPath") return this.#getParametersByPath(region, input);
    if (action === "PutParameter") return this.#putParameter(region, input);
    return awsJsonError(400, "UnknownOperationException", "");
  }

  #getParameters(region: string, input: Record<string, unknown>): Reply {
    const names = input["Names"];
    if (!Array.isArray(names) || !names.every((n) => typeof n === "string"))
      return this.#validation("Names is required.");
    if (names.length < 1 || names.length > MAX_NAMES)
      return this.#validation(
        `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to ${MAX_NAMES}`,
      );
    const decrypt = input["WithDecryption"] === true;
    const Parameters: object[] = [];
    const InvalidParameters: string[] = [];
    for (const requested of names) {
      const [name, selector] = splitSelector(requested);
      const parameter = this.#find(region, name);
      if (parameter?.denied === true) return this.#denied("GetParameters", name);
      if (parameter === undefined) {
        InvalidParameters.push(requested);
        continue;
      }
      const version =
        selector === undefined
          ? parameter.versions.at(-1)
          : parameter.versions.find((v) => `:${v.version}` === selector);
      if (version === undefined) {
        InvalidParameters.push(requested);
        continue;
      }
      if (decrypt && parameter.type === "SecureString" && parameter.kmsDenied) return this.#kmsDenied(name);
      Parameters.push({
        ...this.#entry(parameter, version, decrypt),
        ...(selector === undefined ? {} : { Selector: selector }),
      });
    }
    return awsJsonOk({ Parameters, InvalidParameters });
  }

  #getParametersByPath(region: string, input: Record<string, unknown>): Reply {
    const path = input["Path"];
    if (typeof path !== "string" || !path.startsWith("/"))
      return this.#validation("Parameter path: must begin with a forward slash (/).");
    const max = input["MaxResults"] ?? MAX_NAMES;
    if (typeof max !== "number" || max < 1 || max > MAX_NAMES)
      return this.#validation(
        `1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${MAX_NAMES}`,
      );
    const recursive = input["Recursive"] === true;
    const decrypt = input["WithDecryption"] === true;
    const base = path === "/" ? "/" : `${path.replace(/\/$/, "")}/`;
    const under = this.#parameters
      .filter((p) => p.region === region && p.name.startsWith(base))
      .filter((p) => recursive || !p.name.slice(base.length).includes("/"))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // The token says where the next page starts and how many empty pages are still owed before it.
    const token = input["NextToken"];
    let offset = 0;
    let owed = this.emptyPagesBefore;
    if (token !== undefined) {
      const decoded = typeof token === "string" ? decodeToken(token) : undefined;
      if (decoded === undefined)
        return awsJsonError(400, "InvalidNextToken", `The token is invalid.${this.#extra}`);
      [offset, owed] = decoded;
    }
    if (owed > 0) return awsJsonOk({ Parameters: [], NextToken: encodeToken(offset, owed - 1) });
    const page = under.slice(offset, offset + max);
    for (const parameter of page) {
      if (parameter.denied) return this.#denied("GetParametersByPath", path);
      if (decrypt && parameter.type === "SecureString" && parameter.kmsDenied)
        return this.#kmsDenied(parameter.name);
    }
    const next = offset + page.length;
    return awsJsonOk({
      Parameters: page.map((p) => this.#entry(p, p.versions.at(-1) as ParameterVersion, decrypt)),
      ...(next < under.length ? { NextToken: encodeToken(next, this.emptyPagesBefore) } : {}),
    });
  }

  #putParameter(region: string, input: Record<string, unknown>): Reply {
    const name = input["Name"];
    const value = input["Value"];
    if (typeof name !== "string" || typeof value !== "string" || !name.startsWith("/"))
      return this.#validation("Name and Value are required.");
    const existing = this.#find(region, name);
    if (existing !== undefined && input["Overwrite"] !== true)
      return awsJsonError(
        400,
        "ParameterAlreadyExists",
        `The parameter already exists. To overwrite this value, set the overwrite option in the request to true.${this.#extra}`,
      );
    const type = (input["Type"] ?? existing?.type ?? "String") as ParameterType;
    return awsJsonOk({ Version: this.put(region, name, value, type), Tier: "Standard" });
  }

  #entry(parameter: Parameter, version: ParameterVersion, decrypt: boolean): object {
    const value =
      parameter.type === "SecureString" && !decrypt
        ? // What AWS returns without decryption: the KMS ciphertext, base64 (opaque to the caller).
          `AQICAH${Buffer.from(`${parameter.name}:${version.version}`).toString("base64")}`
        : version.value;
    return {
      Name: parameter.name,
      Type: parameter.type,
      Value: value,
      Version: version.version,
      LastModifiedDate: version.modified,
      ARN: `arn:aws:ssm:${parameter.region}:${this.#account}:parameter${parameter.name}`,
      DataType: "text",
    };
  }

  #denied(action: string, resource: string): Reply {
    return awsJsonError(
      400,
      "AccessDeniedException",
      `User: ${this.#principal} is not authorized to perform: ssm:${action} on resource: arn:aws:ssm:*:${this.#account}:parameter${resource} because no identity-based policy allows the ssm:${action} action${this.#extra}`,
      "Message",
    );
  }

  #kmsDenied(name: string): Reply {
    return awsJsonError(
      400,
      "AccessDeniedException",
      `User: ${this.#principal} is not authorized to perform: kms:Decrypt on resource for parameter ${name} because no identity-based policy allows the kms:Decrypt action (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)${this.#extra}`,
      "Message",
    );
  }

  #validation(message: string): Reply {
    return awsJsonError(400, "ValidationException", `${message}${this.#extra}`);
  }

  #find(region: string, name: string): Parameter | undefined {
    return this.#parameters.find((p) => p.region === region && p.name === name);
  }

  #must(region: string, name: string): Parameter {
    const parameter = this.#find(region, name);
    if (parameter === undefined) throw new Error(`no parameter ${name} in ${region}`);
    return parameter;
  }
}

/** "/a/b:3" → ["/a/b", ":3"]; a name without a selector → [name, undefined]. */
function splitSelector(requested: string): [string, string | undefined] {
  const colon = requested.lastIndexOf(":");
  return colon === -1 ? [requested, undefined] : [requested.slice(0, colon), requested.slice(colon)];
}

function encodeToken(offset: number, owed: number): string {
  return Buffer.from(JSON.stringify([offset, owed, randomBytes(6).toString("hex")])).toString("base64");
}

function decodeToken(token: string): [number, number] | undefined {
  try {
    const [offset, owed] = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as unknown[];
    return typeof offset === "number" && typeof owed === "number" ? [offset, owed] : undefined;
  } catch {
    return undefined;
  }
}

/** The SSM parameter names a GetParameters request asked for (Path for GetParametersByPath). */
export function requestedNames(body: string): string[] {
  const input = JSON.parse(body) as { Names?: string[]; Path?: string };
  return input.Names ?? (input.Path === undefined ? [] : [input.Path]);
}
