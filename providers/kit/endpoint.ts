// Where credential-bearing requests may go. A config or env var that points a provider at plain HTTP
// on another host would send tokens in clear text to whoever answers there.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { SecretwrapError } from "./errors.ts";
import { notARegularFile } from "./regular-file.ts";

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1";
  return false;
}

/** Parses a provider endpoint; https always, http only to loopback or with allowHttp. */
export function checkEndpoint(raw: string, provider: string, allowHttp = false): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SecretwrapError("CONFIG_INVALID", `${provider}: endpoint "${raw}" is not a URL`, {
      subject: { provider },
    });
  }
  if (url.username !== "" || url.password !== "") {
    throw new SecretwrapError("CONFIG_INVALID", `${provider}: endpoint must not contain credentials`, {
      subject: { provider },
    });
  }
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && (isLoopbackHost(url.hostname) || allowHttp)) return url;
  throw new SecretwrapError(
    "CONFIG_INVALID",
    `${provider}: refusing ${url.protocol}//${url.host}: credentials would travel unencrypted`,
    {
      subject: { provider },
      hint: `use https://, or set \`allowHttp: true\` in the providers.${provider} block if this network is trusted`,
    },
  );
}

/** Reads an extra CA bundle named by config or an ecosystem variable. */
export function readCaFile(path: string, provider: string): string {
  // A FIFO would block the open: only a regular file is read (src/regular-file.ts).
  const kind = notARegularFile(path);
  if (kind !== undefined) {
    throw new SecretwrapError("CONFIG_INVALID", `${provider}: CA file ${path} ${kind}`, {
      subject: { provider },
      hint: "point it at a regular file (not a directory, FIFO, pipe or device)",
    });
  }
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (error) {
    throw new SecretwrapError(
      "CONFIG_INVALID",
      `${provider}: cannot read CA file ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      {
        subject: { provider },
      },
    );
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new SecretwrapError("CONFIG_INVALID", `${provider}: CA file ${path} holds no PEM certificate`, {
      subject: { provider },
    });
  }
  return pem;
}

/**
 * TLS settings that trust the public roots plus one extra CA. An explicit `ca` list replaces Node's
 * defaults (so the roots are kept), and Node would rebuild a context from ~150 roots for every new
 * connection (~5 ms each): one SecureContext per run is built here instead.
 */
export function trustingAlso(caPem: string): { secureContext: SecureContext } {
  return { secureContext: createSecureContext({ ca: [...rootCertificates, caPem] }) };
}
