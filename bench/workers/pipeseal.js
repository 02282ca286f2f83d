// pipeseal in-process (library) figures, run in a fresh Node process per sample.
// Usage:
//   node bench/workers/pipeseal.js enc <home> <in> <out> [segmentLength]
//   node bench/workers/pipeseal.js dec <home> <in> <out>
//   node bench/workers/pipeseal.js randread <home> <sealed> <plain> <count> <readLen> <seed>
// Env BENCH_ENGINE=pool runs segments on the worker pool (defaultEngine) instead of inline.
// Prints one JSON line on stdout. Keystore opening and module loading are not timed.
import { open, stat } from "node:fs/promises";
import { loadLib } from "../pipeseal.js";
import { mulberry32 } from "../lib.js";

const [mode, home, ...rest] = process.argv.slice(2);
const lib = await loadLib(home, process.env.BENCH_ENGINE === "pool" ? "pool" : "inline");
const now = () => process.hrtime.bigint();
const secs = (a, b) => Number(b - a) / 1e9;

async function warm(path) {
  // Read the whole file once so the measurement runs against a warm page cache.
  const fh = await open(path, "r");
  const buf = Buffer.allocUnsafe(8 << 20);
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
    }
  } finally {
    await fh.close();
  }
}

let result;
if (mode === "enc" || mode === "dec") {
  const [inPath, outPath, seg] = rest;
  const t0 = now();
  if (mode === "enc") await lib.encrypt(inPath, outPath, seg ? Number(seg) : undefined);
  else await lib.decrypt(inPath, outPath);
  const t1 = now();
  // throughput is per plaintext byte
  const plainPath = mode === "enc" ? inPath : null;
  const bytes = plainPath ? (await stat(plainPath)).size : Number(process.env.BENCH_PLAIN_BYTES);
  result = { seconds: secs(t0, t1), bytes, maxRssKiB: process.resourceUsage().maxRSS };
} else if (mode === "randread") {
  const [sealed, plain, countS, lenS, seedS] = rest;
  const count = Number(countS);
  const len = Number(lenS);
  const size = (await stat(plain)).size;
  await warm(sealed);
  await warm(plain);
  const rnd = mulberry32(Number(seedS));
  const offsets = Array.from({ length: count }, () => Math.floor(rnd() * (size - len + 1)));
  const warmup = offsets.slice(0, 10).map((o) => (o * 7919) % (size - len + 1));

  const t0 = now();
  const reader = await lib.open(sealed);
  const openMs = secs(t0, now()) * 1e3;
  const fh = await open(plain, "r");
  const pbuf = Buffer.allocUnsafe(len);
  // warm-up (JIT, caches) on other offsets, not timed
  for (const o of warmup) {
    await reader.read(o, len);
    await fh.read(pbuf, 0, len, o);
  }
  const sealedMs = [];
  const plainMs = [];
  // interleave the two so that machine noise hits both alike
  for (const o of offsets) {
    let a = now();
    const got = await reader.read(o, len);
    sealedMs.push(secs(a, now()) * 1e3);
    a = now();
    const { bytesRead } = await fh.read(pbuf, 0, len, o);
    plainMs.push(secs(a, now()) * 1e3);
    if (got.length !== len || bytesRead !== len || !got.equals(pbuf)) {
      throw new Error(`random read mismatch at offset ${o}: got ${got.length} bytes`);
    }
  }
  await reader.close();
  await fh.close();
  result = { openMs, sealedMs, plainMs, count, len, verified: true };
} else {
  throw new Error(`unknown mode ${mode}`);
}
await lib.close();
process.stdout.write(JSON.stringify(result) + "\n");
