/**
 * Test certificates made with @peculiar/x509 (real ECDSA P-256 keys and real X.509), for
 * TLS tests that need a CA and leaves with chosen lifetimes, names and identities.
 */
import { webcrypto } from "node:crypto";
import { x509 } from "../../src/pki/x509.js";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface TestCert {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  certPem: string;
  keyPem: string;
}

async function keyPem(keys: CryptoKeyPair): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey as webcrypto.CryptoKey);
  return x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
}

const HOUR = 3600_000;

export async function makeCa(name = "test CA", validity: { notBefore?: Date; notAfter?: Date } = {}): Promise<TestCert> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: webcrypto.getRandomValues(new Uint8Array(8)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "01"),
    name: `CN=${name}`,
    notBefore: validity.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: validity.notAfter ?? new Date(Date.now() + 24 * HOUR),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, certPem: cert.toString("pem"), keyPem: await keyPem(keys) };
}

export interface LeafOptions {
  spiffe?: string;
  dns?: string[];
  ip?: string[];
  client?: boolean;
  server?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  cn?: string;
}

export async function issueLeaf(ca: TestCert, o: LeafOptions = {}): Promise<TestCert> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const names: x509.JsonGeneralName[] = [
    ...(o.spiffe ? [{ type: "url" as const, value: o.spiffe }] : []),
    ...(o.dns ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(o.ip ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const usages = [...(o.server !== false ? [x509.ExtendedKeyUsage.serverAuth] : []), ...(o.client ? [x509.ExtendedKeyUsage.clientAuth] : [])];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: webcrypto.getRandomValues(new Uint8Array(8)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "02"),
    subject: `CN=${o.cn ?? o.dns?.[0] ?? "leaf"}`,
    issuer: ca.cert.subject,
    notBefore: o.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: o.notAfter ?? new Date(Date.now() + HOUR),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { cert, keys, certPem: cert.toString("pem"), keyPem: await keyPem(keys) };
}
