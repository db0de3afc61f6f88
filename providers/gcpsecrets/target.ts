// Where a request goes: the resource name AccessSecretVersion takes, and the host that serves it.
import type { Ref } from "../../src/provider-api.ts";

export const GLOBAL_HOST = "secretmanager.googleapis.com";

export interface Target {
  readonly name: string;
  readonly location: string | undefined;
}

/** The resource name AccessSecretVersion takes, from a reference already checked by src/config/ref.ts. */
export function targetOf(ref: Ref): Target {
  const [project, secret] = ref.locator.split("/") as [string, string];
  const version = ref.params["version"] ?? "latest";
  const location = ref.params["location"];
  const parent = location === undefined ? `projects/${project}` : `projects/${project}/locations/${location}`;
  return { name: `${parent}/secrets/${secret}/versions/${version}`, location };
}

/** Regional secrets live only on their region's endpoint (Google's regional samples). */
export function defaultHost(location: string | undefined): string {
  return location === undefined ? GLOBAL_HOST : `secretmanager.${location}.rep.googleapis.com`;
}
