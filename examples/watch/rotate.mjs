// Rotates the example's secret as a secret manager would: writes the next version of
// examples/watch/dev-secrets/api.json (a new token), replacing the file in one rename so a reader never
// sees half of it.
//   node examples/watch/rotate.mjs      the next version
//   node examples/watch/rotate.mjs 1    back to version 1, the file as committed
import { readFileSync, renameSync, writeFileSync } from "node:fs";

const file = new URL("dev-secrets/api.json", import.meta.url);
const current = Number(JSON.parse(readFileSync(file, "utf8")).version);
const next = process.argv[2] === undefined ? current + 1 : Number(process.argv[2]);
if (!Number.isInteger(next) || next < 1) {
  console.error("usage: node examples/watch/rotate.mjs [VERSION]   (VERSION: a whole number from 1)");
  process.exit(64);
}
// Formatted as prettier formats the committed file, so `rotate.mjs 1` gives it back byte for byte.
const text = `{ "version": ${next}, "token": "dev-token-v${next}-not-a-real-secret" }\n`;
const staged = new URL(`dev-secrets/.api.json.${process.pid}`, import.meta.url);
writeFileSync(staged, text, { mode: 0o600 });
renameSync(staged, file);
console.log(`rotate: examples/watch/dev-secrets/api.json is now version ${next}`);
