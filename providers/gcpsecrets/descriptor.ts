// What the core knows of the gcpsecrets provider without loading it (src/provider-api.ts).
import type { ProviderDescriptor } from "../../src/provider-api.ts";
import type { GcpOptions } from "./options.ts";

const POSITIVE_INT = /^[1-9][0-9]{0,9}$/;
const PROJECT = /^([a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20})$/;
const SECRET = /^[A-Za-z0-9_-]{1,255}$/;
const LOCATION = /^[a-z]+-[a-z]+[0-9]+$/;

export const descriptor: ProviderDescriptor<GcpOptions> = {
  scheme: "gcpsecrets",
  summary: "Google Secret Manager",
  example: "ref+gcpsecrets://my-proj/db-pass?version=5",
  ownBundle: true,
  // checkVersion: the version resource's metadata (version-check.ts); needs secretmanager.versions.get.
  capabilities: { checkVersion: true },
  options: async () => (await import("./options.ts")).schema,
  load: async () => (await import("./index.ts")).provider,
  envPrefixes: ["GOOGLE_", "GCE_", "CLOUDSDK_"],
  // The gRPC stack's proxy and debug output variables.
  appOnlyVariables: ["grpc_proxy", "GRPC_TRACE", "GRPC_VERBOSITY"],
  locator: {
    params: ["version", "location"],
    check(locator, params) {
      const [project, secret, ...rest] = locator.split("/");
      if (project === undefined || secret === undefined || rest.length > 0) {
        return "a GCP locator is <project>/<secret>";
      }
      if (!PROJECT.test(project)) return "not a GCP project id or number";
      if (!SECRET.test(secret)) return "a secret id is 1-255 of A-Z a-z 0-9 _ -";
      const version = params["version"];
      if (version !== undefined && version !== "latest" && !POSITIVE_INT.test(version)) {
        return "version must be `latest` or a positive whole number";
      }
      if (params["location"] !== undefined && !LOCATION.test(params["location"])) {
        return "location is not a GCP region (e.g. europe-west1)";
      }
      return undefined;
    },
  },
};
