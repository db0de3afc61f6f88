// vals' prefix form over the wire: GetParametersByPath, page by page (10 parameters each, until SSM
// gives no NextToken), always decrypted; the parameters become one JSON document (tree.ts) from which
// the core takes the #field.
import type { SSMClient } from "@aws-sdk/client-ssm";
import { type Fetched, MAX_SECRET_BYTES, SecretwrapError } from "../../src/provider-api.ts";
import { mapAwsError } from "../kit/aws/errors.ts";
import { SSM_BY_PATH } from "./errors.ts";
import type { Sdk } from "./read.ts";
import { documentOf, type Entry } from "./tree.ts";

/** GetParametersByPath's largest page. */
const PAGE_SIZE = 10;
/** A bound on a service that keeps answering with another NextToken (SSM may send empty pages). */
const MAX_PAGES = 10_000;

export interface PathRead {
  readonly client: SSMClient;
  readonly sdk: Sdk;
  readonly endpoint: string | undefined;
}

export async function readByPath(
  read: PathRead,
  path: string,
  recursive: boolean,
  signal: AbortSignal,
): Promise<Fetched> {
  const entries: Entry[] = [];
  let size = 0;
  let token: string | undefined;
  for (let page = 0; page === 0 || token !== undefined; page++) {
    if (page === MAX_PAGES)
      throw new SecretwrapError(
        "FETCH_FAILED",
        `${path}: ${SSM_BY_PATH.name} kept paging past ${MAX_PAGES} pages`,
      );
    let output;
    try {
      output = await read.client.send(
        new read.sdk.GetParametersByPathCommand({
          Path: path,
          Recursive: recursive,
          WithDecryption: true,
          MaxResults: PAGE_SIZE,
          ...(token === undefined ? {} : { NextToken: token }),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw mapAwsError(error, path, SSM_BY_PATH, read.endpoint);
    }
    for (const { Name, Value } of output.Parameters ?? []) {
      // Skipping it would deliver the document without that parameter: the answer is not usable.
      if (Name === undefined || Value === undefined)
        throw new SecretwrapError(
          "FETCH_FAILED",
          `${path}: ${SSM_BY_PATH.name} listed a parameter without its name or value`,
        );
      entries.push({ name: Name, value: Value });
      size += Name.length + Value.length;
    }
    // Checked as the pages come: a document the core would refuse is not worth the rest of them.
    if (size > MAX_SECRET_BYTES) {
      throw new SecretwrapError(
        "FETCH_FAILED",
        `${path}: the parameters under this path hold more than ${MAX_SECRET_BYTES} bytes`,
        {
          hint: "name a deeper path (or drop ?recursive=true), or read the parameter you need without a #field",
        },
      );
    }
    token = output.NextToken === "" ? undefined : output.NextToken;
  }
  if (entries.length === 0) {
    throw new SecretwrapError(
      "SECRET_NOT_FOUND",
      `${path}: ${SSM_BY_PATH.name} has no parameters under this path${recursive ? "" : " (one level)"}`,
      {
        hint: "with a #field and no ?mode=singleparam, awsssm reads the parameters under the path (vals' prefix form); to take a field of this parameter's own JSON value, add ?mode=singleparam",
      },
    );
  }
  return {
    bytes: new TextEncoder().encode(JSON.stringify(documentOf(path, entries))),
    keyValueMap: true,
    audit: { parameters: String(entries.length) },
  };
}
