/**
 * The relying party's CRL check (src/pki/crl) with the real CA (root → issuing CA → leaf):
 * a CRL is used only when a trusted CA signed it; a certificate is matched to the CRL of the
 * CA that issued it, then by serial; a stale CRL refuses (or, by choice, warns); an older CRL
 * cannot replace a newer one. Then the same through createMtlsServer over real TLS, with an
 * injected clock for expiry.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createCrl, initCa, issueCertificate, revokeCertificate, writeCertDir } from "../../src/pki/ca/index.js";
import { CrlSource, RevocationList, trustedCrlIssuers } from "../../src/pki/crl/index.js";
import { type PeerRejectedEvent, createMtlsDispatcher, createMtlsServer, mtlsFetch } from "../../src/pki/mtls/index.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";

const DAY = 86_400_000;
const TD = "acme.ml";

async function caWithCerts() {
  const { ks } = await freshKeystore([]);
  await initCa(ks, { trustDomain: TD });
  const work = tempDir();
  const dirs: Record<string, string> = {};
  for (const [name, opts] of [
    ["server", { service: "keys", env: "prod", ip: ["127.0.0.1"] }],
    ["good", { service: "trainer", env: "prod", client: true }],
    ["bad", { service: "trainer", env: "prod", client: true }],
  ] as const) {
    dirs[name] = path.join(work, name);
    await writeCertDir(dirs[name]!, await issueCertificate(ks, opts));
  }
  const leaf = (n: string) => new X509Certificate(readFileSync(path.join(dirs[n]!, "cert.pem")));
  const trusted = trustedCrlIssuers(readFileSync(path.join(dirs.server!, "ca.pem")), readFileSync(path.join(dirs.server!, "cert.pem")));
  return { ks, work, dirs, leaf, trusted };
}

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe("RevocationList", async () => {
  const a = await caWithCerts();
  revokeCertificate(a.ks, a.leaf("bad").serialNumber, { reason: "keyCompromise" });
  const crl = await createCrl(a.ks, { nextUpdateSeconds: 3600 });
  const now = Date.now();

  it("trusts the root and the issuing CA of the server's own chain, and verifies the CA's CRL", () => {
    expect(a.trusted.map((c) => c.ca)).toEqual([true, true]);
    const list = RevocationList.fromPem(crl.pem, { trusted: a.trusted, now });
    expect(list.size).toBe(1);
    expect(list.crls[0]!.crlNumber).toBe(crl.crlNumber);
    expect(list.check(a.leaf("good"), now)).toEqual({ ok: true });
    expect(list.check(a.leaf("bad"), now)).toMatchObject({
      ok: false,
      reason: "revoked",
      serial: a.leaf("bad").serialNumber.toLowerCase(),
      revocationReason: "keyCompromise",
    });
  });

  it("refuses a CRL from another CA — same names, other keys — and a tampered one, as CRL_INVALID", async () => {
    const b = await caWithCerts();
    const foreign = await createCrl(b.ks);
    expect(code(() => RevocationList.fromPem(foreign.pem, { trusted: a.trusted, now }))).toBe("CRL_INVALID");
    // change the revoked serial inside the signed part (un-revoking "bad"): the signature no longer verifies
    const der = Buffer.from(crl.pem.replace(/-----[^-]+-----/g, "").replace(/\s/g, ""), "base64");
    const at = der.indexOf(Buffer.from(a.leaf("bad").serialNumber, "hex"));
    expect(at).toBeGreaterThan(0);
    der[at + 3] ^= 0x01;
    const tampered = `-----BEGIN X509 CRL-----\n${der.toString("base64")}\n-----END X509 CRL-----\n`;
    expect(() => RevocationList.fromPem(tampered, { trusted: a.trusted, now })).toThrow(/signature does not verify/);
    expect(code(() => RevocationList.fromPem(tampered, { trusted: a.trusted, now }))).toBe("CRL_INVALID");
    expect(code(() => RevocationList.fromPem("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", { trusted: a.trusted, now }))).toBe("CERT_MALFORMED");
    // a certificate of a CA with no CRL here is refused, never taken as "not revoked"
    const list = RevocationList.fromPem(crl.pem, { trusted: a.trusted, now });
    expect(list.check(b.leaf("good"), now)).toMatchObject({ ok: false, reason: "crl-missing" });
  });

  it("a CRL past its nextUpdate refuses every certificate of its CA, or with warn is used and flagged", () => {
    const list = RevocationList.fromPem(crl.pem, { trusted: a.trusted, now });
    const later = now + DAY;
    expect(list.check(a.leaf("good"), later)).toMatchObject({ ok: false, reason: "crl-expired", nextUpdate: crl.nextUpdate });
    expect(list.check(a.leaf("good"), later, "warn")).toMatchObject({ ok: true, expired: { nextUpdate: crl.nextUpdate } });
    expect(list.check(a.leaf("bad"), later, "warn")).toMatchObject({ ok: false, reason: "revoked" });
    // loading one that is already stale is a configuration error under refuse
    const file = path.join(a.work, "stale.pem");
    writeFileSync(file, crl.pem);
    expect(code(() => new CrlSource({ file, trusted: () => a.trusted, now: () => later }))).toBe("CRL_INVALID");
    expect(new CrlSource({ file, trusted: () => a.trusted, now: () => later, onExpired: "warn" }).list.size).toBe(1);
  });

  it("an older CRL (lower cRLNumber) cannot replace the one in use", async () => {
    const file = path.join(a.work, "crl.pem");
    const newer = await createCrl(a.ks);
    writeFileSync(file, newer.pem);
    const src = new CrlSource({ file, trusted: () => a.trusted });
    expect(code(() => src.set(crl.pem))).toBe("CRL_INVALID");
    expect(src.list.crls[0]!.crlNumber).toBe(newer.crlNumber);
    const newest = await createCrl(a.ks);
    expect(src.set(newest.pem).crls[0]!.crlNumber).toBe(newest.crlNumber);
  });
});

describe("createMtlsServer with crlFile over real TLS", async () => {
  const a = await caWithCerts();
  revokeCertificate(a.ks, a.leaf("bad").serialNumber);
  const file = path.join(a.work, "served-crl.pem");
  writeFileSync(file, (await createCrl(a.ks, { nextUpdateSeconds: 3600 })).pem);

  async function serve(clock: { now: number }, crlExpired?: "refuse" | "warn") {
    const events: PeerRejectedEvent[] = [];
    const stale: unknown[] = [];
    const srv = createMtlsServer(
      { certDir: a.dirs.server!, allow: [`spiffe://${TD}/*/*`], crlFile: file, now: () => clock.now, ...(crlExpired ? { crlExpired } : {}) },
      (_req, res, peer) => res.end(peer.spiffeId),
    );
    srv.on("peerRejected", (e) => events.push(e));
    srv.on("crlExpired", (e) => stale.push(e));
    const { port } = await srv.listen();
    return { srv, url: `https://127.0.0.1:${port}/`, events, stale };
  }
  const client = (name: string) => createMtlsDispatcher({ certDir: a.dirs[name]!, expect: [`spiffe://${TD}/prod/keys`] });

  it("closes a revoked client's connection without an answer and reports why; a good client is served", async () => {
    const { srv, url, events } = await serve({ now: Date.now() });
    const [good, bad] = [client("good"), client("bad")];
    try {
      expect(await (await mtlsFetch(good, url)).text()).toBe(`spiffe://${TD}/prod/trainer`);
      await expect(mtlsFetch(bad, url)).rejects.toMatchObject({ code: "TLS_CONNECT_FAILED", reason: "closed-by-peer" });
      expect(events).toMatchObject([{ reason: "revoked", identity: `spiffe://${TD}/prod/trainer`, serialNumber: a.leaf("bad").serialNumber.toLowerCase() }]);
    } finally {
      await good.close();
      await bad.close();
      await srv.close();
    }
  });

  it("a CRL that goes stale while serving: refuse (default) turns every client away with a crlExpired event; warn keeps serving", async () => {
    const clock = { now: Date.now() };
    const refusing = await serve(clock);
    const warning = await serve(clock, "warn");
    const good = client("good");
    try {
      clock.now += 2 * 3600_000;
      await expect(mtlsFetch(good, refusing.url)).rejects.toMatchObject({ code: "TLS_CONNECT_FAILED" });
      expect(refusing.events.map((e) => e.reason)).toEqual(["crl-expired"]);
      expect(refusing.stale).toMatchObject([{ refusing: true, file }]);
      expect((await mtlsFetch(good, warning.url)).status).toBe(200);
      expect(warning.stale).toMatchObject([{ refusing: false }]);
    } finally {
      await good.close();
      await refusing.srv.close();
      await warning.srv.close();
    }
  });
});
