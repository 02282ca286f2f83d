/**
 * Bad input gives typed errors; error-code mapping; the http2 flavour and the framework
 * parts (fastify serverFactory / verifyPeer) over real TLS.
 */
import { connect as h2connect } from "node:http2";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipesealError } from "../../src/errors.js";
import { TransitError, createMtlsDispatcher, createMtlsServer, mtlsFetch, mtlsServerOptions, peerOf, toTransitError } from "../../src/pki/mtls/index.js";
import { type TestCert, issueLeaf, makeCa } from "../helpers/certs.js";

const SERVER_ID = "spiffe://acme/prod/feature-store";
const TRAINER = "spiffe://acme/prod/trainer";
let tmp: string;
let ca: TestCert;
let srvLeaf: TestCert;
let trainer: TestCert;
let pem: { cert: string; key: string; ca: string };

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PipesealError);
    return (e as PipesealError).code;
  }
  throw new Error("did not throw");
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "pipeseal-mtls-input-"));
  ca = await makeCa();
  srvLeaf = await issueLeaf(ca, { spiffe: SERVER_ID, ip: ["127.0.0.1"] });
  trainer = await issueLeaf(ca, { spiffe: TRAINER, client: true, server: false });
  pem = { cert: srvLeaf.certPem, key: srvLeaf.keyPem, ca: ca.certPem };
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("bad input", () => {
  const allow = [TRAINER];
  it("malformed PEM is CERT_MALFORMED on both sides", () => {
    const garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n";
    expect(code(() => createMtlsServer({ ...pem, cert: garbage, allow }))).toBe("CERT_MALFORMED");
    expect(code(() => createMtlsServer({ ...pem, cert: "hello", allow }))).toBe("CERT_MALFORMED");
    expect(code(() => createMtlsServer({ ...pem, key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", allow }))).toBe("CERT_MALFORMED");
    expect(code(() => createMtlsServer({ ...pem, key: trainer.keyPem, allow }))).toBe("CERT_MALFORMED"); // key of another cert
    expect(code(() => createMtlsServer({ ...pem, ca: "nope", allow }))).toBe("CERT_MALFORMED");
    // two blocks glued without a newline: node's parser forgives it, OpenSSL does not
    expect(code(() => createMtlsServer({ ...pem, cert: srvLeaf.certPem.trimEnd() + ca.certPem, allow }))).toBe("CERT_MALFORMED");
    expect(code(() => createMtlsServer({ ...pem, allow, crl: "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n" }))).toBe("CERT_MALFORMED");
    expect(code(() => createMtlsDispatcher({ cert: garbage, key: trainer.keyPem, ca: ca.certPem, expect: [SERVER_ID] }))).toBe("CERT_MALFORMED");
  });

  it("a missing cert dir is CERT_NOT_FOUND", () => {
    expect(code(() => createMtlsServer({ certDir: join(tmp, "nowhere"), allow }))).toBe("CERT_NOT_FOUND");
  });

  it("a protocol floor below TLS 1.2 is INVALID_ARGUMENT", () => {
    for (const v of ["TLSv1.1", "TLSv1", "SSLv3", "tls1.3"]) {
      expect(code(() => createMtlsServer({ ...pem, allow, minVersion: v as never }))).toBe("INVALID_ARGUMENT");
      expect(code(() => createMtlsDispatcher({ ...pem, expect: [SERVER_ID], minVersion: v as never }))).toBe("INVALID_ARGUMENT");
    }
  });

  it("bad allow-lists and pins are INVALID_ARGUMENT", () => {
    expect(code(() => createMtlsServer({ ...pem, allow: [] }))).toBe("INVALID_ARGUMENT");
    expect(code(() => createMtlsServer({ ...pem, allow: ["spiffe://acme/prod"] }))).toBe("INVALID_ARGUMENT");
    expect(code(() => createMtlsServer({ ...pem, allow: ["spiffe://*/prod/x"] }))).toBe("INVALID_ARGUMENT");
    expect(code(() => createMtlsServer({ ...pem, allow: ["https://acme/prod/x"] }))).toBe("INVALID_ARGUMENT");
    expect(code(() => createMtlsServer({ ...pem, allow, pin: { caSha256: ["abcd"] } }))).toBe("INVALID_ARGUMENT");
    expect(code(() => createMtlsDispatcher({ ...pem, expect: [SERVER_ID], pin: { spkiSha256: ["c2hvcnQ="] } }))).toBe("INVALID_ARGUMENT");
    expect(code(() => createMtlsDispatcher({ ...pem, expect: "spiffe://acme/prod/x" as never }))).toBe("INVALID_ARGUMENT");
  });
});

describe("error mapping", () => {
  const cases: [string, string, string, string][] = [
    ["CERT_HAS_EXPIRED", "CERT_REJECTED", "expired", "local"],
    ["CERT_NOT_YET_VALID", "CERT_REJECTED", "not-yet-valid", "local"],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "CERT_REJECTED", "unknown-ca", "local"],
    ["SELF_SIGNED_CERT_IN_CHAIN", "CERT_REJECTED", "unknown-ca", "local"],
    ["CERT_REVOKED", "CERT_REJECTED", "revoked", "local"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "CERT_REJECTED", "hostname-mismatch", "local"],
    ["ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED", "CERT_REJECTED", "expired", "remote"],
    ["ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "CERT_REJECTED", "unknown-ca", "remote"],
    ["ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "CERT_REJECTED", "no-certificate", "remote"],
    ["ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION", "TLS_CONNECT_FAILED", "protocol-version", "remote"],
    ["ERR_SSL_UNSUPPORTED_PROTOCOL", "TLS_CONNECT_FAILED", "protocol-version", "local"],
    ["UND_ERR_SOCKET", "TLS_CONNECT_FAILED", "closed-by-peer", "remote"],
    ["ECONNREFUSED", "TLS_CONNECT_FAILED", "handshake-failed", "local"],
  ];
  for (const [nodeCode, c, reason, by] of cases) {
    it(`${nodeCode} → ${c}/${reason}`, () => {
      const inner = Object.assign(new Error("x"), { code: nodeCode });
      const e = toTransitError(new TypeError("fetch failed", { cause: inner })) as TransitError;
      expect(e).toBeInstanceOf(TransitError);
      expect([e.code, e.reason, e.rejectedBy]).toEqual([c, reason, by]);
      expect(e.cause).toBeInstanceOf(TypeError);
    });
  }
  it("passes a PipesealError on the cause chain through", () => {
    const p = new PipesealError("CERT_REJECTED", "mine");
    expect(toTransitError(new TypeError("fetch failed", { cause: p }))).toBe(p);
  });
});

describe("http2 and framework parts", () => {
  it("http2: the handler gets the peer identity", async () => {
    const srv = createMtlsServer({ ...pem, allow: [TRAINER], http2: true }, (_req, res, peer) => res.end(peer.spiffeId));
    const { port } = await srv.listen();
    const session = h2connect(`https://127.0.0.1:${port}`, { cert: trainer.certPem, key: trainer.keyPem, ca: ca.certPem });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const s = session.request({ ":path": "/" });
        let out = "";
        s.setEncoding("utf8");
        s.on("data", (c: string) => (out += c));
        s.on("end", () => resolve(out));
        s.on("error", reject);
      });
      expect(body).toBe(TRAINER);
    } finally {
      session.close();
      await srv.close();
    }
  });

  it("serverFactory: refused peers never reach the framework's handler; peerOf gives the identity", async () => {
    const dir = join(tmp, "fw");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "cert.pem"), `${srvLeaf.certPem}\n${ca.certPem}\n`);
    writeFileSync(join(dir, "key.pem"), srvLeaf.keyPem);
    writeFileSync(join(dir, "ca.pem"), ca.certPem);
    const parts = mtlsServerOptions({ certDir: dir, allow: [TRAINER] });
    expect(parts.https).toMatchObject({ requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.3" });
    let calls = 0;
    // what fastify does with serverFactory: hands over its router as a plain (req, res) handler
    const server = parts.serverFactory((req: IncomingMessage, res: ServerResponse) => {
      calls++;
      const v = parts.verifyPeer(req.socket as TLSSocket);
      res.end(`${peerOf(req)?.spiffeId}|${v.ok}`);
    });
    const rejected: string[] = [];
    parts.mtls()!.on("peerRejected", (e) => rejected.push(e.reason));
    const { port } = await parts.mtls()!.listen();
    const good = createMtlsDispatcher({ cert: `${trainer.certPem}\n${ca.certPem}`, key: trainer.keyPem, ca: ca.certPem, expect: [SERVER_ID] });
    const stranger = await issueLeaf(ca, { spiffe: "spiffe://acme/dev/notebook", client: true, server: false });
    const bad = createMtlsDispatcher({ cert: stranger.certPem, key: stranger.keyPem, ca: ca.certPem, expect: [SERVER_ID] });
    try {
      expect(await (await mtlsFetch(good, `https://127.0.0.1:${port}/`)).text()).toBe(`${TRAINER}|true`);
      const e = await mtlsFetch(bad, `https://127.0.0.1:${port}/`).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(TransitError);
      expect((e as TransitError).reason).toBe("identity-not-allowed");
      expect(rejected).toEqual(["identity-not-allowed"]);
      expect(calls).toBe(1);
      expect(server.listening).toBe(true);
    } finally {
      await good.close();
      await bad.close();
      await parts.mtls()!.close();
    }
  });
});
