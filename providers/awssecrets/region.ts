// Which region a secret lives in: ?region, else the region in its ARN, else the default region (from
// the block, AWS_REGION, AWS_DEFAULT_REGION or the shared config profile).
import { type Ref, SecretwrapError } from "../../src/provider-api.ts";
import { parseSecretArn } from "./arn.ts";
import type { Sdk } from "./read.ts";

export function regionFor(ref: Ref, defaultRegion: string | undefined): string {
  const what = ref.locator;
  const region = ref.params["region"] ?? parseSecretArn(ref.locator)?.region ?? defaultRegion;
  if (region === undefined) {
    throw new SecretwrapError("CONFIG_INVALID", `${what}: no AWS region is known for this secret`, {
      hint: "add ?region=<region> to the reference, use the secret's ARN, set AWS_REGION, or set providers.awssecrets.region",
    });
  }
  return region;
}

/** The region of the shared config profile, as the SDK would find it (undefined when there is none). */
export async function profileRegion(sdk: Sdk, profile: string | undefined): Promise<string | undefined> {
  const probe = new sdk.SecretsManagerClient(profile === undefined ? {} : { profile });
  try {
    return await probe.config.region();
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}
