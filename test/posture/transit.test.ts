/**
 * Transit checks against real endpoints started here on 127.0.0.1: TLS servers with certificates
 * from a real pipeseal CA (initCa / issueCertificate in a real keystore), a plaintext HTTP server
 * and a closed port. The map is built by hand (the parser is tested on its own).
 */
import { webcrypto } from "node:crypto";
import { writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initKeystore, openKeystore } from "../../src/keys/index.js";
import { initCa, issueCertificate, writeCertDir, type IssuedCertificate } from "../../src/pki/ca/index.js";
import { x509 } from "../../src/pki/x509.js";
import { createTransitChecks, transitChecks } from "../../src/posture/checks/transit.js";
import { fingerprintOf } from "../../src/posture/finding.js";
import type { ConnectionSpec, Finding, ModuleResult, PipelineMap } from "../../src/posture/types.js";
import { tempDir } from "../helpers/keystore.js";

const DAY = 86_400_000;
const dir = tempDir("pipeseal-transit-");
const closers: (() => void)[] = [];
let good: IssuedCertificate;
let ca: string;

async function listen(s: net.Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  closers.push(() => s.close());
  return (s.address() as net.AddressInfo).port;
}

function tlsServer(cert: { certPem: string; keyPem: string | null }, options: https.ServerOptions = {}): Promise<number> {
  const s = https.createServer({ cert: cert.certPem, key: cert.keyPem!, ...options }, (_q, res) => res.end("ok"));
  s.on("tlsClientError", () => {});
  closers.push(() => s.closeAllConnections());
  return listen(s);
}

/** An RSA server certificate from the same CA (via a CSR), so a static-RSA suite can be negotiated. */
async function rsaCert(ks: Parameters<typeof issueCertificate>[0]): Promise<{ certPem: string; keyPem: string }> {
  const alg = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=ignored", keys, signingAlgorithm: alg });
  const issued = await issueCertificate(ks, { service: "legacy", env: "prod", ip: ["127.0.0.1"], server: true, csrPem: csr.toString("pem") });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey as webcrypto.CryptoKey);
  return { certPem: issued.certPem, keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") };
}

const conn = (id: string, url: string, o: Partial<ConnectionSpec> = {}): ConnectionSpec => ({
  id,
  from: "processing",
  to: "features",
  url,
  mtls: true,
  classification: "pii",
  ca: "ca.pem",
  certDir: "client",
  ...o,
});

const mapOf = (connections: ConnectionSpec[]): PipelineMap => ({
  version: 1,
  name: "transit test",
  baseDir: dir,
  keys: {},
  stages: [],
  connections,
  plaintextMaxAgeSeconds: 86_400,
});

const checks = createTransitChecks({ timeoutMs: 2000, concurrency: 3 });
const of = (r: ModuleResult, subject: string): Finding[] => r.findings.filter((f) => f.subject === subject);
const ids = (fs: Finding[]) => fs.map((f) => f.checkId).sort();

let result: ModuleResult;
const urls: Record<string, string> = {};

beforeAll(async () => {
  const home = path.join(dir, "ks");
  await initKeystore(home);
  const ks = await openKeystore(home, { principal: "setup" });
  try {
    // the CA is ten days old, so a certificate issued "five days ago" for an hour is expired now
    await initCa(ks, { trustDomain: "acme.internal", now: Date.now() - 10 * DAY });
    good = await issueCertificate(ks, { service: "features", env: "prod", ip: ["127.0.0.1"], server: true });
    const expired = await issueCertificate(ks, { service: "old", env: "prod", ip: ["127.0.0.1"], server: true, ttlSeconds: 3600, now: Date.now() - 5 * DAY });
    const wrongName = await issueCertificate(ks, { service: "other", env: "prod", dns: ["other.example"], server: true });
    await writeCertDir(path.join(dir, "client"), await issueCertificate(ks, { service: "trainer", env: "prod", client: true, ttlSeconds: 3600 }));
    ca = good.caPem;
    writeFileSync(path.join(dir, "ca.pem"), ca);
    const mtls = { requestCert: true, rejectUnauthorized: true, ca };
    urls.good = `https://127.0.0.1:${await tlsServer(good, mtls)}/v1/features`;
    urls.noClientCert = `https://127.0.0.1:${await tlsServer(good)}`;
    urls.expired = `https://127.0.0.1:${await tlsServer(expired, mtls)}`;
    urls.wrongName = `tls://127.0.0.1:${await tlsServer(wrongName, mtls)}`;
    const rsa = await rsaCert(ks);
    urls.noFs = `https://127.0.0.1:${await tlsServer(rsa, { maxVersion: "TLSv1.2", ciphers: "AES128-GCM-SHA256" })}`;
    urls.noFsMtls = `https://127.0.0.1:${await tlsServer(rsa, { maxVersion: "TLSv1.2", ciphers: "AES128-GCM-SHA256", ...mtls })}`;
    const plainPort = await listen(http.createServer((_q, res) => res.end("plaintext")));
    urls.plainHttp = `http://127.0.0.1:${plainPort}/ingest`;
    urls.plainBehindHttps = `https://127.0.0.1:${plainPort}`;
    const closed = net.createServer();
    const closedPort = await new Promise<number>((r) => closed.listen(0, "127.0.0.1", () => r((closed.address() as net.AddressInfo).port)));
    await new Promise((r) => closed.close(r));
    urls.closed = `https://127.0.0.1:${closedPort}`;
    urls.closedHttp = `http://127.0.0.1:${closedPort}`;
  } finally {
    ks.close();
  }
  result = await checks.run({
    map: mapOf([
      conn("good", urls.good!),
      conn("no-client-cert", urls.noClientCert!),
      conn("no-client-cert-not-expected", urls.noClientCert!, { mtls: false }),
      conn("expired", urls.expired!),
      conn("wrong-name", urls.wrongName!),
      conn("no-fs", urls.noFs!, { mtls: false }),
      // requires a client certificate: only the handshake with the map's certDir completes
      conn("no-fs-mtls", urls.noFsMtls!),
      conn("plain-http", urls.plainHttp!, { from: "ingestion", to: "landing", mtls: false, classification: "internal", ca: undefined, certDir: undefined }),
      conn("plain-behind-https", urls.plainBehindHttps!),
      conn("closed", urls.closed!),
      conn("closed-http", urls.closedHttp!, { mtls: false }),
    ]),
    now: new Date(),
  });
});
afterAll(() => closers.forEach((c) => c()));

describe("transit checks against real endpoints", () => {
  it("a good mTLS endpoint (pipeseal CA, client certificate required, TLS 1.2+) has no findings", () => {
    expect(of(result, "good")).toEqual([]);
    expect(result.examined).toContain("good");
  });

  it("a server that does not require client certificates where the map says mTLS: exactly one TRANSIT-MTLS (high)", () => {
    const fs = of(result, "no-client-cert");
    expect(ids(fs)).toEqual(["TRANSIT-MTLS"]);
    expect(fs[0]).toMatchObject({
      severity: "high",
      stage: "features",
      location: urls.noClientCert,
      evidence: { clientCertRequired: false, mapSaysMtls: true },
    });
    // the same server is fine for a connection the map does not mark mtls
    expect(of(result, "no-client-cert-not-expected")).toEqual([]);
  });

  it("an expired certificate: one TRANSIT-CERT with the days past in its evidence", () => {
    const fs = of(result, "expired");
    expect(ids(fs)).toEqual(["TRANSIT-CERT"]);
    expect(fs[0]!.severity).toBe("high");
    expect(fs[0]!.message).toMatch(/expired 5 day\(s\) ago/);
    expect(fs[0]!.evidence.daysLeft).toBeLessThanOrEqual(-4);
  });

  it("a certificate for another name (tls:// URL): TRANSIT-CERT names the mismatch", () => {
    const fs = of(result, "wrong-name");
    expect(ids(fs)).toEqual(["TRANSIT-CERT"]);
    expect(fs[0]!.evidence).toMatchObject({ nameChecked: "127.0.0.1", nameMatches: false, trusted: true });
  });

  it("a static-RSA suite without forward secrecy: TRANSIT-CIPHER with the negotiated suite", () => {
    const fs = of(result, "no-fs");
    expect(ids(fs)).toEqual(["TRANSIT-CIPHER"]);
    expect(fs[0]).toMatchObject({ severity: "medium", evidence: { cipher: "AES128-GCM-SHA256", protocol: "TLSv1.2" } });
    const behindMtls = of(result, "no-fs-mtls");
    expect(ids(behindMtls)).toEqual(["TRANSIT-CIPHER"]);
    expect(behindMtls[0]).toMatchObject({ evidence: { cipher: "AES128-GCM-SHA256", protocol: "TLSv1.2", clientCertRequired: true } });
  });

  it("plaintext http://: TRANSIT-PLAINTEXT (high for internal data), stage is the connection's `to`, and a plaintext fact", () => {
    const fs = of(result, "plain-http");
    expect(ids(fs)).toEqual(["TRANSIT-PLAINTEXT"]);
    expect(fs[0]).toMatchObject({ severity: "high", stage: "landing", evidence: { scheme: "http", connected: true, httpStatusLine: "HTTP/1.1 200 OK" } });
    expect(result.facts?.plaintext).toContainEqual({ stage: "landing", location: urls.plainHttp, kind: "plaintext-connection", ageSeconds: null });
  });

  it("an https:// URL whose port answers plaintext HTTP: TRANSIT-PLAINTEXT, critical for PII, not 'unreachable'", () => {
    const fs = of(result, "plain-behind-https");
    expect(ids(fs)).toEqual(["TRANSIT-PLAINTEXT"]);
    expect(fs[0]!.severity).toBe("critical");
  });

  it("a closed port is a TRANSIT-UNREACHABLE finding, not a crash; a closed http:// port is plaintext and unreachable", () => {
    const fs = of(result, "closed");
    expect(ids(fs)).toEqual(["TRANSIT-UNREACHABLE"]);
    expect(fs[0]!.message).toMatch(/ECONNREFUSED/);
    expect(ids(of(result, "closed-http"))).toEqual(["TRANSIT-PLAINTEXT", "TRANSIT-UNREACHABLE"]);
  });

  it("every connection is examined; fingerprints are sha256(checkId, subject, location), unique and stable", async () => {
    expect(result.examined).toHaveLength(11);
    for (const f of result.findings) expect(f.fingerprint).toBe(fingerprintOf(f.checkId, f.subject, f.location));
    expect(new Set(result.findings.map((f) => f.fingerprint)).size).toBe(result.findings.length);
    const again = await checks.run({ map: mapOf([conn("no-client-cert", urls.noClientCert!)]), now: new Date() });
    expect(again.findings.map((f) => f.fingerprint)).toEqual(of(result, "no-client-cert").map((f) => f.fingerprint));
  });

  it("every finding's check id has a definition with a severity, question, description and fix", () => {
    const defined = new Map(transitChecks.definitions.map((d) => [d.id, d]));
    for (const f of result.findings) expect(defined.get(f.checkId)?.fix).toBeTruthy();
    expect([...defined.keys()].sort()).toEqual([
      "TRANSIT-CERT",
      "TRANSIT-CIPHER",
      "TRANSIT-MTLS",
      "TRANSIT-PLAINTEXT",
      "TRANSIT-TLS-VERSION",
      "TRANSIT-UNREACHABLE",
    ]);
  });

  it("TLS 1.0/1.1 accepted: TRANSIT-TLS-VERSION when this OpenSSL can offer them (never assumed)", async () => {
    const port = await tlsServer(good, { minVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0", requestCert: true, rejectUnauthorized: true, ca });
    const r = await checks.run({ map: mapOf([conn("legacy", `https://127.0.0.1:${port}`)]), now: new Date() });
    const canOffer = await new Promise<boolean>((resolve) => {
      const s = tls.connect(
        { host: "127.0.0.1", port, minVersion: "TLSv1", maxVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0", rejectUnauthorized: false },
        () => (s.destroy(), resolve(true)),
      );
      s.on("error", (e: NodeJS.ErrnoException) => resolve(/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE/.test(e.code ?? "")));
    });
    expect(ids(r.findings)).toEqual(canOffer ? ["TRANSIT-TLS-VERSION"] : []);
  });

  it("a URL that is not http(s):// or tls:// is a broken map (MAP_INVALID), found before anything connects", async () => {
    await expect(checks.run({ map: mapOf([conn("ftp", "ftp://127.0.0.1:21")]), now: new Date() })).rejects.toMatchObject({ code: "MAP_INVALID" });
  });
});
