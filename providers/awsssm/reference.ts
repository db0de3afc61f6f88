// What an awsssm reference reads, as vals reads it (helmfile/vals pkg/providers/ssm, README "AWS SSM
// Parameter Store"): the locator is the parameter's path without its leading "/" (one is added; a
// leading "/" is accepted too). Without a #field, the parameter's value. With a #field, vals' prefix
// form: every parameter under the path (GetParametersByPath; one level, or all with ?recursive=true)
// as a document whose keys are the rest of their names, from which the field is taken; with
// ?mode=singleparam, the parameter's own value instead, the field taken from it as JSON. Pure.

const SEGMENT = /^[A-Za-z0-9_.-]+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]+$/;
const VERSION = /^[1-9][0-9]{0,17}$/;
/** SSM's limits: a name of at most 2048 characters, at most 15 levels. */
const MAX_NAME = 2048;
const MAX_LEVELS = 15;

export const PARAMS = ["region", "version", "mode", "recursive"] as const;

type Params = Readonly<Record<string, string>>;

/** The parameter's full name ("/myapp/db/password"). */
export function parameterName(locator: string): string {
  return locator.startsWith("/") ? locator : `/${locator}`;
}

/** Whether the reference reads every parameter under its path (vals' prefix form). */
export function readsPrefix(params: Params, field: string | undefined): boolean {
  return field !== undefined && params["mode"] !== "singleparam";
}

/** Why the reference is not valid, or undefined. */
export function checkReference(
  locator: string,
  params: Params,
  field: string | undefined,
): string | undefined {
  const name = parameterName(locator);
  const segments = name.slice(1).split("/");
  if (name.length > MAX_NAME) return `a parameter name is at most ${MAX_NAME} characters`;
  if (name.endsWith("/")) return "a parameter path does not end with /";
  if (!segments.every((s) => SEGMENT.test(s)))
    return "a parameter path is names of A-Z a-z 0-9 _ . - separated by single /";
  if (segments.length > MAX_LEVELS) return `a parameter path has at most ${MAX_LEVELS} levels`;
  const { region, version, mode, recursive } = params;
  if (region !== undefined && !REGION.test(region)) return "region is not an AWS region";
  if (version !== undefined && !VERSION.test(version))
    return "version is a parameter version number (1, 2, …)";
  if (mode !== undefined && mode !== "singleparam") return 'mode is "singleparam" or absent';
  if (recursive !== undefined && recursive !== "true" && recursive !== "false")
    return "recursive is true or false";
  if (readsPrefix(params, field)) {
    if (version !== undefined)
      return "version reads one parameter: with a #field and without ?mode=singleparam the reference reads every parameter under the path";
  } else if (recursive !== undefined) {
    return "recursive applies to the prefix form only (a #field without ?mode=singleparam)";
  }
  return undefined;
}
