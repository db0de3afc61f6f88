// Every provider of this build: one import and one entry each. The core (src/provider.ts), the
// reference grammar, the config schema, hints, help text and the build all read this list. Order
// matters only for messages: "supported: …" lists the schemes in this order, and help text shows the
// first providers' examples.
import type { ProviderDescriptor } from "../src/provider-api.ts";
import { descriptor as awssecrets } from "./awssecrets/descriptor.ts";
import { descriptor as awsssm } from "./awsssm/descriptor.ts";
import { descriptor as azurekeyvault } from "./azurekeyvault/descriptor.ts";
import { descriptor as file } from "./file/descriptor.ts";
import { descriptor as gcpsecrets } from "./gcpsecrets/descriptor.ts";
import { descriptor as vault } from "./vault/descriptor.ts";

export const DESCRIPTORS: readonly ProviderDescriptor[] = [
  vault,
  awssecrets,
  gcpsecrets,
  azurekeyvault,
  awsssm,
  file,
];
