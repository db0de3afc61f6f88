// Scenario 3, AWS: IRSA web identity (one STS call, the "login"), then 10 secrets of 5 JSON keys each
// in one region. Ideal: 1 AssumeRoleWithWebIdentity and 1 BatchGetSecretValue (up to 20 ids per batch).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AwsFake } from "../../test/servers/aws.ts";
import { declare, document, PATHS, type NetworkTarget } from "./target.ts";

const REGION = "eu-west-1";

export async function awsTarget(latencyMs: number, cwd: string): Promise<NetworkTarget> {
  const fake = await AwsFake.start({ latencyMs });
  for (let path = 0; path < PATHS; path++)
    fake.putSecret(REGION, `bench/p${path}`, JSON.stringify(document()));
  const tokenFile = join(cwd, "web-identity-token");
  const token = `eyJbench.${"x".repeat(40)}\n`;
  writeFileSync(tokenFile, token);
  fake.webIdentity = { roleArn: "arn:aws:iam::123456789012:role/bench", token };
  return {
    name: "awssecrets",
    env: {
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: fake.webIdentity.roleArn,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
      AWS_ENDPOINT_URL_STS: fake.url,
      ...declare((e) => `ref+awssecrets://bench/p${e.path}#${e.key}`),
    },
    args: [],
    cwd,
    servers: { aws: fake.server },
    classify: (_server, request) => {
      const target = request.headers["x-amz-target"];
      if (typeof target === "string") return target.replace(/^secretsmanager\./, "");
      if (request.body.includes("Action=AssumeRoleWithWebIdentity")) return "AssumeRoleWithWebIdentity";
      return `other ${request.method} ${request.path}`;
    },
    expected: { AssumeRoleWithWebIdentity: 1, BatchGetSecretValue: 1 },
    close: () => fake.close(),
  };
}
