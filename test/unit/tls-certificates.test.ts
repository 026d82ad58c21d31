/**
 * The private CA and server certificates (core/tls): what deploy makes, checked with Node's own X.509
 * parser (node:crypto X509Certificate), and when deploy issues a certificate again.
 */
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import {
  createCertificateAuthority,
  isIssuedBy,
  issueServerCertificate,
  keyMatches,
  readCertificate,
} from "../../src/core/tls/certificates.js";
import { expiryWarning, renewalReason, serverNames } from "../../src/core/tls/plan.js";
import { prepareServerTls, readServerCertificate } from "../../src/core/tls/prepare.js";
import { UsageError } from "../../src/errors.js";

const DAY = 86_400_000;
const now = new Date("2026-12-06T12:00:00Z");
const later = (days: number) => new Date(now.getTime() + days * DAY);
const config = (...set: string[]) =>
  resolveConfig({ set: ["storage.efs.fileSystemId=fs-0123456789abcdef0", ...set] }).config;

describe("the private CA", async () => {
  const ca = await createCertificateAuthority("clouddrove registry CA (clouddrove)", now);
  const x509 = new X509Certificate(ca.certificate);

  it("is a self-signed CA certificate valid for ten years, with its PKCS#8 key", async () => {
    expect(x509.ca).toBe(true);
    expect(x509.checkIssued(x509)).toBe(true);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.subject).toContain("CN=clouddrove registry CA (clouddrove)");
    expect(new Date(x509.validTo).getTime()).toBeGreaterThan(later(3649).getTime());
    expect(ca.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(await keyMatches(ca)).toBe(true);
    const other = await createCertificateAuthority("another", now);
    expect(await keyMatches({ certificate: ca.certificate, key: other.key })).toBe(false);
  });

  it("issues server certificates for exactly the names asked, signed by it, not a CA themselves", async () => {
    const names = serverNames("team", "registry.example.com", "abc.elb.eu-west-1.amazonaws.com");
    const server = await issueServerCertificate(ca, names, now, 365);
    const cert = new X509Certificate(server.certificate);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(x509)).toBe(true);
    expect(cert.verify(x509.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe(
      "DNS:abc.elb.eu-west-1.amazonaws.com, DNS:registry.example.com, DNS:registry-clouddrove.team.svc, DNS:registry-clouddrove.team.svc.cluster.local",
    );
    expect(cert.checkHost("registry.example.com")).toBe("registry.example.com");
    expect(cert.checkHost("other.example.com")).toBeUndefined();
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(later(364).getTime());
    expect(new Date(cert.validTo).getTime()).toBeLessThanOrEqual(later(365).getTime());
    expect(await isIssuedBy(server.certificate, ca.certificate)).toBe(true);
    expect(await keyMatches(server)).toBe(true);

    const withIp = await issueServerCertificate(ca, serverNames("team", undefined, "127.0.0.1"), now, 30);
    const ipCert = new X509Certificate(withIp.certificate);
    expect(ipCert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect((await readCertificate(withIp.certificate))?.ips).toEqual(["127.0.0.1"]);
  });

  it("knows a certificate another CA signed", async () => {
    const other = await createCertificateAuthority("another", now);
    const server = await issueServerCertificate(other, serverNames("team"), now, 365);
    expect(await isIssuedBy(server.certificate, ca.certificate)).toBe(false);
    const current = await readServerCertificate(server, ca);
    expect(renewalReason(current, serverNames("team"), now, 365)).toMatch(/not issued by the CA/);
  });
});

describe("when deploy issues the server certificate again", async () => {
  const ca = await createCertificateAuthority("ca", now);
  const wanted = serverNames("clouddrove", undefined, "lb.example.com");
  const server = await issueServerCertificate(ca, wanted, now, 365);
  const current = await readServerCertificate(server, ca);

  it("keeps a fresh certificate that covers every name", () => {
    expect(renewalReason(current, wanted, now, 365)).toBeUndefined();
    expect(renewalReason(current, wanted, later(334), 365)).toBeUndefined();
  });

  it("renews within 30 days of expiry, and when a name is missing", () => {
    expect(renewalReason(current, wanted, later(336), 365)).toMatch(
      /expires on \d{4}-\d\d-\d\d \(in 2\d day\(s\)\)/,
    );
    expect(
      renewalReason(current, serverNames("clouddrove", "registry.example.com", "lb.example.com"), now, 365),
    ).toBe("the server certificate does not cover registry.example.com");
    expect(renewalReason(undefined, wanted, now, 365)).toBe("there is no server certificate yet");
  });

  it("renews a short-lived certificate at a third of its life, not at once", async () => {
    const short = await readServerCertificate(await issueServerCertificate(ca, wanted, now, 20), ca);
    expect(renewalReason(short, wanted, now, 20)).toBeUndefined();
    expect(renewalReason(short, wanted, later(14), 20)).toMatch(/expires/);
    // A 20-day certificate is due at once for a 365-day setting: 20 days left is within 30.
    expect(renewalReason(short, wanted, now, 365)).toMatch(/expires .*\(in 20 day\(s\)\)/);
  });

  it("warns from 30 days ahead, and after expiry", () => {
    expect(expiryWarning(later(31), now)).toBeUndefined();
    expect(expiryWarning(later(29.5), now)).toMatch(
      /expires on .* \(in 29 day\(s\)\): run `clouddrove deploy`/,
    );
    expect(expiryWarning(later(-2), now)).toMatch(/expired on .* \(expired 2 day\(s\) ago\)/);
  });

  it("keeps the live CA and certificate, makes a CA only when there is no usable one", async () => {
    const kept = await prepareServerTls(config(), { ca, server }, "lb.example.com", now);
    expect(kept).toEqual({ tls: { ca, server }, caCreated: false });

    const moved = await prepareServerTls(config(), { ca, server }, "new-lb.example.com", now);
    expect(moved.caCreated).toBe(false);
    expect(moved.tls.ca).toBe(ca);
    expect(moved.issued).toBe("the server certificate does not cover new-lb.example.com");
    expect(await isIssuedBy(moved.tls.server.certificate, ca.certificate)).toBe(true);

    const broken = await prepareServerTls(
      config(),
      { ca: { ...ca, key: "" }, server },
      "lb.example.com",
      now,
    );
    expect(broken.caCreated).toBe(true);
    expect(broken.tls.ca.certificate).not.toBe(ca.certificate);
    expect(broken.issued).toMatch(/not issued by the CA/);
  });
});

describe("the TLS settings", () => {
  it("defaults to private-ca; --insecure-http is short for --tls-mode insecure-http", () => {
    expect(resolveConfig({}).config.tls).toEqual({ mode: "private-ca", certificateDays: 365 });
    const flagged = resolveConfig({ flags: { insecureHttp: true } });
    expect(flagged.config.tls.mode).toBe("insecure-http");
    expect(flagged.sources.get("tls.mode")).toBe("flag");
    expect(resolveConfig({ env: { CLOUDDROVE_TLS_MODE: "insecure-http" } }).config.tls.mode).toBe(
      "insecure-http",
    );
    expect(resolveConfig({ set: ["tls.hostname=registry.example.com"] }).config.tls.hostname).toBe(
      "registry.example.com",
    );
  });

  it("refuses contradicting flags and a host name a certificate cannot carry (exit 2)", () => {
    expect(() => resolveConfig({ flags: { insecureHttp: true, tlsMode: "private-ca" } })).toThrow(
      /--insecure-http and --tls-mode 'private-ca' contradict each other/,
    );
    expect(resolveConfig({ flags: { hostname: "10.0.0.1" } }).config.tls.hostname).toBe("10.0.0.1");
    for (const bad of [
      "registry.example.com:5000",
      "*.example.com",
      "Registry.Example.com",
      "-a.example.com",
    ]) {
      let error: unknown;
      try {
        resolveConfig({ flags: { hostname: bad } });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain(`tls.hostname: '${bad}' from --hostname is not valid`);
    }
  });
});
