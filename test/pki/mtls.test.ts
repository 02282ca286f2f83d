/**
 * mTLS over real TLS on 127.0.0.1: the success path and every refusal, seen from both
 * sides (the client's TransitError and the server's peerRejected event).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MtlsServer, type PeerRejectedEvent, TransitError, createMtlsDispatcher, createMtlsServer, mtlsFetch, spkiPin } from "../../src/pki/mtls/index.js";
import { x509 } from "../../src/pki/x509.js";
import { type LeafOptions, type TestCert, issueLeaf, makeCa } from "../helpers/certs.js";
import type { Server as HttpsServer } from "node:https";

const HOUR = 3600_000;
const SERVER_ID = "spiffe://acme/prod/feature-store";
const TRAINER = "spiffe://acme/prod/trainer";

let tmp: string;
let ca: TestCert;
let otherCa: TestCert;
let serverLeaf: TestCert;
let trainer: TestCert;
let revoked: TestCert;
let revokedServer: TestCert;
let crlPem: string;

function certDir(name: string, leaf: TestCert, root: TestCert = ca): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "cert.pem"), `${leaf.certPem}\n${root.certPem}\n`);
  writeFileSync(join(d, "key.pem"), leaf.keyPem);
  writeFileSync(join(d, "ca.pem"), ca.certPem);
  return d;
}

async function client(o: LeafOptions, issuer: TestCert = ca): Promise<TestCert> {
  return issueLeaf(issuer, { client: true, server: false, ...o });
}

/** Starts a server, returns it, its URL and the refusals it reported. */
async function serve(extra: Record<string, unknown> = {}, leaf: TestCert = serverLeaf) {
  const events: PeerRejectedEvent[] = [];
  const srv = createMtlsServer(
    { certDir: certDir(`srv-${Math.random().toString(36).slice(2)}`, leaf), allow: [TRAINER, "spiffe://acme/staging/*"], ...extra } as never,
    (req, res, peer) => res.end(JSON.stringify({ peer: peer.spiffeId, service: peer.identity.service, serial: peer.serialNumber, url: req.url })),
  ) as MtlsServer<HttpsServer>;
  srv.on("peerRejected", (e) => events.push(e));
  const { port } = await srv.listen(0, "127.0.0.1");
  return { srv, url: `https://127.0.0.1:${port}/x`, events };
}

async function rejection(p: Promise<unknown>): Promise<TransitError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TransitError);
    return e as TransitError;
  }
  throw new Error("expected a TransitError, the request succeeded");
}

async function firstEvent(events: PeerRejectedEvent[]): Promise<PeerRejectedEvent> {
  for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(events.length).toBeGreaterThan(0);
  return events[0]!;
}

function dispatcherFor(leaf: TestCert, extra: Record<string, unknown> = {}) {
  return createMtlsDispatcher({ cert: `${leaf.certPem}\n${ca.certPem}`, key: leaf.keyPem, ca: ca.certPem, expect: [SERVER_ID], ...extra } as never);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "pipeseal-mtls-"));
  ca = await makeCa("acme test root");
  otherCa = await makeCa("someone else");
  serverLeaf = await issueLeaf(ca, { spiffe: SERVER_ID, dns: ["localhost"], ip: ["127.0.0.1"] });
  trainer = await client({ spiffe: TRAINER });
  revoked = await client({ spiffe: TRAINER });
  revokedServer = await issueLeaf(ca, { spiffe: SERVER_ID, ip: ["127.0.0.1"] });
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subject,
    thisUpdate: new Date(Date.now() - HOUR),
    nextUpdate: new Date(Date.now() + HOUR),
    entries: [
      { serialNumber: revokedServer.cert.serialNumber },
      { serialNumber: revoked.cert.serialNumber, revocationDate: new Date(Date.now() - 60_000), reason: x509.X509CrlReason.keyCompromise },
    ],
    signingKey: ca.keys.privateKey,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  crlPem = crl.toString("pem");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("mTLS server and dispatcher", () => {
  it("connects with valid certificates and hands the handler the peer identity", async () => {
    const { srv, url, events } = await serve();
    const d = dispatcherFor(trainer);
    try {
      const res = await mtlsFetch(d, url);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { peer: string; service: string; serial: string };
      expect(body.peer).toBe(TRAINER);
      expect(body.service).toBe("trainer");
      expect(body.serial).toBe(trainer.cert.serialNumber.toUpperCase());
      expect(events).toEqual([]);
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it("refuses a client without a certificate", async () => {
    const { srv, url, events } = await serve();
    const d = new Agent({ connect: { ca: ca.certPem, minVersion: "TLSv1.3" } });
    try {
      // the server's certificate_required alert reaches OpenSSL, but undici reports the
      // close first; the client learns "closed by the server", the server log has the reason
      const e = await rejection(mtlsFetch(d, url));
      expect(e.code).toBe("TLS_CONNECT_FAILED");
      expect(e.reason).toBe("closed-by-peer");
      expect(e.message).toMatch(/refuses our certificate/);
      expect((await firstEvent(events)).reason).toBe("no-certificate");
    } finally {
      await d.close();
      await srv.close();
    }
  });

  // A node TLS server refuses a bad client certificate by closing right after the TLS 1.3
  // handshake, without an alert: the server event has the precise reason; the client can
  // name it when it is about its own certificate's dates, and otherwise says "closed".
  const badClients: [string, () => Promise<TestCert>, "CERT_REJECTED" | "TLS_CONNECT_FAILED", string, string][] = [
    [
      "an expired",
      () => client({ spiffe: TRAINER, notBefore: new Date(Date.now() - 3 * HOUR), notAfter: new Date(Date.now() - HOUR) }),
      "CERT_REJECTED",
      "expired",
      "expired",
    ],
    [
      "a not-yet-valid",
      () => client({ spiffe: TRAINER, notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 2 * HOUR) }),
      "CERT_REJECTED",
      "not-yet-valid",
      "not-yet-valid",
    ],
    ["another CA's", () => client({ spiffe: TRAINER }, otherCa), "TLS_CONNECT_FAILED", "closed-by-peer", "unknown-ca"],
  ];
  for (const [what, make, code, clientReason, serverReason] of badClients) {
    it(`refuses ${what} client certificate`, async () => {
      const leaf = await make();
      const { srv, url, events } = await serve();
      const d = dispatcherFor(leaf);
      try {
        const e = await rejection(mtlsFetch(d, url));
        expect(e.code).toBe(code);
        expect(e.reason).toBe(clientReason);
        expect(e.rejectedBy).toBe("remote");
        expect(await firstEvent(events)).toMatchObject({ reason: serverReason, remoteAddress: "127.0.0.1" });
      } finally {
        await d.close();
        await srv.close();
      }
    });
  }

  const badServers: [string, () => Promise<TestCert>, string, Record<string, unknown>][] = [
    [
      "an expired",
      () => issueLeaf(ca, { spiffe: SERVER_ID, ip: ["127.0.0.1"], notBefore: new Date(Date.now() - 3 * HOUR), notAfter: new Date(Date.now() - HOUR) }),
      "expired",
      {},
    ],
    [
      "a not-yet-valid",
      () => issueLeaf(ca, { spiffe: SERVER_ID, ip: ["127.0.0.1"], notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 2 * HOUR) }),
      "not-yet-valid",
      {},
    ],
    ["another CA's", () => issueLeaf(otherCa, { spiffe: SERVER_ID, ip: ["127.0.0.1"] }), "unknown-ca", {}],
    ["a revoked", async () => revokedServer, "revoked", { crl: "CRL" }],
  ];
  for (const [what, make, reason, extra] of badServers) {
    it(`client refuses ${what} server certificate`, async () => {
      const { srv, url } = await serve({}, await make());
      const d = dispatcherFor(trainer, extra.crl ? { crl: crlPem } : {});
      try {
        const e = await rejection(mtlsFetch(d, url));
        expect(e.code).toBe("CERT_REJECTED");
        expect(e.reason).toBe(reason);
        expect(e.rejectedBy).toBe("local");
      } finally {
        await d.close();
        await srv.close();
      }
    });
  }

  it("refuses a revoked client certificate (CRL) and still admits others", async () => {
    const { srv, url, events } = await serve({ crl: crlPem });
    const bad = dispatcherFor(revoked);
    const good = dispatcherFor(trainer);
    try {
      const e = await rejection(mtlsFetch(bad, url));
      expect(e.code).toBe("TLS_CONNECT_FAILED");
      expect(e.reason).toBe("closed-by-peer");
      expect((await firstEvent(events)).reason).toBe("revoked");
      expect((await mtlsFetch(good, url)).status).toBe(200);
    } finally {
      await bad.close();
      await good.close();
      await srv.close();
    }
  });

  it("refuses a client identity not on the allow-list, before reading its request", async () => {
    const { srv, url, events } = await serve();
    let handled = 0;
    srv.server.prependListener("request", () => handled++);
    const leaf = await client({ spiffe: "spiffe://acme/prod/intruder" });
    const d = dispatcherFor(leaf);
    try {
      const e = await rejection(mtlsFetch(d, url));
      expect(e.code).toBe("CERT_REJECTED");
      expect(e.reason).toBe("identity-not-allowed");
      expect(e.rejectedBy).toBe("remote");
      const ev = await firstEvent(events);
      expect(ev).toMatchObject({ reason: "identity-not-allowed", identity: "spiffe://acme/prod/intruder", remoteAddress: "127.0.0.1" });
      expect(handled).toBe(0);
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it("admits wildcard identities", async () => {
    const { srv, url } = await serve();
    const d = dispatcherFor(await client({ spiffe: "spiffe://acme/staging/anything" }));
    try {
      expect((await mtlsFetch(d, url)).status).toBe(200);
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it("refuses a server whose name does not match the URL", async () => {
    const wrongName = await issueLeaf(ca, { spiffe: SERVER_ID, dns: ["other.internal"] });
    const { srv, url, events } = await serve({}, wrongName);
    const d = dispatcherFor(trainer);
    try {
      const e = await rejection(mtlsFetch(d, url));
      expect(e.code).toBe("CERT_REJECTED");
      expect(e.reason).toBe("hostname-mismatch");
      expect(e.rejectedBy).toBe("local");
      expect(e.message).toMatch(/127\.0\.0\.1/);
      expect((await firstEvent(events)).reason).toBe("closed-by-peer");
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it("refuses a server whose identity the client does not expect", async () => {
    const { srv, url } = await serve();
    const d = dispatcherFor(trainer, { expect: ["spiffe://acme/prod/registry"] });
    try {
      const e = await rejection(mtlsFetch(d, url));
      expect(e.code).toBe("CERT_REJECTED");
      expect(e.reason).toBe("identity-not-allowed");
      expect(e.rejectedBy).toBe("local");
      expect(e.message).toContain(SERVER_ID);
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it("refuses a client forced to TLS 1.2 against a TLS 1.3-only server", async () => {
    const { srv, url, events } = await serve();
    const d = new Agent({ connect: { cert: trainer.certPem, key: trainer.keyPem, ca: ca.certPem, maxVersion: "TLSv1.2" } });
    try {
      const e = await rejection(mtlsFetch(d, url));
      expect(e.code).toBe("TLS_CONNECT_FAILED");
      expect(e.reason).toBe("protocol-version");
      expect((await firstEvent(events)).reason).toBe("protocol-version");
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it("accepts TLS 1.2 when the server allows it", async () => {
    const { srv, url } = await serve({ minVersion: "TLSv1.2" });
    const d = new Agent({ connect: { cert: trainer.certPem, key: trainer.keyPem, ca: ca.certPem, maxVersion: "TLSv1.2" } });
    try {
      expect((await mtlsFetch(d, url)).status).toBe(200);
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it("checks pins on both sides", async () => {
    const stranger = await issueLeaf(ca, { spiffe: SERVER_ID, ip: ["127.0.0.1"] });
    const { srv, url, events } = await serve({ pin: { caSha256: [new (await import("node:crypto")).X509Certificate(otherCa.certPem).fingerprint256] } });
    const good = dispatcherFor(trainer, {
      pin: { spkiSha256: [spkiPin(serverLeaf.certPem)], caSha256: [new (await import("node:crypto")).X509Certificate(ca.certPem).fingerprint256] },
    });
    const bad = dispatcherFor(trainer, { pin: { spkiSha256: [`sha256//${spkiPin(stranger.certPem)}`] } });
    try {
      // the client's pins match, but the server pins a CA this client is not from
      const e1 = await rejection(mtlsFetch(good, url));
      expect(e1.reason).toBe("identity-not-allowed");
      expect(e1.rejectedBy).toBe("remote");
      expect((await firstEvent(events)).reason).toBe("pin-mismatch");
      const e2 = await rejection(mtlsFetch(bad, url));
      expect(e2.code).toBe("CERT_REJECTED");
      expect(e2.reason).toBe("pin-mismatch");
      expect(e2.rejectedBy).toBe("local");
    } finally {
      await good.close();
      await bad.close();
      await srv.close();
    }
    const { srv: srv2, url: url2 } = await serve({ pin: { caSha256: [new (await import("node:crypto")).X509Certificate(ca.certPem).fingerprint256] } });
    const good2 = dispatcherFor(trainer, { pin: { spkiSha256: [spkiPin(serverLeaf.certPem)] } });
    try {
      expect((await mtlsFetch(good2, url2)).status).toBe(200);
    } finally {
      await good2.close();
      await srv2.close();
    }
  });
});
