// berglas (GoogleCloudPlatform/berglas, doc/reference-syntax.md): `sm://PROJECT/SECRET[?destination=…][#VERSION]`
// read as berglas' pkg/berglas/reference.go reads it: the text after sm:// is a URL whose path is
// PROJECT/SECRET (percent-decoded, the secret name without a further /), whose fragment is the
// version and whose `destination` parameter sends the value to a file instead of the variable.
import type { PeerForms, PeerReading } from "../../src/provider-api.ts";
import { decoded, problem } from "./reading.ts";

const DOCS = "https://github.com/GoogleCloudPlatform/berglas/blob/main/doc/reference-syntax.md";
const SECRET_MANAGER = "sm://";
const STORAGE = "berglas://";

export const berglas: PeerForms = {
  tool: "berglas",
  docs: DOCS,
  read(value) {
    if (value.startsWith(STORAGE)) {
      return problem(
        "it is a berglas Cloud Storage reference (berglas://), and secretwrap reads Secret Manager only",
        "move the secret to Secret Manager and use sm://PROJECT/SECRET (or ref+gcpsecrets://PROJECT/SECRET)",
      );
    }
    if (!value.startsWith(SECRET_MANAGER)) return undefined;
    return secretManager(value.slice(SECRET_MANAGER.length));
  },
};

const PROJECT = /^[a-z0-9][a-z0-9.:-]*$/;
const SECRET = /^[A-Za-z0-9_-]+$/;
const FORM_HINT = "berglas' form is sm://PROJECT/SECRET[#VERSION], optionally ?destination=tempfile";

function secretManager(text: string): PeerReading {
  const hash = text.indexOf("#");
  const beforeHash = hash === -1 ? text : text.slice(0, hash);
  const question = beforeHash.indexOf("?");
  const path = decoded(question === -1 ? beforeHash : beforeHash.slice(0, question));
  const version = hash === -1 ? "" : decoded(text.slice(hash + 1));
  const query = question === -1 ? "" : beforeHash.slice(question + 1);
  if (path === undefined || version === undefined) return problem("it has a broken %-escape", FORM_HINT);
  const slash = path.indexOf("/");
  const project = slash === -1 ? "" : path.slice(0, slash);
  const secret = slash === -1 ? "" : path.slice(slash + 1);
  if (project === "" || secret === "") return problem("it does not name PROJECT/SECRET", FORM_HINT);
  if (secret.includes("/")) return problem("the secret name contains a /", FORM_HINT);
  // Checked before they become a reference, where ? # and % have a meaning of their own.
  if (!PROJECT.test(project)) return problem("the project is not a GCP project id", FORM_HINT);
  if (!SECRET.test(secret)) return problem("the secret name is not a Secret Manager secret id", FORM_HINT);
  const destination = destinationOf(query);
  if (typeof destination !== "string" && destination !== undefined) return destination;
  const params = version === "" ? "" : `?version=${encodeURIComponent(version)}`;
  const ref = `ref+gcpsecrets://${project}/${secret}${params}`;
  if (destination === undefined || destination === "") return { ref };
  // berglas writes a temp file and sets the variable to its path: a file in the secrets directory.
  if (destination === "tempfile" || destination === "tmpfile") return { ref, file: true };
  return problem(
    "destination= names a path, and secretwrap writes secret files only into its own secrets directory",
    "use ?destination=tempfile: the variable then holds the path of a file in the secrets directory (--secrets-dir chooses it)",
  );
}

/** The destination parameter; any other parameter is refused (a typo would silently change the target). */
function destinationOf(query: string): string | undefined | PeerReading {
  let destination: string | undefined;
  if (query === "") return undefined;
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    const key = decoded(eq === -1 ? part : part.slice(0, eq), true);
    const value = decoded(eq === -1 ? "" : part.slice(eq + 1), true);
    if (key === undefined || value === undefined) return problem("it has a broken %-escape", FORM_HINT);
    if (key !== "destination") return problem("it has a parameter other than destination", FORM_HINT);
    // url.Values.Get: the first one counts.
    destination ??= value;
  }
  return destination;
}
