// Regions, as every AWS provider finds them: a reference's own region, else the session's default
// (the block, AWS_REGION, AWS_DEFAULT_REGION, the shared config profile: login.ts).
import { SecretwrapError } from "../../../src/provider-api.ts";

/** `region`, or CONFIG_INVALID naming `what` and where a region can be given. */
export function requireRegion(what: string, region: string | undefined, hint: string): string {
  if (region === undefined) {
    throw new SecretwrapError("CONFIG_INVALID", `${what}: no AWS region is known for this secret`, { hint });
  }
  return region;
}

/** Any SDK client made from a config: its resolved region, and destroy. */
interface RegionProbe {
  readonly config: { region(): Promise<string> };
  destroy(): void;
}

/** The region of the shared config profile, as the SDK would find it (undefined when there is none). */
export async function profileRegion(
  probeClient: (config: { profile?: string }) => RegionProbe,
  profile: string | undefined,
): Promise<string | undefined> {
  const probe = probeClient(profile === undefined ? {} : { profile });
  try {
    return await probe.config.region();
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}
