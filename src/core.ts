// The one module that the entry and every provider bundle share (scripts/build.mjs): bin.js loads it
// once its signal handlers are in, and each provider bundle imports src/provider-api.ts from it rather
// than carrying a copy, so a class such as SecretwrapError exists once and a run loads two files before
// its first provider.
export { runSupervisorOrCli } from "./supervisor-or-cli.ts";
export * from "./provider-api.ts";
