#!/usr/bin/env node
// Transit benchmark: full mTLS handshakes/s and keep-alive mTLS requests/s against plain HTTPS
// (server authentication only), both served by ONE server process on loopback, driven by a
// loader in a separate process. Median of BENCH_TRANSIT_RUNS (default 3) short runs per mode.
// Needs the build (npm run bench builds first). Progress on stderr, report on stdout.
//
// Env: BENCH_TRANSIT_RUNS (3)  BENCH_TRANSIT_SECONDS (per flavour per run, 1.2)  BENCH_TRANSIT_CONCURRENCY (32)
// Roles (internal): --certs DIR   --serve DIR   --load JSON
import { spawn, spawnSync } from "node:child_process";
import { webcrypto } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, log, median, table } from "./lib.js";

const HERE = fileURLToPath(import.meta.url);
const ROOT = dirname(dirname(HERE));
const DIST = join(ROOT, "dist", "pki");
const RUNS = Number(process.env.BENCH_TRANSIT_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_TRANSIT_SECONDS ?? 1.2);
const CONCURRENCY = Number(process.env.BENCH_TRANSIT_CONCURRENCY ?? 32);
const MAX_REQ = { handshake: 4000, keepalive: 60000 }; // bounded request counts per run
const SERVER_ID = "spiffe://bench/prod/feature-store";
const CLIENT_ID = "spiffe://bench/prod/trainer";

const role = process.argv[2];
if (role === "--certs") await makeCerts(process.argv[3]);
else if (role === "--serve") await serve(process.argv[3]);
else if (role === "--load") await load(JSON.parse(process.argv[3]));
else await main();

// ---------------------------------------------------------------- certificates
async function makeCerts(dir) {
  const { x509 } = await import(join(DIST, "x509.js"));
  const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const serial = () => "01" + Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString("hex");
  const pemKey = async (k) => x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", k.privateKey), "PRIVATE KEY");
  const now = Date.now();
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=bench CA",
    keys: caKeys,
    signingAlgorithm: ALG,
    notBefore: new Date(now - 3600e3),
    notAfter: new Date(now + 86400e3),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const leaf = async (id, eku, names) => {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: "CN=bench",
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALG,
      notBefore: new Date(now - 3600e3),
      notAfter: new Date(now + 3600e3),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([eku]),
        new x509.SubjectAlternativeNameExtension([{ type: "url", value: id }, ...names]),
      ],
    });
    return { cert: `${cert.toString("pem")}\n${ca.toString("pem")}\n`, key: await pemKey(keys) };
  };
  const server = await leaf(SERVER_ID, x509.ExtendedKeyUsage.serverAuth, [{ type: "ip", value: "127.0.0.1" }]);
  const client = await leaf(CLIENT_ID, x509.ExtendedKeyUsage.clientAuth, []);
  const caPem = ca.toString("pem") + "\n";
  for (const [name, m] of [
    ["server", server],
    ["client", client],
  ]) {
    const d = join(dir, name);
    spawnSync("mkdir", ["-p", d]);
    writeFileSync(join(d, "cert.pem"), m.cert);
    writeFileSync(join(d, "key.pem"), m.key);
    writeFileSync(join(d, "ca.pem"), caPem);
  }
}

// ---------------------------------------------------------------- server process
async function serve(dir) {
  const { createMtlsServer } = await import(join(DIST, "mtls", "index.js"));
  const https = await import("node:https");
  const body = Buffer.from("ok\n");
  const mtls = createMtlsServer({ certDir: join(dir, "server"), allow: [CLIENT_ID], watch: false }, (_req, res) => res.end(body));
  const r = (f) => readFileSync(join(dir, "server", f), "utf8");
  // the same TLS configuration without client authentication
  const plain = https.createServer({ cert: r("cert.pem"), key: r("key.pem"), minVersion: "TLSv1.3", maxVersion: "TLSv1.3" }, (_req, res) => res.end(body));
  for (const s of [mtls.server, plain]) s.keepAliveTimeout = 30_000;
  const a = await mtls.listen(0, "127.0.0.1");
  await new Promise((res) => plain.listen(0, "127.0.0.1", res));
  process.stdout.write(JSON.stringify({ mtls: a.port, https: plain.address().port }) + "\n");
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

// ---------------------------------------------------------------- loader process
// One loader run measures BOTH flavours of one mode in alternating short slices
// (mTLS, HTTPS, HTTPS, mTLS, …), so a machine whose speed drifts (other jobs, CPU
// frequency) slows both alike; each flavour keeps its own warm dispatcher.
async function load({ dir, ports, mode, seconds, concurrency, max }) {
  const { Agent } = await import("undici");
  const { createMtlsDispatcher } = await import(join(DIST, "mtls", "index.js"));
  const handshake = mode === "handshake";
  const sessions = handshake ? 0 : 100;
  const agentOpts = { connections: handshake ? null : concurrency, keepAliveTimeout: 30_000 };
  const dispatchers = {
    mtls: createMtlsDispatcher({ certDir: join(dir, "client"), expect: [SERVER_ID], maxCachedSessions: sessions, agent: agentOpts }),
    https: new Agent({
      ...agentOpts,
      connect: { ca: readFileSync(join(dir, "client", "ca.pem"), "utf8"), minVersion: "TLSv1.3", maxCachedSessions: sessions },
    }),
  };
  const phase = async (auth, ms, cap) => {
    const dispatcher = dispatchers[auth];
    const origin = `https://127.0.0.1:${ports[auth]}`;
    let done = 0;
    let issued = 0;
    const t0 = performance.now();
    const end = t0 + ms;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (issued < cap && performance.now() < end) {
          issued++;
          // reset: true closes the connection after the response: every request pays a full handshake
          const res = await dispatcher.request({ origin, path: "/", method: "GET", reset: handshake });
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
          done++;
        }
      }),
    );
    return { done, seconds: (performance.now() - t0) / 1000 };
  };
  for (const auth of ["mtls", "https"]) await phase(auth, 150, max); // warm-up: JIT, pools
  const SLICES = 6;
  const total = { mtls: { done: 0, seconds: 0 }, https: { done: 0, seconds: 0 } };
  for (let i = 0; i < SLICES; i++) {
    for (const auth of i % 2 ? ["https", "mtls"] : ["mtls", "https"]) {
      const r = await phase(auth, (seconds * 1000) / SLICES, Math.ceil(max / SLICES));
      total[auth].done += r.done;
      total[auth].seconds += r.seconds;
    }
  }
  await Promise.all(Object.values(dispatchers).map((d) => d.close()));
  const ops = (a) => total[a].done / total[a].seconds;
  process.stdout.write(JSON.stringify({ mtls: ops("mtls"), https: ops("https"), done: { mtls: total.mtls.done, https: total.https.done } }) + "\n");
}

function runLoader(cfg) {
  const r = spawnSync(process.execPath, [HERE, "--load", JSON.stringify(cfg)], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`loader failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

// ---------------------------------------------------------------- orchestrator
async function main() {
  try {
    readFileSync(join(DIST, "mtls", "index.js"));
  } catch {
    process.stderr.write("bench/transit.js needs the build: npm run build\n");
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), "pipeseal-transit-"));
  await makeCerts(dir);
  const server = spawn(process.execPath, [HERE, "--serve", dir], { stdio: ["pipe", "pipe", "inherit"] });
  const ports = await new Promise((resolve, reject) => {
    let buf = "";
    server.stdout.on("data", (c) => {
      buf += c;
      if (buf.includes("\n")) resolve(JSON.parse(buf.split("\n")[0]));
    });
    server.on("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  log(
    `transit: one server process (mTLS :${ports.mtls}, plain HTTPS :${ports.https}), ${RUNS} run(s) × ${SECONDS}s per flavour and mode, concurrency ${CONCURRENCY}`,
  );
  const modes = ["handshake", "keepalive"];
  const samples = Object.fromEntries(
    modes.flatMap((m) => [
      [`mtls-${m}`, []],
      [`https-${m}`, []],
      [`ratio-${m}`, []],
    ]),
  );
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const mode of modes) {
        const r = runLoader({ dir, ports, mode, seconds: SECONDS, concurrency: CONCURRENCY, max: MAX_REQ[mode] });
        samples[`mtls-${mode}`].push(r.mtls);
        samples[`https-${mode}`].push(r.https);
        samples[`ratio-${mode}`].push(r.mtls / r.https);
        log(`transit ${mode} run ${run + 1}: mTLS ${fmt(r.mtls, 0)} ops/s (${r.done.mtls}), HTTPS ${fmt(r.https, 0)} ops/s (${r.done.https})`);
      }
    }
  } finally {
    server.stdin.end();
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (k) => median(samples[k]);
  const hsRatio = med("ratio-handshake");
  const kaRatio = med("ratio-keepalive");
  const out = [];
  out.push("");
  out.push(
    `Transit (TLS 1.3, ECDSA P-256, loopback; loader = separate node process with undici, ${CONCURRENCY} concurrent; median of ${RUNS} runs, each ${SECONDS} s per flavour in alternating slices; ${cpus().length} cores)`,
  );
  out.push(
    table(
      ["row", "mTLS ops/s", "HTTPS ops/s", "mTLS / HTTPS (paired)"],
      [
        [
          "full handshakes (new connection per request, no resumption)",
          fmt(med("mtls-handshake"), 0),
          fmt(med("https-handshake"), 0),
          `${fmt(hsRatio * 100, 0)}%`,
        ],
        ["requests over keep-alive", fmt(med("mtls-keepalive"), 0), fmt(med("https-keepalive"), 0), `${fmt(kaRatio * 100, 0)}%`],
      ],
    ),
  );
  out.push(`  ${kaRatio >= 0.9 ? "PASS" : "FAIL"}  keep-alive mTLS requests/s ≥ 90% of plain HTTPS: ${fmt(kaRatio * 100, 1)}%`);
  out.push(
    `  samples: ${JSON.stringify(Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => (k.startsWith("ratio") ? Math.round(x * 1000) / 1000 : Math.round(x)))])))}`,
  );
  process.stdout.write(out.join("\n") + "\n");
}
