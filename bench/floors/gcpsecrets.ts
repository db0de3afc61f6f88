// The floor of scenario 3, GCP: @google-cloud/secret-manager alone, doing what `secretwrap run` does for
// the bench's GCP target and nothing else. The metadata server's token (google-auth-library's Compute
// client, GCE_METADATA_HOST from the target's environment), then one AccessSecretVersion per path, all
// in parallel, over the REST fallback to the `endpoint` of the target's config file, then exec. No
// retries, no checksum or size checks. Loaded as secretwrap loads it (the v1 client alone,
// google-gax's REST-only entry point: bench/build-sdk-floors.mjs). Any failed request rejects, so
// the process exits non-zero.
import { SecretManagerServiceClient } from "@google-cloud/secret-manager/build/src/v1/index.js";
import { Compute, GoogleAuth } from "google-auth-library";
import { configBlock, execApp, wanted } from "./app.ts";

const { entries, locators } = wanted("gcpsecrets");
const endpoint = new URL(configBlock("gcpsecrets")["endpoint"] as string);
const client = new SecretManagerServiceClient({
  fallback: true,
  protocol: endpoint.protocol === "http:" ? "http" : "https",
  apiEndpoint: endpoint.hostname,
  port: Number(endpoint.port),
  auth: new GoogleAuth({
    authClient: new Compute({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] }),
  }),
});
const documents = new Map<string, unknown>();
await Promise.all(
  locators.map(async (locator) => {
    const [project, secret] = locator.split("/");
    const [version] = await client.accessSecretVersion(
      { name: `projects/${project}/secrets/${secret}/versions/latest` },
      { retry: { retryCodes: [] }, maxRetries: 0 },
    );
    const data = version.payload?.data ?? "";
    const text =
      typeof data === "string" ? Buffer.from(data, "base64").toString() : Buffer.from(data).toString();
    documents.set(locator, JSON.parse(text));
  }),
);
execApp(entries, documents);
