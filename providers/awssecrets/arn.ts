// A Secrets Manager ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>), parsed in
// one place for the reference grammar (descriptor.ts) and for a secret's region (region.ts).
const SECRET_ARN =
  /^arn:aws(-[a-z]+)*:secretsmanager:([a-z]{2}(-[a-z]+)+-[0-9]+):[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

export interface SecretArn {
  readonly region: string;
}

/** The ARN's parts, or undefined when `locator` is not a Secrets Manager ARN. */
export function parseSecretArn(locator: string): SecretArn | undefined {
  const match = SECRET_ARN.exec(locator);
  return match === null ? undefined : { region: match[2] ?? "" };
}
