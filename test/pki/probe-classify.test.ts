/**
 * The probe's reading of handshake outcomes and its findings, as pure functions: the branches a
 * loopback server on this machine cannot produce (a client that will not offer TLS 1.0, a silent
 * TLS 1.3 server, a weak key) are covered here.
 */
import { describe, expect, it } from "vitest";
import { classifyVersion, inferClientAuth } from "../../src/pki/probe/classify.js";
import type { HandshakeOutcome } from "../../src/pki/probe/handshake.js";
import { assessFindings } from "../../src/pki/probe/index.js";
import type { Observations } from "../../src/pki/probe/findings.js";
import type { CertificateInfo } from "../../src/pki/probe/types.js";

const CIPHERS = "DEFAULT@SECLEVEL=0";

function outcome(o: Partial<HandshakeOutcome>): HandshakeOutcome {
  return {
    connected: true,
    secure: false,
    bytesWritten: 300,
    bytesRead: 7,
    protocol: null,
    cipher: null,
    ephemeralKey: null,
    alpn: null,
    authorized: null,
    chain: [],
    leaf: null,
    timedOut: false,
    ...o,
  };
}
const err = (code: string, phase: "connect" | "handshake" | "read" = "handshake") => ({ code, reason: code, phase });

describe("classifyVersion", () => {
  it("says not-testable, never refused, when this client sent no ClientHello", () => {
    expect(classifyVersion("TLSv1", outcome({ bytesWritten: 0, bytesRead: 0, error: err("ERR_SSL_NO_PROTOCOLS_AVAILABLE") }), CIPHERS)).toMatchObject({
      result: "not-testable",
      detail: expect.stringContaining(`OpenSSL ${process.versions.openssl}`),
    });
    expect(classifyVersion("TLSv1.1", outcome({ bytesWritten: 0, error: err("ERR_SSL_INTERNAL_ERROR") }), CIPHERS).result).toBe("not-testable");
    // the server answered, but this client refused what it sent (not an alert from the server)
    expect(classifyVersion("TLSv1", outcome({ error: err("ERR_SSL_DH_KEY_TOO_SMALL") }), CIPHERS).result).toBe("not-testable");
  });

  it("says refused for a protocol_version alert, another version, or a dropped connection", () => {
    for (const code of [
      "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
      "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
      "ERR_SSL_UNSUPPORTED_PROTOCOL",
      "ECONNRESET",
      "ECONNCLOSED",
    ]) {
      expect(classifyVersion("TLSv1.2", outcome({ error: err(code) }), CIPHERS).result, code).toBe("refused");
    }
  });

  it("says accepted when the handshake finished, or the server sent its certificate under that version before failing", () => {
    expect(
      classifyVersion("TLSv1.3", outcome({ secure: true, cipher: { name: "TLS_AES_128_GCM_SHA256", standardName: "TLS_AES_128_GCM_SHA256" } }), CIPHERS),
    ).toEqual({ version: "TLSv1.3", result: "accepted", cipher: "TLS_AES_128_GCM_SHA256" });
    expect(classifyVersion("TLSv1.2", outcome({ chain: [Buffer.from("x")], error: err("ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE") }), CIPHERS).result).toBe(
      "accepted",
    );
  });

  it("says no-answer when nothing connected or nothing came back in time", () => {
    expect(classifyVersion("TLSv1.2", outcome({ connected: false, error: err("ECONNREFUSED", "connect") }), CIPHERS).result).toBe("no-answer");
    expect(classifyVersion("TLSv1.2", outcome({ bytesRead: 0, timedOut: true }), CIPHERS).result).toBe("no-answer");
  });
});

describe("inferClientAuth", () => {
  it("reads certificate_required (TLS 1.3) and handshake_failure after the server certificate (TLS 1.2) as required", () => {
    expect(inferClientAuth(outcome({ secure: true, protocol: "TLSv1.3", error: err("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "read") })).required).toBe(
      true,
    );
    expect(inferClientAuth(outcome({ chain: [Buffer.from("x")], error: err("ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE") })).required).toBe(true);
    // handshake_failure before any certificate is a cipher or version mismatch, not a client-certificate demand
    expect(inferClientAuth(outcome({ error: err("ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE") })).required).toBeNull();
  });

  it("reads an answer, a finished TLS 1.2 handshake, or TLS 1.3 silence as not required; a bare close as unknown", () => {
    expect(inferClientAuth(outcome({ secure: true, protocol: "TLSv1.3", reply: "data", firstLine: "HTTP/1.1 200 OK" })).evidence).toContain("HTTP/1.1 200 OK");
    expect(inferClientAuth(outcome({ secure: true, protocol: "TLSv1.2", reply: "closed" })).required).toBe(false);
    expect(inferClientAuth(outcome({ secure: true, protocol: "TLSv1.3", reply: "silent" }), undefined, 2000)).toMatchObject({
      required: false,
      evidence: expect.stringContaining("2000 ms"),
    });
    expect(inferClientAuth(outcome({ secure: true, protocol: "TLSv1.3", reply: "closed" })).required).toBeNull();
  });

  it("counts a connection dropped right after an mTLS handshake as a failed mTLS attempt", () => {
    const bare = outcome({ secure: true, protocol: "TLSv1.3", error: err("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "read") });
    expect(inferClientAuth(bare, outcome({ secure: true, protocol: "TLSv1.3", reply: "closed" })).withCertificate).toMatchObject({ ok: false });
    expect(inferClientAuth(bare, outcome({ secure: true, protocol: "TLSv1.3", reply: "data" })).withCertificate).toEqual({
      ok: true,
      protocol: "TLSv1.3",
      cipher: null,
    });
  });
});

describe("assessFindings", () => {
  const now = "2026-01-10T00:00:00.000Z";
  const leaf = (o: Partial<CertificateInfo>): CertificateInfo => ({
    subject: "CN=x",
    issuer: "CN=ca",
    serial: "01",
    notBefore: "2026-01-09T12:00:00.000Z",
    notAfter: "2026-01-10T12:00:00.000Z",
    daysLeft: 0,
    secondsLeft: 43200,
    lifetimeHours: 24,
    shortLived: true,
    sans: [],
    spiffeIds: [],
    key: { type: "ec", bits: 256, curve: "prime256v1" },
    signatureAlgorithm: "ECDSA with SHA-256",
    selfSigned: false,
    isCa: false,
    sha256: "00",
    ...o,
  });
  const report = (o: Partial<Observations>): Observations => ({
    target: { host: "127.0.0.1", port: 1, address: "127.0.0.1", servername: null, checkedName: "127.0.0.1" },
    probedAt: now,
    handshake: {
      ok: true,
      protocol: "TLSv1.3",
      cipher: "TLS_AES_256_GCM_SHA384",
      cipherStandardName: "TLS_AES_256_GCM_SHA384",
      ephemeralKey: null,
      alpn: null,
    },
    protocols: [
      { version: "TLSv1", result: "refused" },
      { version: "TLSv1.1", result: "refused" },
      { version: "TLSv1.2", result: "accepted" },
      { version: "TLSv1.3", result: "accepted" },
    ],
    chain: [leaf({})],
    validation: { trustStore: "ca.pem", trusted: true, name: { checked: "127.0.0.1", matches: true } },
    clientAuth: { required: true, evidence: "alert" },
    plaintext: { tested: true, httpStatusLine: null },
    ...o,
  });
  const ids = (o: Partial<Observations>, expectMtls = false) => assessFindings(report(o), expectMtls).map((f) => `${f.severity}:${f.id}`);

  it("finds nothing in a healthy short-lived mTLS endpoint", () => {
    expect(ids({})).toEqual([]);
  });

  it("rates legacy versions, weak keys and signatures high; an untested version is info, never a pass or a fail", () => {
    expect(
      ids({
        protocols: [
          { version: "TLSv1", result: "accepted" },
          { version: "TLSv1.1", result: "not-testable", detail: "no" },
          { version: "TLSv1.2", result: "accepted" },
          { version: "TLSv1.3", result: "accepted" },
        ],
      }),
    ).toEqual(["high:tls-legacy-accepted", "info:tls-version-untested"]);
    expect(ids({ chain: [leaf({ key: { type: "rsa", bits: 1024 }, signatureAlgorithm: "RSASSA-PKCS1-v1_5 with SHA-1" })] })).toEqual([
      "high:cert-weak-key",
      "high:cert-weak-signature",
    ]);
    expect(
      ids({ handshake: { ok: true, protocol: "TLSv1.2", cipher: "AES256-GCM-SHA384", cipherStandardName: null, ephemeralKey: null, alpn: null } }),
    ).toEqual(["medium:tls-no-forward-secrecy"]);
  });

  it("flags expiry: overdue renewal of a short-lived certificate, a long-lived one about to expire, and a long lifetime", () => {
    expect(ids({ chain: [leaf({ secondsLeft: 3600 })] })).toEqual(["medium:cert-renewal-overdue"]);
    const year = { notBefore: "2025-01-20T00:00:00.000Z", notAfter: "2026-01-13T00:00:00.000Z", lifetimeHours: 358 * 24, shortLived: false };
    expect(ids({ chain: [leaf({ ...year, daysLeft: 3, secondsLeft: 3 * 86400 })] })).toEqual(["medium:cert-expires-soon", "low:cert-long-lived"]);
    expect(ids({ chain: [leaf({ daysLeft: -1, secondsLeft: -60 })] })).toEqual(["high:cert-expired"]);
  });

  it("rates a missing client-certificate requirement by --expect-mtls", () => {
    const open = { clientAuth: { required: false, evidence: "answered" } };
    expect(ids(open)).toEqual(["info:client-cert-not-required"]);
    expect(ids(open, true)).toEqual(["medium:client-cert-not-required"]);
  });
});
