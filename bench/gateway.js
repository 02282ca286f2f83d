#!/usr/bin/env node
// Data gateway benchmark (docs/gateway.md): curl through the gateway vs `pipeseal decrypt` to
// /dev/null vs a plain Node https static server on the plaintext; 64 KiB random ranges (4
// concurrent clients) vs the static server; peak RSS (VmHWM) of the gateway process (the built
// CLI) serving 8 concurrent whole-file curl streams, vs a Node https static server process
// serving the plaintext to the same 8 streams. Env: BENCH_GATEWAY_MIB (default 1024),
// BENCH_GATEWAY_READS (1000), BENCH_GATEWAY_STREAMS (8).
import { execFile, spawn } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, log, median, percentile } from "./lib.js";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const DIST = join(ROOT, "dist");
const MIB = Number(process.env.BENCH_GATEWAY_MIB ?? 1024);
const READS = Number(process.env.BENCH_GATEWAY_READS ?? 1000);
const SIZE = MIB * 1024 * 1024;
const STREAMS = Number(process.env.BENCH_GATEWAY_STREAMS ?? 8);

/** A static https server serving one file, as its own process (so its RSS is its own). */
const STATIC_SERVER = `
import https from "node:https"; import { createReadStream, readFileSync, statSync } from "node:fs";
const [cert, key, file] = process.argv.slice(2);
const srv = https.createServer({ cert: readFileSync(cert), key: readFileSync(key), minVersion: "TLSv1.3" }, (req, res) => {
  res.writeHead(200, { "content-length": statSync(file).size }); createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
});
srv.listen(0, "127.0.0.1", () => process.stderr.write("serving " + file + " on https://127.0.0.1:" + srv.address().port + "\\n"));
process.on("SIGTERM", () => process.exit(0));
`;

/**
 * Starts a server process (it prints "serving … on https://…" on stderr), runs STREAMS
 * concurrent whole-file curls against it, and returns its peak RSS (VmHWM, MiB) and the time.
 */
async function peakRss(args, curlArgs, path) {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  try {
    const url = await new Promise((resolve, reject) => {
      let err = "";
      child.stderr.on("data", (d) => {
        err += d;
        const m = /serving .* on (https:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      child.on("exit", () => reject(new Error(`server exited: ${err.slice(0, 300)}`)));
    });
    const t = process.hrtime.bigint();
    await Promise.all(Array.from({ length: STREAMS }, () => run("curl", [...curlArgs, `${url}${path}`])));
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
    return { mib: hwm ? Number(hwm[1]) / 1024 : NaN, seconds };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
  }
}
const run = (cmd, args) =>
  new Promise((res, rej) => {
    const t = process.hrtime.bigint();
    execFile(cmd, args, { maxBuffer: 1 << 20 }, (e) => (e ? rej(e) : res(Number(process.hrtime.bigint() - t) / 1e9)));
  });

export async function benchGateway() {
  const { initKeystore, openKeystore, encryptFile } = await import(join(DIST, "index.js"));
  const { initCa, issueCertificate, writeCertDir } = await import(join(DIST, "pki", "ca", "index.js"));
  const { startGateway } = await import(join(DIST, "gateway", "index.js"));
  const dir = mkdtempSync(join(tmpdir(), "pipeseal-bench-gw-"));
  try {
    const home = join(dir, "ks");
    await initKeystore(home);
    const ks = await openKeystore(home, { principal: "bench" });
    ks.createKey("bench");
    await initCa(ks, { trustDomain: "bench" });
    await writeCertDir(join(dir, "gw"), await issueCertificate(ks, { service: "gateway", env: "prod", ip: ["127.0.0.1"] }));
    await writeCertDir(join(dir, "cl"), await issueCertificate(ks, { service: "trainer", env: "prod", client: true }));
    log(`gateway bench: sealing ${MIB} MiB`);
    const plain = join(dir, "plain.bin");
    const fd = openSync(plain, "w");
    const buf = Buffer.allocUnsafe(8 << 20);
    for (let left = SIZE; left > 0; left -= buf.length) writeSync(fd, randomFillSync(buf), 0, Math.min(left, buf.length));
    closeSync(fd);
    const rootDir = join(dir, "root");
    (await import("node:fs")).mkdirSync(rootDir);
    await encryptFile(ks, plain, join(rootDir, "big.bin.pseal"), { keyName: "bench" });
    const gw = await startGateway({ root: rootDir, keys: ks, tls: { certDir: join(dir, "gw"), watch: false }, allow: ["spiffe://bench/prod/trainer"] });
    const r = (f) => readFileSync(join(dir, "gw", f));
    const stat = https.createServer({ cert: r("cert.pem"), key: r("key.pem"), minVersion: "TLSv1.3" }, (req, res) => {
      const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "");
      if (m) {
        res.writeHead(206, { "content-length": Number(m[2]) - Number(m[1]) + 1 });
        createReadStream(plain, { start: Number(m[1]), end: Number(m[2]) }).pipe(res);
      } else {
        res.writeHead(200, { "content-length": statSync(plain).size });
        createReadStream(plain, { highWaterMark: 1 << 20 }).pipe(res);
      }
    });
    await new Promise((res) => stat.listen(0, "127.0.0.1", res));
    const staticUrl = `https://127.0.0.1:${stat.address().port}`;
    const c = join(dir, "cl");
    const curlArgs = ["-sS", "-o", "/dev/null", "--cacert", join(c, "ca.pem"), "--cert", join(c, "cert.pem"), "--key", join(c, "key.pem")];
    log("gateway bench: sequential reads");
    const tGw = await run("curl", [...curlArgs, `${gw.url}/big.bin`]);
    const tStatic = await run("curl", [...curlArgs, `${staticUrl}/big.bin`]);
    const q = (x) => `'${x.replace(/'/g, "'\\''")}'`;
    const tDec = await run("sh", [
      "-c",
      `${q(process.execPath)} ${q(join(DIST, "cli", "main.js"))} --home ${q(home)} decrypt ${q(join(rootDir, "big.bin.pseal"))} -o - > /dev/null`,
    ]).catch(() => NaN);
    const mbs = (t) => SIZE / 1e6 / t;
    const agentOpts = {
      ca: readFileSync(join(c, "ca.pem")),
      cert: readFileSync(join(c, "cert.pem")),
      key: readFileSync(join(c, "key.pem")),
      keepAlive: true,
      maxSockets: 4,
    };
    async function ranges(base) {
      const agent = new https.Agent(agentOpts);
      const lat = [];
      let next = 0;
      const worker = async () => {
        while (next < READS) {
          next++;
          const off = Math.floor(Math.random() * (SIZE - 65536));
          const t = process.hrtime.bigint();
          await new Promise((res, rej) =>
            https
              .get(`${base}/big.bin`, { agent, headers: { range: `bytes=${off}-${off + 65535}` } }, (resp) => {
                resp.on("data", () => {});
                resp.on("end", res);
              })
              .on("error", rej),
          );
          lat.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      agent.destroy();
      return { p50: median(lat), p99: percentile(lat, 99) };
    }
    log("gateway bench: random 64 KiB ranges");
    const rg = await ranges(gw.url);
    const rs = await ranges(staticUrl);
    const out = [
      "",
      `Data gateway — ${MIB} MiB sealed file, loopback TLS 1.3, one run (same process serves gateway and static peer)`,
      `  curl via gateway ${fmt(mbs(tGw), 0)} MB/s; pipeseal decrypt -o - > /dev/null (process start included) ${fmt(mbs(tDec), 0)} MB/s → ${fmt((mbs(tGw) / mbs(tDec)) * 100, 0)}% (target ≥ 80%)`,
      `  plain Node https static server ${fmt(mbs(tStatic), 0)} MB/s → gateway at ${fmt((mbs(tGw) / mbs(tStatic)) * 100, 0)}%`,
      `  64 KiB ranges, 4 clients, ${READS} reads: gateway p50 ${fmt(rg.p50, 2)} ms p99 ${fmt(rg.p99, 2)} ms; static p50 ${fmt(rs.p50, 2)} ms p99 ${fmt(rs.p99, 2)} ms → ${fmt(rg.p50 / rs.p50, 2)}× (target ≤ 2×)`,
    ];
    await gw.close();
    stat.close();
    ks.close();
    log(`gateway bench: peak RSS, ${STREAMS} concurrent whole-file streams`);
    const gwArgs = [
      join(DIST, "cli", "main.js"),
      "--home",
      home,
      "gateway",
      "--root",
      rootDir,
      "--listen",
      "127.0.0.1:0",
      "--cert",
      join(dir, "gw"),
      "--allow",
      "spiffe://bench/prod/trainer",
    ];
    const rssGw = await peakRss(gwArgs, curlArgs, "/big.bin");
    const script = join(dir, "static.mjs");
    writeFileSync(script, STATIC_SERVER);
    const rssStatic = await peakRss([script, join(dir, "gw", "cert.pem"), join(dir, "gw", "key.pem"), plain], curlArgs, "/big.bin");
    const agg = (x) => fmt((STREAMS * SIZE) / 1e6 / x.seconds, 0);
    out.push(
      `  peak RSS, ${STREAMS} concurrent ${MIB} MiB streams (curl, whole file; server processes measured by VmHWM): gateway (pipeseal gateway) ${fmt(rssGw.mib, 0)} MiB at ${agg(rssGw)} MB/s aggregate (target < 300 MiB); static Node https server ${fmt(rssStatic.mib, 0)} MiB at ${agg(rssStatic)} MB/s`,
    );
    process.stdout.write(out.join("\n") + "\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchGateway();
