// axios 1.21.1 (lib/adapters/fetch.js, lib/utils.js), as node-vault 0.12.0 and providers/vault use it.
// What: one copy of axios (its ESM lib/), without its fetch adapter and without its read of the global
// FormData.
// Why: axios (Vault's HTTP client) reads globalThis.fetch, Request, Response and FormData when it
// loads: its fetch adapter and its FormData checks. In Node those globals are lazy getters that load
// undici (README.md here: what that costs a Vault run), for a client that only ever uses its http
// adapter here. These two edits remove the reads; the build fails if axios no longer has the code they
// expect.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const AXIOS_ESM = join(dirname(fileURLToPath(import.meta.url)), "../../../node_modules/axios/index.js");

const AXIOS_EDITS = [
  {
    file: /node_modules\/axios\/lib\/adapters\/fetch\.js$/,
    replace: /^[\s\S]*$/,
    with: "export const getFetch = () => false;\nexport default false;\n",
  },
  {
    file: /node_modules\/axios\/lib\/utils\.js$/,
    replace: "typeof G.FormData !== 'undefined' ? G.FormData : undefined",
    with: "undefined",
  },
];

export const axiosWithoutWebFetch = {
  name: "axios-without-web-fetch",
  setup(build) {
    // node-vault's require("axios") would bundle axios's CommonJS build, a second copy with the same
    // reads; it never calls it (our transport replaces its HTTP layer), so it gets the one ESM copy.
    build.onResolve({ filter: /^axios$/ }, () => ({ path: AXIOS_ESM }));
    const applied = new Set();
    for (const edit of AXIOS_EDITS) {
      build.onLoad({ filter: edit.file }, (args) => {
        const source = readFileSync(args.path, "utf8");
        const edited = source.replace(edit.replace, edit.with);
        if (edited === source) throw new Error(`axios changed: ${args.path} no longer has ${edit.replace}`);
        applied.add(edit);
        return { contents: edited, loader: "js" };
      });
    }
    build.onEnd((result) => {
      if (result.errors.length === 0 && applied.size !== AXIOS_EDITS.length) {
        throw new Error("axios changed: not every edit of AXIOS_EDITS applied (is lib/ still bundled?)");
      }
    });
  },
};
