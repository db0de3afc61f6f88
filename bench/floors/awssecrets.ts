// The floor of scenario 3, AWS: @aws-sdk/client-secrets-manager alone, doing what `secretwrap run` does
// for the bench's AWS target and nothing else. Web identity credentials (AssumeRoleWithWebIdentity,
// the SDK's fromTokenFile), then every path in one BatchGetSecretValue, then exec. Settings come from
// the target's environment, read by the SDK itself (AWS_REGION, AWS_ROLE_ARN,
// AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_STS); one attempt
// per request, no checks beyond the answer's errors. Bundled at bench time by
// bench/build-sdk-floors.mjs; any failed request rejects, so the process exits non-zero.
import { BatchGetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { fromTokenFile } from "@aws-sdk/credential-providers";
import { execApp, wanted } from "./app.ts";

const { entries, locators } = wanted("awssecrets");
const client = new SecretsManagerClient({
  maxAttempts: 1,
  credentials: fromTokenFile({ clientConfig: { maxAttempts: 1 } }),
});
// Up to 20 ids per call; the bench declares 10.
const answer = await client.send(new BatchGetSecretValueCommand({ SecretIdList: locators }));
if ((answer.Errors ?? []).length > 0)
  throw new Error(`BatchGetSecretValue: ${JSON.stringify(answer.Errors)}`);
const documents = new Map<string, unknown>(
  (answer.SecretValues ?? []).map((v) => [v.Name ?? "", JSON.parse(v.SecretString ?? "null")]),
);
execApp(entries, documents);
