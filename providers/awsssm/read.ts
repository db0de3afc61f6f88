// One parameter's value: GetParameters, 10 names per call for the references of one region that the
// core fetches together (TurnBatcher). Names missing from SSM come back in InvalidParameters inside the
// 200; a policy that denies any name of a call denies the whole call, so a denied call of several names
// (or one answered "not found" as a whole) is asked again one name at a time, and each reference gets
// its own answer.
import type { Parameter, SSMClient } from "@aws-sdk/client-ssm";
import { type Fetched, SecretwrapError } from "../../src/provider-api.ts";
import { mapAwsError } from "../kit/aws/errors.ts";
import { type BatchAnswer, TurnBatcher } from "../kit/turn-batch.ts";
import { SSM } from "./errors.ts";

export type Sdk = typeof import("@aws-sdk/client-ssm");

/** Whole-call failures that concern some one name of a call, not the call. */
const SPLIT_ON = new Set(["ACCESS_DENIED", "SECRET_NOT_FOUND"]);

/** GetParameters takes at most 10 names. */
export const BATCH_LIMIT = 10;

/**
 * Batches GetParameters for one client. `decrypt`: WithDecryption, always for values; the version
 * check asks without it (no KMS call: the Version is all it reads).
 */
export function parameterBatcher(
  client: SSMClient,
  sdk: Sdk,
  decrypt: boolean,
  endpoint: string | undefined,
): TurnBatcher<Parameter> {
  const send = async (names: readonly string[], signal: AbortSignal): Promise<BatchAnswer<Parameter>> => {
    const answer = new Map<string, Parameter | SecretwrapError>();
    let output;
    try {
      output = await client.send(
        new sdk.GetParametersCommand({ Names: [...names], WithDecryption: decrypt }),
        {
          abortSignal: signal,
        },
      );
    } catch (error) {
      const failures = names.map((name) => mapAwsError(error, name, SSM, endpoint));
      // A denial, or a "not found" (GetParameter's ParameterNotFound / ParameterVersionNotFound), for
      // the whole call is about one of its names, unknown which: asked alone, each gets its own answer
      // (an existing parameter taken as absent would pass an optional: true reference silently).
      if (names.length > 1 && failures.some((f) => SPLIT_ON.has(f.code))) {
        const alone = await Promise.all(names.map((name) => send([name], signal)));
        return new Map(alone.flatMap((one) => [...one]));
      }
      names.forEach((name, i) => answer.set(name, failures[i] as SecretwrapError));
      return answer;
    }
    for (const parameter of output.Parameters ?? []) {
      const key = `${parameter.Name ?? ""}${parameter.Selector ?? ""}`;
      // Two answers for one name: which is the value is unknowable, so neither is taken.
      answer.set(
        key,
        answer.has(key)
          ? new SecretwrapError("FETCH_FAILED", `${key}: ${SSM.name} answered this name twice`)
          : parameter,
      );
    }
    for (const name of output.InvalidParameters ?? []) {
      answer.set(
        name,
        new SecretwrapError(
          "SECRET_NOT_FOUND",
          `${name}: ${SSM.name} has no such parameter or version (InvalidParameters)`,
        ),
      );
    }
    return answer;
  };
  return new TurnBatcher(BATCH_LIMIT, send);
}

/** The name GetParameters is asked for: with a `:version` selector for a pinned version. */
export function requestedName(name: string, version: string | undefined): string {
  return version === undefined ? name : `${name}:${version}`;
}

export function toFetched(parameter: Parameter, name: string): Fetched {
  if (parameter.Value === undefined)
    throw new SecretwrapError("FETCH_FAILED", `${name}: the parameter holds no value`);
  const bytes = new TextEncoder().encode(parameter.Value);
  const version = versionOf(parameter);
  return version === undefined ? { bytes } : { bytes, version };
}

/**
 * What Fetched.version and checkVersion say: the Version, and for the latest also when it was written
 * ("2@2026-12-06T10:37:00.123Z"). A deleted parameter created again starts at version 1 again (SSM
 * keeps no history of a deleted name; Terraform does this when a parameter's type changes), so the
 * number alone would tell the watch nothing changed. A pinned version (a `:N` selector) is the number
 * alone: the pinned reference's check answers it without asking (connect.ts).
 */
function versionOf(parameter: Parameter): string | undefined {
  const { Version, Selector, LastModifiedDate } = parameter;
  if (Version === undefined) return undefined;
  if (Selector !== undefined || LastModifiedDate === undefined || Number.isNaN(LastModifiedDate.getTime()))
    return String(Version);
  return `${Version}@${LastModifiedDate.toISOString()}`;
}
