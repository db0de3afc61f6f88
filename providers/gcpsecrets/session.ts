// A logged-in Secret Manager: one generated client per host, reads that check size and checksum, the
// version check of `run --watch` (version-check.ts), and closing the clients and the agents.
//
// Transport: the REST fallback (HTTP/1.1 + JSON), not gRPC. Its first connection was as fast or faster
// (see docs/providers/gcpsecrets.md), and the bundle then loads google-gax's REST-only entry point
// without grpc-js (scripts/esbuild/sdk-patches/google-gax-rest-only.mjs); REST also carries a bearer
// token to a loopback http:// endpoint (grpc-js refuses call credentials on insecure channels), takes
// an extra CA per client through a plain https.Agent, and gax 5 never retries REST calls, so the one
// retry layer (src/retry.ts) decides. Retries are also switched off per call for newer gax versions.
import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import type { GoogleAuth } from "google-gax";
import {
  type Fetched,
  type ProviderContext,
  type Ref,
  SecretwrapError,
  type Session,
} from "../../src/provider-api.ts";
import { ClientCache } from "../kit/client-cache.ts";
import { crc32c } from "./crc32c.ts";
import { mapFailure } from "./errors.ts";
import { NAME } from "./options.ts";
import { defaultHost, targetOf, versionOf } from "./target.ts";
import { singleAttempt, type Transport } from "./transport.ts";
import { VersionCheck } from "./version-check.ts";

/** The v1 API alone: the package's index also loads v1beta2 and its static protos (~570 KB of code
 * that the REST client, which reads its JSON protos, never uses). */
export type Sdk = typeof import("@google-cloud/secret-manager/build/src/v1/index.js");

interface AccessResponse {
  readonly name?: string | null;
  readonly payload?: {
    readonly data?: Uint8Array | string | null;
    readonly dataCrc32c?: string | number | { toString(): string } | null;
  } | null;
}

export class GcpSession implements Session {
  readonly consumedEnv: readonly string[] = [];
  readonly #clients = new ClientCache((host) => this.#create(host));
  readonly #sdk: Sdk;
  readonly #auth: GoogleAuth;
  readonly #transport: Transport;
  readonly #ctx: ProviderContext;
  readonly #versions: VersionCheck;
  /** Puts back the process.env values connect set for gcp-metadata (providers/kit/process-env.ts). */
  readonly #restoreEnv: () => void;

  constructor(
    sdk: Sdk,
    auth: GoogleAuth,
    transport: Transport,
    ctx: ProviderContext,
    restoreEnv: () => void,
  ) {
    this.#restoreEnv = restoreEnv;
    this.#sdk = sdk;
    this.#auth = auth;
    this.#transport = transport;
    this.#ctx = ctx;
    this.#versions = new VersionCheck((location) => this.client(location), transport, ctx);
  }

  client(location: string | undefined): SecretManagerServiceClient {
    return this.#clients.get(this.#transport.host ?? defaultHost(location));
  }

  #create(host: string): SecretManagerServiceClient {
    return new this.#sdk.SecretManagerServiceClient({
      fallback: true,
      protocol: this.#transport.protocol,
      apiEndpoint: host,
      ...(this.#transport.port === undefined ? {} : { port: this.#transport.port }),
      auth: this.#auth,
    });
  }

  async fetch(ref: Ref, signal: AbortSignal): Promise<Fetched> {
    const { name, location } = targetOf(ref);
    const client = this.client(location);
    let response: AccessResponse;
    try {
      [response] = await this.#transport.attemptSignal.run(signal, () =>
        client.accessSecretVersion({ name }, singleAttempt(this.#ctx.attemptTimeoutMs)),
      );
    } catch (error) {
      throw mapFailure(error, name, "fetch");
    }
    // A reply without a payload is not an empty secret (proto3 JSON drops only empty bytes, inside
    // the payload): fail closed, as AWS does for a version without a value.
    if (response.payload === undefined || response.payload === null) {
      throw new SecretwrapError("FETCH_FAILED", `${name}: the reply holds no payload`, {
        subject: { provider: NAME },
      });
    }
    const data = response.payload.data;
    const bytes = typeof data === "string" ? Buffer.from(data, "base64") : (data ?? new Uint8Array());
    const expected = response.payload?.dataCrc32c;
    // Versions written without a checksum carry none; a checksum that is there must match.
    if (expected !== undefined && expected !== null && String(expected) !== String(crc32c(bytes))) {
      throw new SecretwrapError("FETCH_FAILED", `${name}: the payload failed its CRC32C check`, {
        subject: { provider: NAME },
        transient: true,
        hint: "the value was corrupted in transit; it is fetched again",
      });
    }
    const served = versionOf(response.name);
    return served === undefined ? { bytes } : { bytes, version: served };
  }

  checkVersion(ref: Ref, signal: AbortSignal): Promise<string | undefined> {
    return this.#versions.check(ref, signal);
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.all().map((c) => c.close()));
    this.#transport.agent.destroy();
    this.#transport.plainAgent.destroy();
    this.#restoreEnv();
  }
}
