// AWS's "true" flags in ctx.env (the environment secretwrap started with), as the AWS SDK reads them.
export const truthy = (value: string | undefined): boolean =>
  value !== undefined && value.toLowerCase() === "true";
