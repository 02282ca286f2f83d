/** The internal CA through the library: real keystore files, real X.509, checked with node and the openssl CLI. */
import { X509Certificate, createPrivateKey, webcrypto } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { openBuffer } from "../../src/envelope/buffer.js";
import type { LocalKeystore } from "../../src/keys/index.js";
import {
  CA_KEY_NAME,
  createCrl,
  exportCaPem,
  initCa,
  issueCertificate,
  listCertificates,
  renewCertificateDir,
  revokeCertificate,
  writeCertDir,
  type IssuedCertificate,
} from "../../src/pki/ca/index.js";
import { readCa } from "../../src/pki/ca/store.js";
import { x509 } from "../../src/pki/x509.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";

const HOUR = 3600;
let ks: LocalKeystore;
let home: string;
let work: string;
let rootFile: string;
let issuingFile: string;

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    expect((e as { code?: string }).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

function opensslVerify(certFile: string, extra: string[] = []): { ok: boolean; out: string } {
  const r = spawnSync("openssl", ["verify", "-CAfile", rootFile, "-untrusted", issuingFile, ...extra, certFile], { encoding: "utf8" });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

async function issueTo(name: string, issued: Promise<IssuedCertificate>): Promise<{ issued: IssuedCertificate; dir: string }> {
  const i = await issued;
  const dir = path.join(work, name);
  await writeCertDir(dir, { certPem: i.certPem, caPem: i.caPem, keyPem: i.keyPem });
  return { issued: i, dir };
}

beforeAll(async () => {
  ({ ks, home } = await freshKeystore([]));
  work = tempDir("pipeseal-ca-");
  await initCa(ks, { name: "acme ML", trustDomain: "acme.ml", maxTtlSeconds: 720 * HOUR });
  const [root, issuing] = exportCaPem(ks).split(/(?<=-----END CERTIFICATE-----\n)/);
  rootFile = path.join(work, "root.pem");
  issuingFile = path.join(work, "issuing.pem");
  writeFileSync(rootFile, root!);
  writeFileSync(issuingFile, issuing!);
});

describe("ca init", () => {
  it("creates a root (pathLen 1) and an issuing CA (pathLen 0) signed by it", () => {
    const root = new X509Certificate(readFileSync(rootFile));
    const issuing = new X509Certificate(readFileSync(issuingFile));
    expect(root.ca && issuing.ca).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(issuing.verify(root.publicKey)).toBe(true);
    expect(issuing.checkIssued(root)).toBe(true);
    const text = (f: string) => execFileSync("openssl", ["x509", "-in", f, "-noout", "-text"], { encoding: "utf8" });
    expect(text(rootFile)).toMatch(/CA:TRUE, pathlen:1/);
    expect(text(issuingFile)).toMatch(/CA:TRUE, pathlen:0/);
    expect(text(rootFile)).toMatch(/prime256v1/);
    const years = (c: X509Certificate) => (Date.parse(c.validTo) - Date.now()) / (365 * 86400_000);
    expect(years(root)).toBeGreaterThan(9.9);
    expect(years(issuing)).toBeGreaterThan(0.99);
    expect(years(issuing)).toBeLessThan(1.01);
  });

  it("keeps the CA private keys nowhere on disk in plaintext", async () => {
    const ca = ks.readTables(readCa)!;
    for (const [role, sealed] of [
      ["root", ca.root_key],
      ["issuing", ca.issuing_key],
    ] as const) {
      const pkcs8 = await openBuffer(ks, sealed, { path: `test:${role}` }); // the audited unwrap
      const d = Buffer.from(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({ format: "jwk" }).d!, "base64url");
      expect(d.length).toBe(32);
      for (const f of readdirSync(home)) {
        const bytes = readFileSync(path.join(home, f));
        expect(bytes.includes(pkcs8), `${f} holds the ${role} PKCS#8`).toBe(false);
        expect(bytes.includes(d), `${f} holds the ${role} scalar`).toBe(false);
      }
      for (const f of readdirSync(work)) if (statSync(path.join(work, f)).isFile()) expect(readFileSync(path.join(work, f)).includes(d)).toBe(false);
      pkcs8.fill(0);
    }
  });

  it("refuses a second init (CA_EXISTS) and issue without a CA (CA_NOT_INITIALIZED)", async () => {
    await expectCode(initCa(ks), "CA_EXISTS");
    const other = await freshKeystore([]);
    await expectCode(issueCertificate(other.ks, { service: "svc", env: "prod" }), "CA_NOT_INITIALIZED");
    await expectCode(createCrl(other.ks), "CA_NOT_INITIALIZED");
  });
});

describe("ca issue", () => {
  it("issues a server certificate openssl verifies, with the SPIFFE URI, DNS and IP SANs, serverAuth, 24 h", async () => {
    const before = Date.now();
    const { issued, dir } = await issueTo(
      "fs",
      issueCertificate(ks, { service: "feature-store", env: "prod", dns: ["feature-store.internal"], ip: ["10.0.0.5"] }),
    );
    expect(opensslVerify(path.join(dir, "cert.pem")).ok).toBe(true);
    expect(opensslVerify(path.join(dir, "cert.pem"), ["-purpose", "sslserver"]).ok).toBe(true);
    const leaf = new X509Certificate(readFileSync(path.join(dir, "cert.pem")));
    expect(leaf.subjectAltName).toBe("URI:spiffe://acme.ml/prod/feature-store, DNS:feature-store.internal, IP Address:10.0.0.5");
    expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(leaf.ca).toBe(false);
    expect(leaf.serialNumber.toLowerCase()).toBe(issued.serial);
    const ttl = (Date.parse(leaf.validTo) - before) / 1000;
    expect(Math.abs(ttl - 24 * HOUR)).toBeLessThan(5);
    expect(statSync(path.join(dir, "key.pem")).mode & 0o777).toBe(0o600);
    expect(leaf.checkPrivateKey(createPrivateKey(readFileSync(path.join(dir, "key.pem"))))).toBe(true);
    expect(readFileSync(path.join(dir, "ca.pem"), "utf8")).toBe(readFileSync(rootFile, "utf8"));
    expect(readdirSync(dir).sort()).toEqual(["ca.pem", "cert.pem", "key.pem"]);
  });

  it("issues client certificates (clientAuth, 1 h) and server+client ones", async () => {
    const before = Date.now();
    const { dir } = await issueTo("trainer", issueCertificate(ks, { service: "trainer", env: "prod", client: true }));
    expect(opensslVerify(path.join(dir, "cert.pem"), ["-purpose", "sslclient"]).ok).toBe(true);
    const leaf = new X509Certificate(readFileSync(path.join(dir, "cert.pem")));
    expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    expect(Math.abs((Date.parse(leaf.validTo) - before) / 1000 - HOUR)).toBeLessThan(5);
    const both = await issueCertificate(ks, { service: "gateway", env: "staging", server: true, client: true, ttlSeconds: 2 * HOUR });
    expect(new X509Certificate(both.certPem).keyUsage?.sort()).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    expect(both.kind).toBe("server+client");
  });

  it("refuses a TTL above the maximum and bad names (INVALID_ARGUMENT)", async () => {
    await expectCode(issueCertificate(ks, { service: "svc", env: "prod", ttlSeconds: 721 * HOUR }), "INVALID_ARGUMENT");
    await expectCode(issueCertificate(ks, { service: "a/b", env: "prod" }), "INVALID_ARGUMENT");
    await expectCode(issueCertificate(ks, { service: "svc", env: "prod", dns: ["*.internal"] }), "INVALID_ARGUMENT");
    await expectCode(issueCertificate(ks, { service: "svc", env: "prod", ip: ["10.0.0"] }), "INVALID_ARGUMENT");
  });
});

describe("ca issue --csr", () => {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  async function csr(): Promise<{ pem: string; spki: Buffer }> {
    const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
    const req = await x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=ignored", keys, signingAlgorithm: alg });
    return { pem: req.toString("pem"), spki: Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey as webcrypto.CryptoKey)) };
  }

  it("certifies the CSR's key; names come from the options, not the CSR", async () => {
    const { pem, spki } = await csr();
    const { issued, dir } = await issueTo("csr", issueCertificate(ks, { service: "ingest", env: "dev", csrPem: pem }));
    expect(issued.keyPem).toBeNull();
    expect(readdirSync(dir).sort()).toEqual(["ca.pem", "cert.pem"]);
    const leaf = new X509Certificate(issued.certPem);
    expect(leaf.publicKey.export({ format: "der", type: "spki" }).equals(spki)).toBe(true);
    expect(leaf.subject).not.toMatch(/ignored/);
    expect(leaf.subjectAltName).toBe("URI:spiffe://acme.ml/dev/ingest");
    expect(opensslVerify(path.join(dir, "cert.pem")).ok).toBe(true);
  });

  it("refuses malformed CSRs and PEM, and a CSR whose signature does not verify (CERT_MALFORMED)", async () => {
    const { pem } = await csr();
    await expectCode(issueCertificate(ks, { service: "x", env: "dev", csrPem: "not a csr" }), "CERT_MALFORMED");
    await expectCode(
      issueCertificate(ks, { service: "x", env: "dev", csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n" }),
      "CERT_MALFORMED",
    );
    await expectCode(issueCertificate(ks, { service: "x", env: "dev", csrPem: readFileSync(rootFile, "utf8") }), "CERT_MALFORMED");
    const der = Buffer.from(x509.PemConverter.decodeFirst(pem));
    der[der.length - 3]! ^= 0x01; // inside the signature value
    await expectCode(issueCertificate(ks, { service: "x", env: "dev", csrPem: x509.PemConverter.encode(der, "CERTIFICATE REQUEST") }), "CERT_MALFORMED");
  });
});

describe("ca revoke and crl", () => {
  it("lists a revoked serial with its reason in a CRL openssl reads, and openssl then rejects the certificate", async () => {
    const { issued, dir } = await issueTo("victim", issueCertificate(ks, { service: "victim", env: "prod", client: true }));
    const rec = revokeCertificate(ks, issued.serial.replace(/(..)(?!$)/g, "$1:").toUpperCase(), { reason: "keyCompromise" });
    expect(rec.status).toBe("revoked");
    expect(listCertificates(ks).find((c) => c.serial === issued.serial)?.status).toBe("revoked");
    const crl = await createCrl(ks, { nextUpdateSeconds: 2 * HOUR });
    const crlFile = path.join(work, "crl.pem");
    writeFileSync(crlFile, crl.pem);
    const text = execFileSync("openssl", ["crl", "-in", crlFile, "-noout", "-text"], { encoding: "utf8" });
    expect(text).toContain(`Serial Number: ${issued.serial.toUpperCase()}`);
    expect(text).toMatch(/Key Compromise/);
    expect(text).toMatch(/CRL Number: \n\s+\d+/);
    execFileSync("openssl", ["crl", "-in", crlFile, "-noout", "-CAfile", issuingFile]); // signature verifies
    const checked = opensslVerify(path.join(dir, "cert.pem"), ["-crl_check", "-CRLfile", crlFile]);
    expect(checked.ok).toBe(false);
    expect(checked.out).toMatch(/revoked/);
    expect(crl.nextUpdate.getTime() - crl.thisUpdate.getTime()).toBe(2 * HOUR * 1000);
    expect((await createCrl(ks)).crlNumber).toBe(crl.crlNumber + 1);
  });

  it("refuses an unknown serial (CERT_NOT_FOUND), a bad reason and a double revoke", async () => {
    await expectCode(() => revokeCertificate(ks, "0123456789abcdef"), "CERT_NOT_FOUND");
    const i = await issueCertificate(ks, { service: "twice", env: "prod" });
    await expectCode(() => revokeCertificate(ks, i.serial, { reason: "because" as never }), "INVALID_ARGUMENT");
    revokeCertificate(ks, i.serial, { reason: "superseded" });
    await expectCode(() => revokeCertificate(ks, i.serial), "INVALID_ARGUMENT");
  });
});

describe("ca renew", () => {
  it("does nothing before 2/3 of the lifetime unless forced; then renews with a new key and serial, same identity", async () => {
    const { issued, dir } = await issueTo(
      "renew",
      issueCertificate(ks, { service: "registry", env: "prod", dns: ["registry.internal"], ttlSeconds: 3 * HOUR }),
    );
    const early = await renewCertificateDir(ks, dir);
    expect(early.renewed).toBe(false);
    expect(early.serial).toBe(issued.serial);
    expect(Math.abs(early.dueAt.getTime() - (issued.notBefore.getTime() + ((issued.notAfter.getTime() - issued.notBefore.getTime()) * 2) / 3))).toBeLessThan(2);

    const oldKey = readFileSync(path.join(dir, "key.pem"), "utf8");
    const due = await renewCertificateDir(ks, dir, { now: early.dueAt.getTime() + 1000 });
    expect(due).toMatchObject({ renewed: true, why: "due", previousSerial: issued.serial, identity: issued.identity });
    const leaf = new X509Certificate(readFileSync(path.join(dir, "cert.pem")));
    expect(leaf.serialNumber.toLowerCase()).toBe(due.serial);
    expect(leaf.subjectAltName).toBe("URI:spiffe://acme.ml/prod/registry, DNS:registry.internal");
    expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(Date.parse(leaf.validTo) - (early.dueAt.getTime() + 1000)).toBeLessThanOrEqual(3 * HOUR * 1000);
    expect(readFileSync(path.join(dir, "key.pem"), "utf8")).not.toBe(oldKey);
    expect(leaf.checkPrivateKey(createPrivateKey(readFileSync(path.join(dir, "key.pem"))))).toBe(true);
    expect(statSync(path.join(dir, "key.pem")).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(["ca.pem", "cert.pem", "key.pem"]);
    const list = listCertificates(ks);
    expect(list.find((c) => c.serial === issued.serial)).toMatchObject({ status: "superseded", replacedBy: due.serial });
    expect(list.find((c) => c.serial === due.serial)?.status).toBe("valid");

    const forced = await renewCertificateDir(ks, dir, { force: true });
    expect(forced).toMatchObject({ renewed: true, why: "forced", previousSerial: due.serial });
  });

  it("repairs a folder whose key does not match its certificate, and refuses revoked or foreign certificates", async () => {
    const { dir } = await issueTo("mismatch", issueCertificate(ks, { service: "mm", env: "prod" }));
    const other = await issueCertificate(ks, { service: "other", env: "prod" });
    writeFileSync(path.join(dir, "key.pem"), other.keyPem!, { mode: 0o600 });
    expect((await renewCertificateDir(ks, dir)).why).toBe("key-mismatch");

    const { issued, dir: rdir } = await issueTo("revoked", issueCertificate(ks, { service: "rv", env: "prod" }));
    revokeCertificate(ks, issued.serial, { reason: "keyCompromise" });
    await expectCode(renewCertificateDir(ks, rdir, { force: true }), "INVALID_ARGUMENT");

    const foreign = path.join(work, "foreign");
    await writeCertDir(foreign, { certPem: readFileSync(rootFile, "utf8"), caPem: readFileSync(rootFile, "utf8"), keyPem: null });
    await expectCode(renewCertificateDir(ks, foreign, { force: true }), "CERT_NOT_FOUND");
    await expectCode(renewCertificateDir(ks, path.join(work, "nowhere")), "CERT_NOT_FOUND");
    writeFileSync(path.join(foreign, "cert.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    await expectCode(renewCertificateDir(ks, foreign), "CERT_MALFORMED");
  });
});

describe("audit", () => {
  it("records ca.init/issue/renew/revoke/crl with serial and identity, every CA key use as an unwrap, and the chain verifies", () => {
    const records = ks.listAudit();
    const ops = new Set(records.map((r) => r.operation));
    for (const op of ["ca.init", "ca.issue", "ca.renew", "ca.revoke", "ca.crl"]) expect(ops.has(op), op).toBe(true);
    const issue = records.find((r) => r.operation === "ca.issue" && r.objectPath === "spiffe://acme.ml/prod/feature-store")!;
    expect(issue).toMatchObject({ keyName: CA_KEY_NAME, outcome: "ok", principal: "tester" });
    expect(JSON.parse(issue.context!).serial).toMatch(/^[0-9a-f]{32}$/);
    const renew = records.find((r) => r.operation === "ca.renew")!;
    expect(JSON.parse(renew.context!)).toHaveProperty("previousSerial");
    const revoke = records.find((r) => r.operation === "ca.revoke" && r.outcome === "ok")!;
    expect(JSON.parse(revoke.context!)).toMatchObject({ reason: "keyCompromise" });
    expect(records.some((r) => r.operation === "ca.revoke" && r.outcome === "denied" && r.errorCode === "CERT_NOT_FOUND")).toBe(true);
    const unwraps = records.filter((r) => r.operation === "decrypt" && r.objectPath === "pki:ca/issuing");
    expect(unwraps.length).toBeGreaterThanOrEqual(records.filter((r) => r.operation === "ca.issue" || r.operation === "ca.renew").length);
    expect(ks.verifyAudit()).toMatchObject({ ok: true, problems: [] });
  });

  it("refuses capability audit names that would forge keystore operations", () => {
    expect(() => ks.auditedChange({ operation: "key.destroy" }, () => undefined)).toThrow(/dotted name/);
    expect(() => ks.auditedChange({ operation: "decrypt" }, () => undefined)).toThrow(/dotted name/);
  });
});
