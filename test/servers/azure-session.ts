// Provider-level test plumbing: connect the real provider to the fake the way src/resolve.ts does
// (validated options, a context that records what gets masked), and fetch directly or through the
// real retry layer with a short backoff.
import { expect } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import { SecretwrapError } from "../../src/errors.ts";
import type { Session } from "../../src/provider-api.ts";
import { withRetry, type RetryPolicy } from "../../src/retry.ts";
import { validateOptions } from "../../providers/azurekeyvault/options.ts";
import { providerContext } from "../helpers/context.ts";
import { providerUnderTest } from "../helpers/provider-under-test.ts";
import type { AzureSetup } from "./azure-client.ts";

// The source, or the built bundle with SECRETWRAP_TEST_PROVIDERS_FROM (scripts/test.mjs runs both).
const provider = await providerUnderTest("azurekeyvault");

// Managed identity settings are read by msal-node from the process environment (see the provider);
// set them for the test and take them away after.
export const MSI_VARIABLES = ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_POD_IDENTITY_AUTHORITY_HOST"];
/** Call after each managed-identity test. */
export function clearManagedIdentityEnv(): void {
  for (const name of MSI_VARIABLES) delete process.env[name];
}

export interface Connected {
  readonly session: Session;
  readonly masked: string[];
  readonly logs: string[];
  fetch(raw: string): Promise<{ text: string; version: string | undefined }>;
  /** Through the real retry layer, with a short backoff. */
  fetchWithRetry(raw: string, deadlineMs?: number): Promise<{ text: string; version: string | undefined }>;
}

const FAST: RetryPolicy = { attemptTimeoutMs: 3_000, baseDelayMs: 20, maxDelayMs: 200, random: () => 0.5 };

export async function connect(
  setup: AzureSetup,
  env: Record<string, string> = setup.env,
): Promise<Connected> {
  for (const name of MSI_VARIABLES) if (env[name] !== undefined) process.env[name] = env[name];
  expect(validateOptions(setup.options)).toEqual([]);
  const { ctx, masked, logs } = providerContext(env, FAST.attemptTimeoutMs);
  const session = await provider.connect(setup.options, ctx, AbortSignal.timeout(5_000));
  const decode = (f: { bytes: Uint8Array; version?: string }) => ({
    text: Buffer.from(f.bytes).toString("utf8"),
    version: f.version,
  });
  return {
    session,
    masked,
    logs,
    fetch: async (raw) =>
      decode(await session.fetch(parseRef(raw), AbortSignal.timeout(FAST.attemptTimeoutMs))),
    fetchWithRetry: async (raw, deadlineMs = 8_000) => {
      const signal = AbortSignal.timeout(deadlineMs);
      const deadline = { signal, deadlineAt: performance.now() + deadlineMs };
      return decode(await withRetry(raw, (s) => session.fetch(parseRef(raw), s), deadline, FAST));
    },
  };
}

export async function failure(promise: Promise<unknown>): Promise<SecretwrapError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretwrapError);
  return error as SecretwrapError;
}

/** Nothing credential-shaped or secret in a message, its hint or its causes' messages. */
export function expectClean(error: SecretwrapError, canaries: readonly string[]): void {
  const texts = [error.message, error.hint];
  for (let c: unknown = error.cause; c instanceof Error; c = c.cause)
    if (c instanceof SecretwrapError) texts.push(c.message);
  for (const text of texts) for (const canary of canaries) expect(text).not.toContain(canary);
}
