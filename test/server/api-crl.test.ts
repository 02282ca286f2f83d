/**
 * Revoked client certificates and the key service (issue 22, item 5), over real mTLS with
 * the real CA: `ca revoke` + `ca crl -o` + `tls.crl` → a revoked trainer certificate gets no
 * answer while another certificate still works; a revocation after start is picked up from
 * the rewritten file without a restart (open connections of the revoked peer are closed); a
 * CRL of another CA is a configuration error; an older CRL put back is refused.
 */
import { X509Certificate, randomBytes } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openKeystore } from "../../src/keys/index.js";
import { createCrl, issueCertificate, revokeCertificate, writeCertDir } from "../../src/pki/ca/index.js";
import { createMtlsDispatcher } from "../../src/pki/mtls/dispatcher.js";
import { parseConfig } from "../../src/server/config.js";
import { startKeyService } from "../../src/server/server.js";
import { type Harness, TD, runCli, startHarness } from "./api-harness.js";

const serialOf = (certDir: string) => new X509Certificate(readFileSync(path.join(certDir, "cert.pem"))).serialNumber.toLowerCase();
const config = (extra: string) =>
  `listen: { host: 127.0.0.1, port: 0 }\ncertDir: certs/server\nallow: ["${TD}/*/*"]\nkeyringId: ks:test\nstore: { kind: sqlite, home: ks }\npolicy: policy.yaml\n${extra}`;

/** What the client sees when the server closes the connection without a word (no status line, no 403). */
const NO_ANSWER = { code: "TLS_CONNECT_FAILED", message: expect.stringMatching(/did not answer.*UND_ERR_SOCKET|closed the connection/) };

let h: Harness;
let revokedDir: string;
const log: string[] = [];

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; log:\n${log.join("\n")}`);
}

beforeAll(async () => {
  h = await startHarness({
    config: config("tls: { crl: crl.pem }\n"),
    log: (line) => log.push(line),
    // before the service starts: a second prod trainer certificate, revoked, and the CRL
    beforeStart: async (dir) => {
      const ks = await openKeystore(path.join(dir, "ks"), { principal: "ops" });
      try {
        const c = await issueCertificate(ks, { service: "trainer", env: "prod", client: true, ttlSeconds: 3600 });
        revokedDir = path.join(dir, "certs", "revoked-trainer");
        await writeCertDir(revokedDir, c);
        revokeCertificate(ks, serialOf(revokedDir), { reason: "keyCompromise" });
        writeFileSync(path.join(dir, "crl.pem"), (await createCrl(ks)).pem);
      } finally {
        ks.close();
      }
    },
  });
});
afterAll(async () => h?.close());

describe("tls.crl on the key service", () => {
  it("a revoked client certificate gets no answer (closed before its request is read) while another one still works; the refusal is logged with the reason", async () => {
    const e = await h.keyring("trainer").wrap("prod/datasets/raw", randomBytes(32), { dataset: "raw" });
    // the same identity (prod/trainer), the revoked certificate: no unwrap, no HTTP answer at all
    const revoked = h.keyring("trainer", { certDir: revokedDir, retry: { attempts: 1 } });
    await expect(revoked.unwrap(e, { dataset: "raw" }, { operation: "decrypt" })).rejects.toMatchObject(NO_ANSWER);
    const d = createMtlsDispatcher({ certDir: revokedDir, expect: [`${TD}/*/*`] });
    try {
      // not even a 403: the socket is closed, no status line is ever sent
      await expect(request(`${h.svc.url}/healthz`, { dispatcher: d })).rejects.toThrow();
    } finally {
      await d.close();
    }
    expect(await h.keyring("trainer").unwrap(e, { dataset: "raw" }, { operation: "decrypt" })).toHaveLength(32);
    const serial = serialOf(revokedDir);
    await until("the refusal log line", () => log.some((l) => l.includes("refused a client (revoked)") && l.includes(serial)));
    const line = log.find((l) => l.includes(serial))!;
    expect(line).toContain(`${TD}/prod/trainer`);
    expect(line).toMatch(/keyCompromise/);
    // nothing of the revoked caller reached the audit: it never got past the gate
    expect((await h.svc.store.listAudit()).filter((r) => r.principal === `${TD}/prod/trainer` && r.operation === "decrypt").map((r) => r.outcome)).toEqual([
      "ok",
    ]);
  });

  it("a revocation after start: `ca revoke` says what to regenerate, `ca crl -o` rewrites the file, the service reloads it without a restart and closes the revoked peer's open connection", async () => {
    const dev = h.keyring("devTrainer", { retry: { attempts: 1 } });
    expect((await dev.listKeys()).length).toBeGreaterThan(0); // a keep-alive connection is now open
    const before = path.join(h.dir, "crl-before.pem");
    copyFileSync(path.join(h.dir, "crl.pem"), before);
    const home = ["--home", path.join(h.dir, "ks")];
    const rev = await runCli([...home, "ca", "revoke", serialOf(h.certs.devTrainer), "--reason", "privilegeWithdrawn"], { PIPESEAL_PRINCIPAL: "ops" });
    expect(rev.stderr).toBe("");
    expect(rev.status).toBe(0);
    expect(rev.stdout.toString()).toMatch(/pipeseal ca crl -o <file>/);
    expect(rev.stdout.toString()).toMatch(/tls\.crl .* reload it within 10 s/);
    // revoked in the registry only: the service still answers until the CRL is rewritten
    expect((await dev.listKeys()).length).toBeGreaterThan(0);
    const reloads = log.filter((l) => l.startsWith("CRL reloaded")).length;
    const crl = await runCli([...home, "ca", "crl", "-o", path.join(h.dir, "crl.pem")], { PIPESEAL_PRINCIPAL: "ops" });
    expect(crl.status).toBe(0);
    expect(crl.stdout.toString()).toMatch(/key services with tls\.crl and gateways with --crl pointing at it reload it within 10 s/);
    await until("the CRL reload", () => log.filter((l) => l.startsWith("CRL reloaded")).length > reloads);
    await expect(dev.listKeys()).rejects.toMatchObject({ code: expect.stringMatching(/TLS_CONNECT_FAILED|UNAVAILABLE/) });
    await expect(h.keyring("devTrainer", { retry: { attempts: 1 } }).listKeys()).rejects.toMatchObject(NO_ANSWER);
    expect((await h.keyring("trainer").listKeys()).length).toBeGreaterThan(0);

    // putting yesterday's CRL back (which does not list devTrainer) is refused: the newer one stays
    const refusals = log.filter((l) => l.includes("reload refused")).length;
    copyFileSync(before, path.join(h.dir, "crl.pem"));
    await until("the refused rollback", () => log.filter((l) => l.includes("reload refused")).length > refusals);
    expect(log.filter((l) => l.includes("reload refused")).at(-1)).toMatch(/older than the CRL in use.*\[CRL_INVALID\]/);
    await expect(h.keyring("devTrainer", { retry: { attempts: 1 } }).listKeys()).rejects.toMatchObject(NO_ANSWER);
  });

  it("a CRL signed by another CA is a configuration error: the service does not start (library and CLI)", async () => {
    const other = await openKeystore(path.join(h.dir, "other"), { principal: "ops" });
    try {
      writeFileSync(path.join(h.dir, "foreign-crl.pem"), (await createCrl(other)).pem);
    } finally {
      other.close();
    }
    const cfg = config("tls: { crl: foreign-crl.pem }\n").replace("home: ks", "home: ks-unused");
    await expect(startKeyService(parseConfig(cfg, h.dir))).rejects.toMatchObject({
      code: "CRL_INVALID",
      message: expect.stringMatching(/signature does not verify|not a CA this server trusts/),
    });
    writeFileSync(path.join(h.dir, "foreign.yaml"), cfg);
    const r = await runCli(["serve", "--config", path.join(h.dir, "foreign.yaml")]);
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/^pipeseal: .*foreign-crl\.pem.* \[CRL_INVALID\]\n$/);
  });

  it("tls.crl is checked when the config is read: unknown fields and bad values are refused", () => {
    expect(() => parseConfig(config("tls: { crl: crl.pem, nope: 1 }\n"), h.dir)).toThrow(/keyservice\.yaml:\d+:\d+: tls\.nope: unknown key "nope"/);
    expect(() => parseConfig(config("tls: { crl: crl.pem, crlExpired: sometimes }\n"), h.dir)).toThrow(/tls\.crlExpired: must be one of refuse, warn/);
    expect(parseConfig(config("tls: { crl: crl.pem, crlExpired: warn }\n"), h.dir)).toMatchObject({ crlFile: path.join(h.dir, "crl.pem"), crlExpired: "warn" });
    expect(parseConfig(config(""), h.dir)).toMatchObject({ crlFile: undefined });
  });
});
