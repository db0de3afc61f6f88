// secrets-init (doitintl/secrets-init, README and pkg/secrets/{aws,google}/secrets.go): a whole value
// that starts with arn:aws:secretsmanager (or the aws-cn partition) is a Secrets Manager secret id; one
// that starts with arn:aws:ssm and contains :parameter/ is an SSM parameter, its name the ARN's last
// field (`/NAME`) and an optional seventh field its version; gcp:secretmanager: is followed by a
// Secret Manager resource name, projects/P/secrets/S[/versions/V].
import type { PeerForms, PeerReading } from "../../src/provider-api.ts";
import { problem } from "./reading.ts";

const DOCS = "https://github.com/doitintl/secrets-init#readme";

const SECRETS_MANAGER = /^arn:aws(-cn)?:secretsmanager/;
const SSM = /^arn:aws(-cn)?:ssm/;
const GOOGLE = "gcp:secretmanager:";

// The ARN's fields as AWS documents them; checked here, where ? # and % would mean something else
// once the value is a reference.
const PARTITION = /^aws(-cn)?$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]$/;
const ACCOUNT = /^[0-9]{12}$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]+$/;
const PARAMETER_NAME = /^[A-Za-z0-9/_.-]+$/;
const POSITIVE_INT = /^[1-9][0-9]{0,9}$/;
const GCP_PROJECT = /^[a-z0-9][a-z0-9.:-]*$/;
const GCP_SECRET = /^[A-Za-z0-9_-]+$/;
const GCP_VERSION = /^(latest|[1-9][0-9]{0,9})$/;

export const secretsInit: PeerForms = {
  tool: "secrets-init",
  docs: DOCS,
  read(value) {
    const claimed =
      SECRETS_MANAGER.test(value) ||
      (SSM.test(value) && value.includes(":parameter/")) ||
      value.startsWith(GOOGLE);
    if (!claimed) return undefined;
    // secrets-init splits each NAME=VALUE at every = and reads only the text before the value's first
    // one: `secret:a=b` reads the secret `a`. Reading `a=b` would be another secret than the one the
    // app got so far, and reading `a` is not what the text says: neither is guessed.
    if (value.includes("=")) {
      return problem(
        "it contains =, and secrets-init reads a value only up to its first = (another secret than the one written)",
        "write the secret you mean as a ref+ reference (e.g. ref+awssecrets://NAME), which is read as written",
      );
    }
    if (SECRETS_MANAGER.test(value)) return secretsManager(value);
    if (SSM.test(value) && value.includes(":parameter/")) return parameter(value);
    if (value.startsWith(GOOGLE)) return google(value.slice(GOOGLE.length));
    return undefined;
  },
};

const SM_HINT = "secrets-init's form is arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME";

function secretsManager(value: string): PeerReading {
  const [, partition, service, region, account, kind, ...name] = value.split(":");
  if (
    !PARTITION.test(partition ?? "") ||
    service !== "secretsmanager" ||
    !REGION.test(region ?? "") ||
    !ACCOUNT.test(account ?? "") ||
    kind !== "secret" ||
    name.length !== 1 ||
    !SECRET_NAME.test(name[0] ?? "")
  ) {
    return problem("it is not a Secrets Manager secret ARN", SM_HINT);
  }
  // secrets-init passes the whole ARN as the SecretId; the ARN's region is where it is read.
  return {
    ref: `ref+awssecrets://${value}`,
    // secrets-init sets one variable per key of a JSON object secret and drops this one: delivering
    // the JSON whole would start the app without the variables it expects.
    jsonObject: {
      problem: "sets one variable per key of it instead of this variable, which secretwrap does not",
      hint: "declare each key you use as its own variable: KEY=ref+awssecrets://ARN#KEY",
    },
  };
}

const SSM_HINT = "secrets-init's form is arn:aws:ssm:REGION:ACCOUNT:parameter/NAME[:VERSION]";

function parameter(value: string): PeerReading {
  const fields = value.split(":");
  // secrets-init reads only ARNs of six fields, or seven with a version.
  if (fields.length !== 6 && fields.length !== 7) return problem("it is not an SSM parameter ARN", SSM_HINT);
  const [, partition, , region, account, resource, version] = fields as [string, ...string[]];
  const name = resource?.startsWith("parameter/") === true ? resource.slice("parameter/".length) : "";
  if (
    !PARTITION.test(partition ?? "") ||
    !(region === "" || REGION.test(region ?? "")) ||
    !ACCOUNT.test(account ?? "") ||
    !PARAMETER_NAME.test(name) ||
    name.startsWith("/") ||
    name.endsWith("/") ||
    name.includes("//")
  ) {
    return problem("it is not an SSM parameter ARN", SSM_HINT);
  }
  if (version !== undefined && !POSITIVE_INT.test(version)) {
    return problem(
      "the part after the parameter name is not a version number (a label is not supported)",
      SSM_HINT,
    );
  }
  const params = [
    ...(region === "" || region === undefined ? [] : [`region=${region}`]),
    ...(version === undefined ? [] : [`version=${version}`]),
  ];
  // The parameter is /NAME (secrets-init reads the ARN's `parameter/NAME` part less `parameter`), which
  // is what the reference NAME reads (vals: the locator is the path without its leading /).
  return { ref: `ref+awsssm://${name}${params.length === 0 ? "" : `?${params.join("&")}`}` };
}

const GOOGLE_HINT =
  "secrets-init's full form is gcp:secretmanager:projects/PROJECT/secrets/NAME[/versions/VERSION]";

function google(name: string): PeerReading {
  const parts = name.split("/");
  if (parts[0] !== "projects") {
    return problem(
      "it is secrets-init's short form, whose project secrets-init takes from --google-project or the metadata server",
      `write the project into it: ${GOOGLE_HINT}`,
    );
  }
  const [, project, secrets, secret, versions, version, ...rest] = parts;
  const versioned = versions !== undefined;
  if (
    !GCP_PROJECT.test(project ?? "") ||
    secrets !== "secrets" ||
    !GCP_SECRET.test(secret ?? "") ||
    (versioned && (versions !== "versions" || !GCP_VERSION.test(version ?? ""))) ||
    rest.length > 0
  ) {
    return problem("it is not a Secret Manager secret or version name", GOOGLE_HINT);
  }
  return { ref: `ref+gcpsecrets://${project}/${secret}${versioned ? `?version=${version}` : ""}` };
}
