// Answers of an awsJson1_1 service (Secrets Manager, SSM) as AWS sends them: the JSON body, its
// content type and a request id; an error is {"__type": code, <message key>: text}.
import type { Reply } from "./harness.ts";

const headers = (): Record<string, string> => ({
  "content-type": "application/x-amz-json-1.1",
  "x-amzn-requestid": crypto.randomUUID(),
});

export function awsJsonOk(body: object): Reply {
  return { status: 200, body: JSON.stringify(body), headers: headers() };
}

/**
 * `messageKey`: services spell it their own way (Secrets Manager "Message", SSM's modelled errors
 * "message"; the common errors such as AccessDeniedException "Message").
 */
export function awsJsonError(
  status: number,
  code: string,
  message: string,
  messageKey: "Message" | "message" = "message",
): Reply {
  return { status, body: JSON.stringify({ __type: code, [messageKey]: message }), headers: headers() };
}
