// The peer tools whose reference forms `--compat` turns on, in the order help and messages list them.
import type { PeerForms } from "../../src/provider-api.ts";
import { berglas } from "./berglas.ts";
import { secretsInit } from "./secrets-init.ts";
import { vaultEnv } from "./vault-env.ts";

export const PEER_FORMS: readonly PeerForms[] = [berglas, secretsInit, vaultEnv];
