// Reading a credential (token, role_id, secret_id, JWT) from its source. Files are read at every login
// attempt, never cached, so a rotated token file (Kubernetes projected service-account tokens, CI
// OIDC tokens) is picked up by the next attempt.
import { readFileSync } from "node:fs";
import type { ProviderContext } from "../../src/provider-api.ts";
import { refuseIfNotRegularFile } from "../kit/credential-file.ts";
import { configError, type Source } from "./settings.ts";

export function readSource(source: Source, what: string, ctx: ProviderContext): string {
  let value: string;
  if (source.kind === "value") {
    value = source.value;
  } else {
    refuseIfNotRegularFile(source.path, "vault", `the ${what} file`);
    try {
      value = readFileSync(source.path, "utf8").trim();
    } catch (error) {
      throw configError(
        `cannot read the ${what} file ${source.path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
    if (value === "") throw configError(`the ${what} file ${source.path} is empty`);
  }
  ctx.addSecret(value);
  return value;
}
