// An extra CA a provider trusts besides the public roots (caFile, or VAULT_CACERT / AWS_CA_BUNDLE):
// read once per session, at connect, and handed to its agents or its SDK's TLS options.
import { readFileSync } from "node:fs";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { SecretwrapError } from "../../src/provider-api.ts";
import { refuseIfNotRegularFile } from "./credential-file.ts";

/** TLS options that trust the public roots plus the extra CA. */
export interface ExtraCa {
  readonly secureContext: SecureContext;
}

/**
 * The CA file at `path` as TLS options, or undefined without a path. An explicit `ca` list replaces
 * Node's defaults (so the roots are kept), and Node would rebuild a context from ~150 roots for every
 * new connection (~5 ms each): one SecureContext per session is built here instead.
 */
export function trustExtraCa(path: string | undefined, provider: string): ExtraCa | undefined {
  if (path === undefined) return undefined;
  return { secureContext: createSecureContext({ ca: [...rootCertificates, readCaFile(path, provider)] }) };
}

function readCaFile(path: string, provider: string): string {
  refuseIfNotRegularFile(path, provider, "CA file");
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (error) {
    throw new SecretwrapError(
      "CONFIG_INVALID",
      `${provider}: cannot read CA file ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      { subject: { provider } },
    );
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new SecretwrapError("CONFIG_INVALID", `${provider}: CA file ${path} holds no PEM certificate`, {
      subject: { provider },
    });
  }
  return pem;
}
