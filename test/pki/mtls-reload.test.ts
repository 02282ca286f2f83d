/**
 * Certificate renewal without a restart: files replaced by rename under a running server
 * (keep-alive connection keeps working, new connections get the new certificate) and under
 * a reloading client dispatcher.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { Agent as HttpsAgent, type Server as HttpsServer, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MtlsServer, createMtlsServer, createReloadingMtlsDispatcher, mtlsFetch } from "../../src/pki/mtls/index.js";
import { type TestCert, issueLeaf, makeCa } from "../helpers/certs.js";

const SERVER_ID = "spiffe://acme/prod/feature-store";
const TRAINER = "spiffe://acme/prod/trainer";
let tmp: string;
let ca: TestCert;

function writeDir(dir: string, leaf: TestCert): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "cert.pem"), `${leaf.certPem}\n${ca.certPem}\n`);
  writeFileSync(join(dir, "key.pem"), leaf.keyPem);
  writeFileSync(join(dir, "ca.pem"), ca.certPem);
}

/** Renewal the way the CA does it: each file written aside, then renamed into place. */
function renew(dir: string, leaf: TestCert): void {
  writeFileSync(join(dir, ".cert.pem.tmp"), `${leaf.certPem}\n${ca.certPem}\n`);
  writeFileSync(join(dir, ".key.pem.tmp"), leaf.keyPem);
  renameSync(join(dir, ".cert.pem.tmp"), join(dir, "cert.pem"));
  renameSync(join(dir, ".key.pem.tmp"), join(dir, "key.pem"));
}

const hex = (c: TestCert) => c.cert.serialNumber.toUpperCase();

function get(agent: HttpsAgent, port: number, path = "/"): Promise<{ serverSerial: string; socket: TLSSocket; reused: boolean; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      // read the socket now: a keep-alive agent takes it back once the body ends
      const socket = res.socket as TLSSocket;
      const serverSerial = socket.getPeerCertificate().serialNumber;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ serverSerial, socket, reused: req.reusedSocket, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "pipeseal-mtls-reload-"));
  ca = await makeCa("acme reload root");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("certificate reload", () => {
  it("server: renewal by rename reaches new connections while a keep-alive connection keeps working", async () => {
    const dir = join(tmp, "server");
    const s1 = await issueLeaf(ca, { spiffe: SERVER_ID, ip: ["127.0.0.1"] });
    const s2 = await issueLeaf(ca, { spiffe: SERVER_ID, ip: ["127.0.0.1"] });
    const trainer = await issueLeaf(ca, { spiffe: TRAINER, client: true, server: false });
    writeDir(dir, s1);
    const srv: MtlsServer<HttpsServer> = createMtlsServer(
      { certDir: dir, allow: [TRAINER], watch: { pollIntervalMs: 200, debounceMs: 50 } },
      (_req, res, peer) => res.end(peer.spiffeId),
    );
    const reloaded: string[] = [];
    srv.on("certReloaded", (e) => reloaded.push(e.serialNumber));
    const { port } = await srv.listen();
    const tlsOpts = { cert: trainer.certPem, key: trainer.keyPem, ca: ca.certPem };
    const kept = new HttpsAgent({ ...tlsOpts, keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(kept, port);
      expect(first.serverSerial).toBe(hex(s1));
      expect(first.body).toBe(TRAINER);

      // requests keep flowing over the kept connection across the renewal
      let stop = false;
      let ok = 0;
      const failures: unknown[] = [];
      const traffic = (async () => {
        while (!stop) {
          try {
            const r = await get(kept, port);
            if (r.socket !== first.socket) failures.push(new Error("keep-alive connection was replaced"));
            ok++;
          } catch (e) {
            failures.push(e);
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      renew(dir, s2);
      for (let i = 0; i < 100 && !reloaded.includes(hex(s2)); i++) await new Promise((r) => setTimeout(r, 20));
      expect(reloaded).toContain(hex(s2));
      await new Promise((r) => setTimeout(r, 100));
      stop = true;
      await traffic;
      expect(failures).toEqual([]);
      expect(ok).toBeGreaterThan(5);

      const old = await get(kept, port);
      expect(old.reused).toBe(true);
      expect(old.socket).toBe(first.socket);
      expect(old.serverSerial).toBe(hex(s1)); // the open connection keeps its handshake

      const fresh = new HttpsAgent({ ...tlsOpts, keepAlive: false });
      const next = await get(fresh, port);
      expect(next.serverSerial).toBe(hex(s2));
      fresh.destroy();
    } finally {
      kept.destroy();
      await srv.close();
    }
  });

  it("server: a half-written renewal is not taken; the old certificate keeps serving", async () => {
    const dir = join(tmp, "server-bad");
    const s1 = await issueLeaf(ca, { spiffe: SERVER_ID, ip: ["127.0.0.1"] });
    const trainer = await issueLeaf(ca, { spiffe: TRAINER, client: true, server: false });
    writeDir(dir, s1);
    const srv = createMtlsServer({ certDir: dir, allow: [TRAINER], watch: { pollIntervalMs: 100, debounceMs: 20 } }, (_q, res) => res.end("ok"));
    const errors: string[] = [];
    srv.on("reloadError", (e) => errors.push(e.code));
    const { port } = await srv.listen();
    try {
      writeFileSync(join(dir, ".cert.pem.tmp"), "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
      renameSync(join(dir, ".cert.pem.tmp"), join(dir, "cert.pem"));
      for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(errors[0]).toBe("CERT_MALFORMED");
      const agent = new HttpsAgent({ cert: trainer.certPem, key: trainer.keyPem, ca: ca.certPem });
      expect((await get(agent, port)).serverSerial).toBe(hex(s1));
      agent.destroy();
    } finally {
      await srv.close();
    }
  });

  it("client: the reloading dispatcher presents the renewed certificate; a request in flight completes", async () => {
    const srvDir = join(tmp, "server-c");
    const cliDir = join(tmp, "client");
    writeDir(srvDir, await issueLeaf(ca, { spiffe: SERVER_ID, ip: ["127.0.0.1"] }));
    const c1 = await issueLeaf(ca, { spiffe: TRAINER, client: true, server: false });
    const c2 = await issueLeaf(ca, { spiffe: TRAINER, client: true, server: false });
    writeDir(cliDir, c1);
    const srv = createMtlsServer({ certDir: srvDir, allow: [TRAINER] }, (req, res, peer) => {
      setTimeout(() => res.end(peer.serialNumber), req.url === "/slow" ? 400 : 0);
    });
    const { port } = await srv.listen();
    const reloaded: string[] = [];
    const d = createReloadingMtlsDispatcher({
      certDir: cliDir,
      expect: [SERVER_ID],
      watch: { pollIntervalMs: 200, debounceMs: 50 },
      onReload: (e) => reloaded.push(e.serialNumber),
    });
    const url = `https://127.0.0.1:${port}`;
    try {
      expect(await (await mtlsFetch(d, `${url}/`)).text()).toBe(hex(c1));
      const slow = mtlsFetch(d, `${url}/slow`);
      await new Promise((r) => setTimeout(r, 50));
      renew(cliDir, c2);
      for (let i = 0; i < 100 && !reloaded.includes(hex(c2)); i++) await new Promise((r) => setTimeout(r, 20));
      expect(reloaded).toContain(hex(c2));
      expect(await (await mtlsFetch(d, `${url}/`)).text()).toBe(hex(c2));
      const inFlight = await slow;
      expect(inFlight.status).toBe(200);
      expect(await inFlight.text()).toBe(hex(c1));
    } finally {
      await d.close();
      await srv.close();
    }
  });
});
