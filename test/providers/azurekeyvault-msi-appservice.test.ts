// Managed identity through App Service / Container Apps / Functions (IDENTITY_ENDPOINT + IDENTITY_HEADER).
import { describe } from "vitest";
import { managedIdentitySuite } from "../servers/azure-msi-suite.ts";

describe("azurekeyvault with App Service managed identity", () => managedIdentitySuite("appService"));
