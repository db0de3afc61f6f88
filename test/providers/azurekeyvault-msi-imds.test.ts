// Managed identity through IMDS (VMs, VM scale sets, AKS node identity), host overridden by
// AZURE_POD_IDENTITY_AUTHORITY_HOST.
import { describe } from "vitest";
import { managedIdentitySuite } from "../servers/azure-msi-suite.ts";

describe("azurekeyvault with IMDS managed identity", () => managedIdentitySuite("imds"));
