// Where a request goes: the resource name AccessSecretVersion takes, and the host that serves it.
import type { Ref } from "../../src/provider-api.ts";

export const GLOBAL_HOST = "secretmanager.googleapis.com";

export interface Target {
  /** The version's resource name (`.../versions/<number or latest>`). */
  readonly name: string;
  readonly location: string | undefined;
  /** The secret's resource name, without the version. */
  readonly secret: string;
}

/** The resource name AccessSecretVersion takes, from a reference already checked by src/config/ref.ts. */
export function targetOf(ref: Ref): Target {
  const [project, secret] = ref.locator.split("/") as [string, string];
  const version = ref.params["version"] ?? "latest";
  const location = ref.params["location"];
  const parent = location === undefined ? `projects/${project}` : `projects/${project}/locations/${location}`;
  return {
    name: `${parent}/secrets/${secret}/versions/${version}`,
    location,
    secret: `${parent}/secrets/${secret}`,
  };
}

/**
 * The version a version resource name ends with: what Fetched.version holds and checkVersion answers.
 * Both take it from the name the service answered with, which resolves `latest` to a number (the
 * project in it may be a number where the request had an id, so only the last segment is compared).
 */
export function versionOf(name: string | null | undefined): string | undefined {
  const version = name?.split("/").pop();
  return version === undefined || version === "" ? undefined : version;
}

/** Regional secrets live only on their region's endpoint (Google's regional samples). */
export function defaultHost(location: string | undefined): string {
  return location === undefined ? GLOBAL_HOST : `secretmanager.${location}.rep.googleapis.com`;
}
