// @typespec/ts-http-runtime 0.3.6 (dist/esm/formData.js, dist/esm/client/sendRequest.js), the HTTP
// runtime under @azure/core-rest-pipeline 1.24.0, @azure/identity and @azure/keyvault-secrets.
// What: `body instanceof FormData` is asked only of a body tagged "FormData".
// Why: Node defines the global FormData as a lazy getter that loads its whole fetch implementation
// (undici), and the Azure SDK's HTTP runtime reads it for every request body, so the first
// Key Vault or Entra ID request pays for it. A FormData always has the tag "FormData", so checking the
// tag first gives the same answer and touches the global only for a body that may be one. The build
// fails if the SDK's code changes, rather than silently keep the old cost or a wrong guess.
import { readFileSync } from "node:fs";

const FORM_DATA_CHECK = 'typeof FormData !== "undefined" && body instanceof FormData';
export const tsHttpRuntimeFormDataCheckFirst = {
  name: "ts-http-runtime-form-data-check-first",
  setup(build) {
    const files =
      /[\\/]@typespec[\\/]ts-http-runtime[\\/]dist[\\/]esm[\\/](formData|client[\\/]sendRequest)\.js$/;
    build.onLoad({ filter: files }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(FORM_DATA_CHECK)) {
        return {
          errors: [{ text: `form-data-check-first: "${FORM_DATA_CHECK}" not found in ${args.path}` }],
        };
      }
      const guarded = `body?.[Symbol.toStringTag] === "FormData" && ${FORM_DATA_CHECK}`;
      return { contents: source.replaceAll(FORM_DATA_CHECK, guarded), loader: "js" };
    });
  },
};
