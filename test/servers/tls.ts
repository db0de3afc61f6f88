// Certificates made at test time with the openssl CLI: a private CA, a server certificate for
// 127.0.0.1/localhost signed by it, and the broken kinds a TLS test needs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ServerCert {
  readonly key: string;
  readonly cert: string;
}

export interface TestPki {
  readonly dir: string;
  /** PEM of the CA that signed `valid`, `wrongName` and `expired`. */
  readonly caPem: string;
  readonly caFile: string;
  readonly valid: ServerCert;
  readonly wrongName: ServerCert;
  readonly expired: ServerCert;
  readonly selfSigned: ServerCert;
}

/** openssl req arguments for a fresh, unencrypted P-256 key. */
const NEW_P256_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

function openssl(dir: string, args: readonly string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function signedCert(
  dir: string,
  name: string,
  san: string,
  days: { start: string; end: string },
): ServerCert {
  openssl(dir, [
    "req",
    "-new",
    ...NEW_P256_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  // `openssl ca` is the one CLI path that takes explicit start and end dates (for the expired case).
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(
    join(dir, "ca.cnf"),
    [
      "[ca]",
      "default_ca=tca",
      "[tca]",
      `dir=${dir}`,
      "database=$dir/index.txt",
      "new_certs_dir=$dir",
      "certificate=$dir/ca.pem",
      "private_key=$dir/ca.key",
      "default_md=sha256",
      "policy=any",
      "serial=$dir/serial",
      "unique_subject=no",
      "copy_extensions=none",
      "[any]",
      "commonName=supplied",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "serial"),
    `${Math.floor(Math.random() * 1e9)
      .toString(16)
      .padStart(8, "0")}\n`,
  );
  openssl(dir, [
    "ca",
    "-batch",
    "-config",
    "ca.cnf",
    "-in",
    `${name}.csr`,
    "-out",
    `${name}.pem`,
    "-startdate",
    days.start,
    "-enddate",
    days.end,
    "-extfile",
    `${name}.ext`,
    "-notext",
  ]);
  return {
    key: readFileSync(join(dir, `${name}.key`), "utf8"),
    cert: readFileSync(join(dir, `${name}.pem`), "utf8"),
  };
}

function stamp(offsetDays: number): string {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}000000Z`;
}

/** A self-signed P-256 certificate (the CA itself, or a server certificate nobody vouches for). */
function selfSignedCert(
  dir: string,
  name: string,
  subject: string,
  extensions: readonly string[],
): ServerCert {
  openssl(dir, [
    "req",
    "-x509",
    ...NEW_P256_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-subj",
    subject,
    ...extensions.flatMap((e) => ["-addext", e]),
  ]);
  return {
    key: readFileSync(join(dir, `${name}.key`), "utf8"),
    cert: readFileSync(join(dir, `${name}.pem`), "utf8"),
  };
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "secretwrap-pki-"));
  const ca = selfSignedCert(dir, "ca", "/CN=secretwrap test CA", [
    "basicConstraints=critical,CA:TRUE",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const loopback = "IP:127.0.0.1,DNS:localhost";
  const valid = signedCert(dir, "valid", loopback, { start: stamp(-1), end: stamp(2) });
  const wrongName = signedCert(dir, "wrongname", "DNS:wrong.example.invalid", {
    start: stamp(-1),
    end: stamp(2),
  });
  const expired = signedCert(dir, "expired", loopback, { start: stamp(-10), end: stamp(-5) });
  const selfSigned = selfSignedCert(dir, "self", "/CN=127.0.0.1", [`subjectAltName=${loopback}`]);
  return { dir, caPem: ca.cert, caFile: join(dir, "ca.pem"), valid, wrongName, expired, selfSigned };
}
