// The only module of src/ that a provider may import (eslint.config.js enforces it). In the build,
// every provider bundle imports it from ../core.js, so SecretwrapError and every cache here exist once;
// whatever a provider needs from secretwrap's own code is exported here and nowhere else.
export type { Fetched, Provider, ProviderContext, ProviderOptionsIssue, Session } from "./provider.ts";
export { SecretwrapError, type ErrorCode, type ErrorSubject } from "./errors.ts";
export { describeRef, fetchKey, type Ref } from "./config/ref.ts";
export { toIssues } from "./config/issues.ts";
export { MAX_SECRET_BYTES } from "./limits.ts";
export { parseJson } from "./json.ts";
export { commonJs } from "./interop.ts";
export { VERSION } from "./version.ts";
export { notARegularFile, readRegularFile } from "./regular-file.ts";
