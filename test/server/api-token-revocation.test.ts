/**
 * A bearer token dies with the certificate it was minted over (tls.crl), over real mTLS with the
 * real CA: before the revocation the token works with another certificate of the same identity
 * and with no certificate at all; once `ca revoke` + `ca crl -o` reach the service, it is refused
 * both ways (401 UNAUTHENTICATED, "revoked"), while a token minted over a certificate that was not
 * revoked still works. The attack: a stolen token outliving the revocation of its certificate.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Agent, type Dispatcher, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openKeystore } from "../../src/keys/index.js";
import { createCrl, issueCertificate, writeCertDir } from "../../src/pki/ca/index.js";
import { createMtlsDispatcher } from "../../src/pki/mtls/dispatcher.js";
import { type Harness, TD, runCli, startHarness } from "./api-harness.js";

const serialOf = (certDir: string) => new X509Certificate(readFileSync(path.join(certDir, "cert.pem"))).serialNumber.toLowerCase();

let h: Harness;
let mintDir: string;
let bare: Agent;
let other: Dispatcher;
const log: string[] = [];

beforeAll(async () => {
  h = await startHarness({
    config: `listen: { host: 127.0.0.1, port: 0 }\ncertDir: certs/server\nallow: ["${TD}/*/*"]\nkeyringId: ks:test\nstore: { kind: sqlite, home: ks }\npolicy: policy.yaml\ntokensWithoutCertificate: true\ntls: { crl: crl.pem }\n`,
    log: (line) => log.push(line),
    // a second prod/trainer certificate, the one tokens are minted over, and a CRL that does not list it yet
    beforeStart: async (dir) => {
      const ks = await openKeystore(path.join(dir, "ks"), { principal: "ops" });
      try {
        mintDir = path.join(dir, "certs", "minting-trainer");
        await writeCertDir(mintDir, await issueCertificate(ks, { service: "trainer", env: "prod", client: true, ttlSeconds: 3600 }));
        writeFileSync(path.join(dir, "crl.pem"), (await createCrl(ks)).pem);
      } finally {
        ks.close();
      }
    },
  });
  bare = new Agent({ connect: { ca: readFileSync(path.join(h.certs.trainer, "ca.pem")), rejectUnauthorized: true } });
  other = createMtlsDispatcher({ certDir: h.certs.trainer, expect: [`${TD}/*/*`] }); // the same identity, another certificate
});
afterAll(async () => {
  await bare?.close();
  await other?.close();
  await h?.close();
});

async function listKeys(token: string, dispatcher: Dispatcher): Promise<{ status: number; body: Record<string, any> }> {
  const res = await request(`${h.svc.url}/v1/keys`, { dispatcher, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
}

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; log:\n${log.join("\n")}`);
}

describe("a bearer token and the revocation of the certificate it was minted over", () => {
  it("works before the revocation, is refused after it with any certificate or none; tokens of other certificates still work", async () => {
    const { token } = await h.keyring("trainer", { certDir: mintDir }).mintToken({ ttlSeconds: 600 });
    const { token: control } = await h.keyring("trainer").mintToken({ ttlSeconds: 600 });
    expect((await listKeys(token, other)).status).toBe(200);
    expect((await listKeys(token, bare)).status).toBe(200);

    const reloads = log.filter((l) => l.startsWith("CRL reloaded")).length;
    const home = ["--home", path.join(h.dir, "ks")];
    expect((await runCli([...home, "ca", "revoke", serialOf(mintDir), "--reason", "keyCompromise"], { PIPESEAL_PRINCIPAL: "ops" })).status).toBe(0);
    expect((await runCli([...home, "ca", "crl", "-o", path.join(h.dir, "crl.pem")], { PIPESEAL_PRINCIPAL: "ops" })).status).toBe(0);
    await until("the CRL reload", () => log.filter((l) => l.startsWith("CRL reloaded")).length > reloads);

    for (const dispatcher of [other, bare]) {
      expect(await listKeys(token, dispatcher)).toMatchObject({
        status: 401,
        body: { error: { code: "UNAUTHENTICATED", message: "bearer token refused: minted over a certificate that is now revoked" } },
      });
      expect((await listKeys(control, dispatcher)).status).toBe(200);
    }
    // the refused token reached nothing: no record names its use
    const after = (await h.svc.store.listAudit()).filter((r) => r.operation === "key.list").length;
    await listKeys(token, other);
    expect((await h.svc.store.listAudit()).filter((r) => r.operation === "key.list").length).toBe(after);
  });

  it("a token whose certificate field was edited does not verify (the field is under the MAC)", async () => {
    const { token } = await h.keyring("trainer").mintToken({ ttlSeconds: 600 });
    const [prefix, payload, sig] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    expect(claims.cs).toBe(serialOf(h.certs.trainer).replace(/^0+(?=..)/, ""));
    const edited = Buffer.from(JSON.stringify({ ...claims, cs: "01" })).toString("base64url");
    expect(await listKeys(`${prefix}.${edited}.${sig}`, other)).toMatchObject({
      status: 401,
      body: { error: { message: expect.stringMatching(/signature/) } },
    });
    const dropped = Buffer.from(JSON.stringify({ ...claims, cs: undefined })).toString("base64url");
    expect((await listKeys(`${prefix}.${dropped}.${sig}`, other)).status).toBe(401);
  });
});
