// The one module that the entry and every provider bundle share (scripts/build.mjs): bin.js loads it
// once its signal handlers are in, and each provider bundle imports secretwrap's own code from it
// rather than carrying a copy, so a class such as SecretwrapError exists once and a run loads two
// files before its first provider. Every src/ module that both the core and a provider use is
// re-exported here (the build refuses a copy); code only providers use stays out of this file.
export { runEntry } from "./entry.ts";
export * from "./config/issues.ts";
export * from "./config/ref.ts";
export * from "./errors.ts";
export * from "./interop.ts";
export * from "./json.ts";
export * from "./limits.ts";
export * from "./provider.ts";
export * from "./regular-file.ts";
export * from "./version.ts";
