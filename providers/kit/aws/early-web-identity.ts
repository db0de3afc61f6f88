// The STS AssumeRoleWithWebIdentity exchange (EKS IRSA) sent before the AWS SDK loads (issue #17): it is
// one unsigned POST, which leaves while @aws-sdk/client-secrets-manager and the credential providers
// load. Only for the set-up the SDK's chain would answer with web identity (no profile, no static keys,
// the token file and role ARN set) and an STS endpoint known without the SDK: the configured one
// (stsEndpoint, AWS_ENDPOINT_URL_STS), or the regional https://sts.<region>.amazonaws.com when the
// region is given and nothing could change that choice (no FIPS or dual-stack switch, no shared config
// file, no AWS_STS_REGIONAL_ENDPOINTS). Anything else sends nothing early.
//
// Its answer: temporary credentials, used as the first ones (connect.ts's refresh asks the SDK's own
// provider for the next); an error answer, shaped as the SDK's error (the name it gives the XML Code,
// the message, the status and fault: all that mapCredentialError reads), so the same message and exit
// code; a failure below HTTP as Node's error, the same way. Only a 200 without credentials is dropped
// and the SDK asks again, as it does without this: the outcome is today's, at the cost of that one
// request more. Every key received is masked.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { sendEarly } from "../early-request.ts";
import { isSet, nonEmpty, type Env } from "../env-values.ts";
import type { AwsCredentialIdentity } from "./credentials.ts";
import { endpointFor, type HandlerOptions } from "./endpoints.ts";
import type { AwsOptions } from "./options.ts";

/** STS answers are a few KiB. */
const MAX_ANSWER_BYTES = 256 * 1024;
/** Regions of the standard partition, whose STS host is sts.<region>.amazonaws.com. */
const STANDARD_REGION = /^(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d$/;

/**
 * The SDK's names for STS's modeled AssumeRoleWithWebIdentity errors, by the code in the answer (the
 * awsQueryError table of its STS client); any other code is the error's name as it is.
 */
const MODELED: Readonly<Record<string, string>> = {
  IDPCommunicationError: "IDPCommunicationErrorException",
  IDPRejectedClaim: "IDPRejectedClaimException",
  InvalidIdentityToken: "InvalidIdentityTokenException",
  MalformedPolicyDocument: "MalformedPolicyDocumentException",
  PackedPolicyTooLarge: "PackedPolicyTooLargeException",
};

/** An STS error answer, shaped as the SDK's ServiceException that mapCredentialError reads. */
class StsRefused extends Error {
  readonly $fault: "client" | "server";
  readonly $metadata: { readonly httpStatusCode: number };
  readonly $response: { readonly headers: Record<string, string | undefined> };
  constructor(code: string, message: string, status: number, headers: Record<string, string | undefined>) {
    super(message);
    this.$fault = status >= 500 ? "server" : "client";
    this.name = Object.hasOwn(MODELED, code) ? (MODELED[code] as string) : code;
    this.$metadata = { httpStatusCode: status };
    this.$response = { headers };
  }
}

/** The early answer: credentials; a failure to throw; or undefined, when the SDK is to ask itself. */
type EarlyAnswer = AwsCredentialIdentity | Error | undefined;

/** Where the SDK would send AssumeRoleWithWebIdentity, when that is known without it. */
export function earlyStsUrl(
  provider: string,
  options: AwsOptions,
  env: Env,
  region: string | undefined,
): URL | undefined {
  const configured = endpointFor(
    provider,
    options.stsEndpoint,
    env,
    "AWS_ENDPOINT_URL_STS",
    options.allowHttp === true,
  );
  if (configured !== undefined) return new URL(configured.endsWith("/") ? configured : `${configured}/`);
  if (region === undefined || !STANDARD_REGION.test(region)) return undefined;
  const switches = ["AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_STS_REGIONAL_ENDPOINTS"];
  if (switches.some((name) => isSet(env[name]))) return undefined;
  const home = nonEmpty(env["HOME"]) ?? homedir();
  if (existsSync(nonEmpty(env["AWS_CONFIG_FILE"]) ?? join(home, ".aws", "config"))) return undefined;
  return new URL(`https://sts.${region}.amazonaws.com/`);
}

/** Sends the exchange now when the set-up is web identity and its endpoint is known; else undefined. */
export function startEarlyWebIdentity(
  provider: string,
  options: AwsOptions,
  env: Env,
  region: string | undefined,
  handler: HandlerOptions,
  mask: (value: string) => void,
  signal: AbortSignal,
): { readonly answer: Promise<EarlyAnswer>; readonly sent: Promise<void> } | undefined {
  const profile = options.profile ?? env["AWS_PROFILE"];
  const staticKeys = isSet(env["AWS_ACCESS_KEY_ID"]) && isSet(env["AWS_SECRET_ACCESS_KEY"]);
  const tokenFile = env["AWS_WEB_IDENTITY_TOKEN_FILE"];
  const roleArn = env["AWS_ROLE_ARN"];
  if (profile !== undefined || staticKeys || !isSet(tokenFile) || !isSet(roleArn)) return undefined;
  const url = earlyStsUrl(provider, options, env, region);
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) return undefined;
  let token: string;
  try {
    token = readFileSync(tokenFile, "utf8");
  } catch {
    return undefined; // the SDK's own read fails the login with today's message
  }
  const sessionName = env["AWS_ROLE_SESSION_NAME"];
  const body = new URLSearchParams({
    Action: "AssumeRoleWithWebIdentity",
    Version: "2011-06-15",
    RoleArn: roleArn,
    RoleSessionName: isSet(sessionName) ? sessionName : `aws-sdk-js-session-${Date.now()}`,
    WebIdentityToken: token,
  }).toString();
  const { answer, sent } = sendEarly({
    method: "POST",
    url,
    headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" },
    body,
    // The SDK's clients share the handler's HTTPS agent; a plain-http endpoint (allowed for loopback or
    // with allowHttp) gets a connection of its own, as the SDK's own http agent would give it.
    agent: url.protocol === "https:" ? handler.httpsAgent : false,
    signal,
    maxBytes: MAX_ANSWER_BYTES,
  });
  const read = answer.then(
    (response): EarlyAnswer => {
      const headers = Object.fromEntries(
        Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]),
      );
      if (response.status !== 200) {
        // As the SDK names an error answer: its XML Code, or "Unknown" for a body without one.
        const code = xmlText(response.data, "Code") ?? "Unknown";
        const message = xmlText(response.data, "Message") ?? "Unknown";
        return new StsRefused(code, message, response.status, headers);
      }
      return credentialsOf(response.data, mask);
    },
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  return { answer: read, sent };
}

/**
 * The answer's keys (connect.ts masks them), or undefined when one is missing or the expiry is not a
 * date: what was there is masked here, since nothing else will see it. Keys close to their expiry are
 * kept: refresh.ts then asks the SDK for new ones at the first use, as after the SDK's own exchange.
 */
function credentialsOf(xml: string, mask: (value: string) => void): AwsCredentialIdentity | undefined {
  const accessKeyId = xmlText(xml, "AccessKeyId");
  const secretAccessKey = xmlText(xml, "SecretAccessKey");
  const sessionToken = xmlText(xml, "SessionToken");
  const expiration = new Date(xmlText(xml, "Expiration") ?? "");
  if (
    accessKeyId === undefined ||
    secretAccessKey === undefined ||
    sessionToken === undefined ||
    Number.isNaN(expiration.getTime())
  ) {
    for (const value of [accessKeyId, secretAccessKey, sessionToken]) if (value !== undefined) mask(value);
    return undefined;
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiration };
}

/** The text of the first <tag>, XML entities decoded; undefined when absent or empty. */
function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  const raw = match?.[1];
  if (raw === undefined || raw === "") return undefined;
  return raw.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, entity: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
    if (named[entity] !== undefined) return named[entity];
    return String.fromCodePoint(
      entity.startsWith("#x") ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)),
    );
  });
}
