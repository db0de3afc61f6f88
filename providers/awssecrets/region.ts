// Which region a secret lives in: ?region, else the region in its ARN, else the default region (from
// the block, AWS_REGION, AWS_DEFAULT_REGION or the shared config profile).
import type { Ref } from "../../src/provider-api.ts";
import { requireRegion } from "../kit/aws/region.ts";
import { parseSecretArn } from "./arn.ts";

export function regionFor(ref: Ref, defaultRegion: string | undefined): string {
  return requireRegion(
    ref.locator,
    ref.params["region"] ?? parseSecretArn(ref.locator)?.region ?? defaultRegion,
    "add ?region=<region> to the reference, use the secret's ARN, set AWS_REGION, or set providers.awssecrets.region",
  );
}
