/**
 * The TLS probe against real servers started here on 127.0.0.1 with known settings: the library
 * report, then the built CLI (`node dist/cli/main.js tls probe … --json`). No mocks.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPipesealError } from "../../src/errors.js";
import { createMtlsServer } from "../../src/pki/mtls/index.js";
import { probeTls, type ProbeReport } from "../../src/pki/probe/index.js";
import { issueLeaf, makeCa, type TestCert } from "../helpers/certs.js";
import { tempDir } from "../helpers/keystore.js";
import { CLI } from "../cli/run-cli.js";
import { spawn } from "node:child_process";

const DAY = 86_400_000;
const dir = tempDir("pipeseal-probe-");
const file = (name: string) => path.join(dir, name);
const servers: { close(): void }[] = [];
let ca: TestCert;
let server: TestCert;

/** An https server answering every request with 200, on 127.0.0.1 and a free port. */
async function serve(options: https.ServerOptions, cert: TestCert = server): Promise<number> {
  const s = https.createServer({ key: cert.keyPem, cert: cert.certPem, ...options }, (_req, res) => res.end("ok"));
  s.on("tlsClientError", () => {});
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  servers.push({ close: () => (s.closeAllConnections(), s.close()) });
  return (s.address() as net.AddressInfo).port;
}

function writeCertDir(name: string, cert: TestCert): string {
  mkdirSync(file(name), { recursive: true });
  writeFileSync(path.join(file(name), "cert.pem"), cert.certPem);
  writeFileSync(path.join(file(name), "key.pem"), cert.keyPem);
  return file(name);
}

async function failure(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isPipesealError(e), String(e)).toBe(true);
  return (e as { code: string }).code;
}

const version = (r: ProbeReport, v: string) => r.protocols.find((p) => p.version === v)!.result;
const ids = (r: ProbeReport) => r.findings.map((f) => f.id);
const severityOf = (r: ProbeReport, id: string) => r.findings.find((f) => f.id === id)?.severity;

beforeAll(async () => {
  ca = await makeCa("probe test CA");
  server = await issueLeaf(ca, { dns: ["localhost"], ip: ["127.0.0.1"], spiffe: "spiffe://acme/prod/feature-store" });
  writeFileSync(file("ca.pem"), ca.certPem);
  writeCertDir("client", await issueLeaf(ca, { spiffe: "spiffe://acme/prod/trainer", client: true, server: false }));
  writeCertDir("intruder", await issueLeaf(ca, { spiffe: "spiffe://acme/dev/intruder", client: true, server: false }));
  writeCertDir("stranger", await issueLeaf(await makeCa("another CA"), { spiffe: "spiffe://acme/prod/trainer", client: true }));
});
afterAll(() => servers.forEach((s) => s.close()));

describe("probeTls against real servers", () => {
  it("TLS 1.2 only: 1.2 accepted, 1.3 refused, chain and names as sent, trusted with --ca, no client certificate needed", async () => {
    const port = await serve({ maxVersion: "TLSv1.2" });
    const r = await probeTls(`https://127.0.0.1:${port}`, { ca: file("ca.pem") });
    expect(r.handshake).toMatchObject({ ok: true, protocol: "TLSv1.2" });
    expect(r.handshake.cipher).toMatch(/^ECDHE-ECDSA-/);
    expect(version(r, "TLSv1.2")).toBe("accepted");
    expect(version(r, "TLSv1.3")).toBe("refused");
    expect(r.chain).toHaveLength(1); // the server sends only its leaf; the root is not "as presented"
    const leaf = r.chain[0]!;
    expect(leaf.serial.toLowerCase()).toBe(server.cert.serialNumber.toLowerCase());
    expect(leaf.sans).toEqual(
      expect.arrayContaining([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
        { type: "uri", value: "spiffe://acme/prod/feature-store" },
      ]),
    );
    expect(leaf.spiffeIds).toEqual(["spiffe://acme/prod/feature-store"]);
    expect(leaf.key).toEqual({ type: "ec", bits: 256, curve: "prime256v1" });
    expect(leaf.signatureAlgorithm).toBe("ECDSA with SHA-256");
    expect(leaf).toMatchObject({ selfSigned: false, shortLived: true, lifetimeHours: 2, daysLeft: 0 });
    expect(r.validation).toMatchObject({ trusted: true, name: { checked: "127.0.0.1", matches: true } });
    expect(r.clientAuth.required).toBe(false);
    expect(ids(r)).toContain("tls13-not-supported");
    expect(severityOf(r, "client-cert-not-required")).toBe("info");
    expect(r.findings.filter((f) => f.severity === "high")).toEqual([]);
  });

  it("TLS 1.3 only: 1.2 refused, 1.3 accepted; untrusted against the system store; --servername mismatch; --expect-mtls raises severity", async () => {
    const port = await serve({ minVersion: "TLSv1.3" });
    const r = await probeTls(`127.0.0.1:${port}`, { servername: "other.example", expectMtls: true });
    expect(r.handshake.protocol).toBe("TLSv1.3");
    expect(r.handshake.cipherStandardName).toMatch(/^TLS_/);
    expect(r.protocols.map((p) => p.result)).toEqual(["refused", "refused", "refused", "accepted"]);
    expect(r.target.servername).toBe("other.example");
    expect(r.validation.trusted).toBe(false);
    expect(r.validation.name).toMatchObject({ checked: "other.example", matches: false });
    expect(ids(r)).toEqual(expect.arrayContaining(["cert-untrusted", "cert-name-mismatch"]));
    expect(r.clientAuth.required).toBe(false);
    expect(severityOf(r, "client-cert-not-required")).toBe("medium");
  });

  it("TLS 1.0/1.1 at SECLEVEL=0: reported accepted when this OpenSSL can do it, else not testable (never 'refused' by assumption)", async () => {
    const port = await serve({ minVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0" });
    const r = await probeTls(`127.0.0.1:${port}`, { ca: file("ca.pem") });
    for (const v of ["TLSv1", "TLSv1.1"] as const) {
      // a control handshake straight from node:tls says what this machine can do
      const control = await new Promise<boolean>((resolve) => {
        const s = tls.connect(
          { host: "127.0.0.1", port, minVersion: v, maxVersion: v, ciphers: "DEFAULT@SECLEVEL=0", rejectUnauthorized: false },
          () => (s.destroy(), resolve(true)),
        );
        s.on("error", () => resolve(false));
      });
      const p = r.protocols.find((x) => x.version === v)!;
      if (control) {
        expect(p.result).toBe("accepted");
        expect(r.findings).toContainEqual(expect.objectContaining({ id: "tls-legacy-accepted", severity: "high", message: expect.stringContaining(v) }));
      } else {
        expect(p.result).toBe("not-testable");
        expect(r.findings).toContainEqual(expect.objectContaining({ id: "tls-version-untested", message: expect.stringContaining(v) }));
      }
    }
    expect(version(r, "TLSv1.2")).toBe("accepted");
    expect(version(r, "TLSv1.3")).toBe("accepted");
  });

  it("mTLS required under TLS 1.3: certificate_required seen after the handshake; with --cert mTLS succeeds; a stranger's certificate fails", async () => {
    const port = await serve({ ca: ca.certPem, requestCert: true, rejectUnauthorized: true });
    const bare = await probeTls(`127.0.0.1:${port}`, { ca: file("ca.pem"), expectMtls: true });
    expect(bare.clientAuth.required).toBe(true);
    expect(bare.clientAuth.evidence).toContain("certificate_required");
    expect(bare.validation.trusted).toBe(true); // the TLS 1.3 handshake finished before the alert
    expect(ids(bare)).not.toContain("client-cert-not-required");
    const withCert = await probeTls(`127.0.0.1:${port}`, { ca: file("ca.pem"), certDir: file("client") });
    expect(withCert.clientAuth).toMatchObject({ required: true, withCertificate: { ok: true, protocol: "TLSv1.3" } });
    const stranger = await probeTls(`127.0.0.1:${port}`, { ca: file("ca.pem"), certDir: file("stranger") });
    expect(stranger.clientAuth.withCertificate?.ok).toBe(false);
    expect(severityOf(stranger, "mtls-failed")).toBe("high");
  });

  it("mTLS required under TLS 1.2: handshake_failure after the server certificate; validation needs --cert", async () => {
    const port = await serve({ ca: ca.certPem, requestCert: true, rejectUnauthorized: true, maxVersion: "TLSv1.2" });
    const bare = await probeTls(`127.0.0.1:${port}`, { ca: file("ca.pem") });
    expect(bare.clientAuth.required).toBe(true);
    expect(version(bare, "TLSv1.2")).toBe("accepted"); // the server negotiated it, then refused us for the certificate
    expect(bare.chain[0]!.serial.toLowerCase()).toBe(server.cert.serialNumber.toLowerCase());
    expect(bare.validation.trusted).toBeNull();
    const withCert = await probeTls(`127.0.0.1:${port}`, { ca: file("ca.pem"), certDir: file("client") });
    expect(withCert.validation.trusted).toBe(true);
    expect(withCert.clientAuth.withCertificate).toMatchObject({ ok: true, protocol: "TLSv1.2" });
  });

  it("pipeseal's own createMtlsServer: required; an allowed identity succeeds; one off the allow-list is reported refused (403 CERT_REJECTED)", async () => {
    const srv = createMtlsServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, allow: ["spiffe://acme/prod/trainer"] }, (_q, res) =>
      res.end("ok"),
    );
    const { port } = await srv.listen(0, "127.0.0.1");
    servers.push({ close: () => void srv.close() });
    const ok = await probeTls(`127.0.0.1:${port}`, { ca: file("ca.pem"), certDir: file("client"), expectMtls: true });
    expect(ok.clientAuth).toMatchObject({ required: true, withCertificate: { ok: true, protocol: "TLSv1.3" } });
    expect(ok.protocols.map((p) => p.result)).toEqual(["refused", "refused", "refused", "accepted"]);
    expect(ok.findings.filter((f) => f.severity !== "info")).toEqual([]);
    const intruder = await probeTls(`127.0.0.1:${port}`, { ca: file("ca.pem"), certDir: file("intruder") });
    expect(intruder.clientAuth.withCertificate).toMatchObject({ ok: false, error: expect.stringContaining("CERT_REJECTED") });
  });

  it("self-signed server certificate: a finding, and untrusted against the system store", async () => {
    const self = await makeCa("localhost");
    const port = await serve({}, self);
    const r = await probeTls(`127.0.0.1:${port}`);
    expect(r.chain[0]!.selfSigned).toBe(true);
    expect(severityOf(r, "cert-self-signed")).toBe("medium");
    expect(r.validation.trusted).toBe(false);
  });

  it("expired certificate: negative days left, a high finding; a 200-day certificate is long-lived", async () => {
    const expired = await issueLeaf(ca, { ip: ["127.0.0.1"], notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - 3 * DAY + 3600_000) });
    const r = await probeTls(`127.0.0.1:${await serve({}, expired)}`, { ca: file("ca.pem") });
    expect(r.chain[0]!.daysLeft).toBe(-3); // whole days, rounded down: 2 days 23 hours ago
    expect(r.chain[0]!.secondsLeft).toBeLessThan(0);
    expect(severityOf(r, "cert-expired")).toBe("high");
    expect(r.validation).toMatchObject({ trusted: false, error: "CERT_HAS_EXPIRED" });
    const longLived = await issueLeaf(ca, { ip: ["127.0.0.1"], notAfter: new Date(Date.now() + 200 * DAY) });
    const l = await probeTls(`127.0.0.1:${await serve({}, longLived)}`, { ca: file("ca.pem") });
    expect(l.chain[0]!.shortLived).toBe(false);
    expect(ids(l)).toContain("cert-long-lived");
    expect(ids(l)).not.toContain("cert-expires-soon");
  });

  it("plain HTTP: a plaintext-only port is TLS_CONNECT_FAILED naming HTTP; a port speaking both gets a plaintext finding", async () => {
    const plain = http.createServer((_q, s) => s.end("hello"));
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    servers.push({ close: () => (plain.closeAllConnections(), plain.close()) });
    const e = await probeTls(`127.0.0.1:${(plain.address() as net.AddressInfo).port}`).catch((x: Error & { code: string }) => x);
    expect(e).toMatchObject({ code: "TLS_CONNECT_FAILED", message: expect.stringContaining("plaintext HTTP (HTTP/1.1") });

    // one port, two protocols: TLS records start with 0x16 (RFC 8446 §5.1) and go to the https
    // server, anything else to the plain one (a byte-peeking TCP proxy)
    const securePort = await serve({});
    const plainPort = (plain.address() as net.AddressInfo).port;
    const both = net.createServer((sock) =>
      sock.once("data", (d: Buffer) => {
        const upstream = net.connect(d[0] === 0x16 ? securePort : plainPort, "127.0.0.1", () => {
          upstream.write(d);
          sock.pipe(upstream).pipe(sock);
        });
        upstream.on("error", () => sock.destroy());
        sock.on("error", () => upstream.destroy());
      }),
    );
    await new Promise<void>((r) => both.listen(0, "127.0.0.1", r));
    servers.push({ close: () => both.close() });
    const r = await probeTls(`127.0.0.1:${(both.address() as net.AddressInfo).port}`, { ca: file("ca.pem") });
    expect(r.plaintext.httpStatusLine).toMatch(/^HTTP\/1\.1 200/);
    expect(severityOf(r, "plaintext-http")).toBe("high");
  });

  it("bad input and nothing listening give typed errors; a silent port is bounded by the timeout", async () => {
    for (const bad of ["https://", "ftp://127.0.0.1:21", "127.0.0.1", "127.0.0.1:99999", "https://127.0.0.1:8443/path", "http://127.0.0.1:80", "a b:1"]) {
      expect(await failure(probeTls(bad)), bad).toBe("INVALID_ARGUMENT");
    }
    expect(await failure(probeTls("127.0.0.1:1", { timeoutMs: 0 }))).toBe("INVALID_ARGUMENT");
    const port = await serve({});
    expect(await failure(probeTls(`127.0.0.1:${port}`, { ca: file("missing.pem") }))).toBe("CERT_MALFORMED");
    writeFileSync(file("junk.pem"), "not a certificate");
    expect(await failure(probeTls(`127.0.0.1:${port}`, { ca: file("junk.pem") }))).toBe("CERT_MALFORMED");
    expect(await failure(probeTls(`127.0.0.1:${port}`, { certDir: file("nowhere") }))).toBe("CERT_MALFORMED");

    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const freePort = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await failure(probeTls(`127.0.0.1:${freePort}`))).toBe("TLS_CONNECT_FAILED");

    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s)); // accepts, never speaks
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    servers.push({ close: () => (sockets.forEach((s) => s.destroy()), silent.close()) });
    const start = Date.now();
    expect(await failure(probeTls(`127.0.0.1:${(silent.address() as net.AddressInfo).port}`, { timeoutMs: 200 }))).toBe("TLS_CONNECT_FAILED");
    expect(Date.now() - start).toBeLessThan(3000); // 5 handshakes + 1 plaintext read, 200 ms each
  });
});

describe("pipeseal tls probe (built CLI)", () => {
  // async, unlike run-cli's spawnSync: the servers under test live in this process's event loop
  const run = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, "tls", "probe", ...args], { env: { PATH: process.env.PATH ?? "" } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });

  it("prints the report as JSON; exits 8 when a finding reaches --fail-on (default high), else 0", async () => {
    const port = await serve({ ca: ca.certPem, requestCert: true, rejectUnauthorized: true });
    const r = await run([`https://127.0.0.1:${port}`, "--ca", file("ca.pem"), "--cert", file("client"), "--timeout", "5s", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as ProbeReport;
    expect(report.clientAuth).toMatchObject({ required: true, withCertificate: { ok: true } });
    expect(report.validation.trusted).toBe(true);
    expect(report.chain[0]!.spiffeIds).toEqual(["spiffe://acme/prod/feature-store"]);

    const expired = await issueLeaf(ca, { ip: ["127.0.0.1"], notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - 1 * DAY) });
    const expiredPort = await serve({}, expired);
    const e = await run([`127.0.0.1:${expiredPort}`, "--json"]);
    expect(e.status).toBe(8);
    expect((JSON.parse(e.stdout) as ProbeReport).findings).toContainEqual(expect.objectContaining({ id: "cert-expired", severity: "high" }));
    expect((await run([`127.0.0.1:${expiredPort}`, "--json", "--fail-on", "nonsense"])).status).toBe(2);
  });

  it("prints a readable report", async () => {
    const r = await run([`127.0.0.1:${await serve({ maxVersion: "TLSv1.2" })}`, "--ca", file("ca.pem")]);
    expect(r.status).toBe(0);
    const text = r.stdout;
    expect(text).toMatch(/handshake: +TLSv1\.2 TLS_ECDHE_ECDSA_/);
    expect(text).toContain("TLSv1.3 refused");
    expect(text).toContain("URI:spiffe://acme/prod/feature-store");
    expect(text).toMatch(/client cert: +not required/);
  });

  it("fails with one line and the code: nothing listening, malformed URL, unreadable --ca", async () => {
    const expectFailure = (r: Awaited<ReturnType<typeof run>>, code: string, exit: number) => {
      expect(r.status).toBe(exit);
      expect(r.stderr).toContain(`[${code}]`);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    };
    expectFailure(await run(["127.0.0.1:1", "--json"]), "TLS_CONNECT_FAILED", 1);
    expectFailure(await run(["https://127.0.0.1:notaport"]), "INVALID_ARGUMENT", 2);
    expectFailure(await run(["127.0.0.1:1", "--timeout", "5 parsecs"]), "INVALID_ARGUMENT", 2);
    expectFailure(await run(["127.0.0.1:1", "--ca", file("missing.pem")]), "CERT_MALFORMED", 4);
  });
});
