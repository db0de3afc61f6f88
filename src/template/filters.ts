// Pure: the escaping filters of a template, each a function from bytes to bytes, chosen for where the
// value lands in the file. Each says exactly which values it can carry; one it cannot is refused (the
// caller fails the whole render), never mangled. A refusal names the filter and the reason, never the
// value.
//
//   json    a JSON string literal: "…" with ", \ and U+0000–U+001F escaped (JSON.stringify). Needs
//           valid UTF-8 (a JSON string is Unicode text). A NUL becomes \u0000.
//   yaml    a YAML 1.2 double-quoted scalar that reads back as the same text: ", \ and every character
//           outside YAML's printable set, plus the line breaks and the BOM, are escapes. Needs valid
//           UTF-8. A NUL becomes \0.
//   shell   one POSIX shell word in single quotes: '…' with each ' written '\''. Works on bytes (any
//           encoding); refuses a NUL, which no shell word or argument can hold.
//   url     percent-encoding of every byte outside RFC 3986's unreserved set A-Z a-z 0-9 - . _ ~
//           (a space is %20, never +). Any bytes.
//   base64  RFC 4648 base64 with padding, no line breaks. Any bytes.
//   trim    removes ASCII whitespace (space, tab, LF, VT, FF, CR) at both ends. Any bytes; a byte of
//           a multi-byte UTF-8 character is never whitespace, so text stays valid.

export const FILTER_NAMES = ["json", "yaml", "shell", "url", "base64", "trim"] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

export function isFilterName(name: string): name is FilterName {
  return (FILTER_NAMES as readonly string[]).includes(name);
}

/** Why a filter cannot carry a value, in a few words that never quote it. */
export type Refusal = { readonly refused: string };

// ignoreBOM: a leading U+FEFF is part of the value, not a marker to drop.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const NOT_UTF8: Refusal = { refused: "is not valid UTF-8" };

function text(bytes: Uint8Array): string | Refusal {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return NOT_UTF8;
  }
}

function json(bytes: Uint8Array): Uint8Array | Refusal {
  const value = text(bytes);
  return typeof value === "string" ? Buffer.from(JSON.stringify(value)) : value;
}

const YAML_NAMED: Readonly<Record<number, string>> = {
  0x00: "\\0",
  0x07: "\\a",
  0x08: "\\b",
  0x09: "\\t",
  0x0a: "\\n",
  0x0b: "\\v",
  0x0c: "\\f",
  0x0d: "\\r",
  0x1b: "\\e",
  0x22: '\\"',
  0x5c: "\\\\",
};

/**
 * Characters a double-quoted YAML scalar may hold as they are: printable ASCII and YAML's printable
 * non-ASCII, minus the characters YAML 1.1 readers take as line breaks (U+0085, U+2028, U+2029) and the
 * byte order mark. Everything else is an escape, so folding and a reader's encoding sniffing never apply.
 */
function yamlLiteral(code: number): boolean {
  if (code >= 0x20 && code <= 0x7e) return true;
  if (code >= 0xa0 && code <= 0xd7ff) return code !== 0x2028 && code !== 0x2029;
  if (code >= 0xe000 && code <= 0xfffd) return code !== 0xfeff;
  return code >= 0x10000 && code <= 0x10ffff;
}

function yaml(bytes: Uint8Array): Uint8Array | Refusal {
  const value = text(bytes);
  if (typeof value !== "string") return value;
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    const named = YAML_NAMED[code];
    if (named !== undefined) out += named;
    else if (yamlLiteral(code)) out += char;
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += `\\U${code.toString(16).padStart(8, "0")}`;
  }
  return Buffer.from(out + '"');
}

const QUOTE = 0x27;
const QUOTED_QUOTE = Buffer.from("'\\''");

function shell(bytes: Uint8Array): Uint8Array | Refusal {
  if (bytes.includes(0)) return { refused: "contains a NUL byte, which no shell word can hold" };
  const parts: Uint8Array[] = [Buffer.from("'")];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== QUOTE) continue;
    parts.push(bytes.subarray(start, i), QUOTED_QUOTE);
    start = i + 1;
  }
  parts.push(bytes.subarray(start), Buffer.from("'"));
  return Buffer.concat(parts);
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

function url(bytes: Uint8Array): Uint8Array {
  let out = "";
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    out += UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return Buffer.from(out);
}

function base64(bytes: Uint8Array): Uint8Array {
  return Buffer.from(Buffer.from(bytes).toString("base64"));
}

const ASCII_SPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

function trim(bytes: Uint8Array): Uint8Array {
  let start = 0;
  let end = bytes.length;
  while (start < end && ASCII_SPACE.has(bytes[start] as number)) start++;
  while (end > start && ASCII_SPACE.has(bytes[end - 1] as number)) end--;
  return bytes.subarray(start, end);
}

const FILTERS: Readonly<Record<FilterName, (bytes: Uint8Array) => Uint8Array | Refusal>> = {
  json,
  yaml,
  shell,
  url,
  base64,
  trim,
};

export function applyFilter(name: FilterName, bytes: Uint8Array): Uint8Array | Refusal {
  return FILTERS[name](bytes);
}
