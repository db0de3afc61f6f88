// Unknown fields in Kubernetes documents (`runAsNonRot: true`, `initialDelaySecond: 5`): the API server
// drops or rejects them, and kubernetes-models' validators, generated from the API's OpenAPI schema,
// accept them (the schema does not close its objects). kubernetes-models' TypeScript interfaces do
// name every field, so each document is type-checked as an object literal of its kind's interface:
// TypeScript's excess-property check then names any field the kind does not have, at any depth.
// One program for all documents: about 3 s, most of it loading the interfaces.
import ts from "typescript";
import { join } from "node:path";
import { REPO } from "./rules.ts";

export interface Document {
  readonly where: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly data: unknown;
}

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2022.d.ts"],
  types: [],
  skipLibCheck: true,
};

/** One message per problem, prefixed with the document it is in. */
export function unknownFieldProblems(documents: readonly Document[]): string[] {
  // A file that does not exist, next to the tests, so kubernetes-models resolves from the repo.
  const path = join(REPO, "test/unit/manifests/documents.generated.mts");
  const lines = documents.map(
    (d, i) =>
      `export const d${i}: import("kubernetes-models/${d.apiVersion}").I${d.kind} = ${JSON.stringify(d.data)};`,
  );
  const text = lines.join("\n");
  const host = ts.createCompilerHost(OPTIONS);
  const readSource = host.getSourceFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === path ? ts.createSourceFile(name, text, language) : readSource(name, language, ...rest);
  host.fileExists = (name) => name === path || exists(name);
  const program = ts.createProgram([path], OPTIONS, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
    if (diagnostic.file?.fileName !== path || diagnostic.start === undefined) return message;
    const line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line;
    const document = documents[line];
    return `${document?.where ?? "?"} ${document?.kind ?? ""}: ${message}`;
  });
}
