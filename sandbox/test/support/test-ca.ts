/**
 * Certificates for tests, made with the openssl command line: a CA (basicConstraints CA:TRUE), and a leaf
 * it signs for chosen names, as PEM text and as files in a directory.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCa {
  certPem: string;
  keyPem: string;
  certPath: string;
  keyPath: string;
}

const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });

export function makeTestCa(dir: string, name = "ca", subject = "/CN=clouddrove test CA"): TestCa {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  openssl([
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
    ...["-keyout", keyPath, "-out", certPath, "-days", "30", "-subj", subject],
    ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  ]);
  return {
    certPem: readFileSync(certPath, "utf8"),
    keyPem: readFileSync(keyPath, "utf8"),
    certPath,
    keyPath,
  };
}

/** A server certificate signed by `ca` for `names` (DNS names or IP addresses). */
export function makeServerCertificate(dir: string, ca: TestCa, names: string[]): TestCa {
  const keyPath = join(dir, "server.key");
  const csrPath = join(dir, "server.csr");
  const certPath = join(dir, "server.crt");
  const extPath = join(dir, "server.ext");
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
  writeFileSync(
    extPath,
    `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  openssl([
    ...["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
    ...["-keyout", keyPath, "-out", csrPath, "-subj", `/CN=${names[0]}`],
  ]);
  openssl([
    ...["x509", "-req", "-in", csrPath, "-CA", ca.certPath, "-CAkey", ca.keyPath, "-CAcreateserial"],
    ...["-out", certPath, "-days", "30", "-extfile", extPath],
  ]);
  return {
    certPem: readFileSync(certPath, "utf8"),
    keyPem: readFileSync(keyPath, "utf8"),
    certPath,
    keyPath,
  };
}
