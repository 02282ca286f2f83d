/**
 * The hashing worker's source, run with `new Worker(source, { eval: true })` so the same code
 * serves the built package and the TypeScript sources under test. Each task hashes the byte
 * range [start, end) of one file with SHA-256, reading 4 MiB at a time into one reused buffer,
 * so memory stays flat whatever the file size.
 */
export const HASH_WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const { createHash } = require("node:crypto");
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
parentPort.on("message", (t) => {
  let fd;
  try {
    fd = fs.openSync(t.path, "r");
    const h = createHash("sha256");
    for (let pos = t.start; pos < t.end; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, t.end - pos), pos);
      if (n === 0) throw Object.assign(new Error("file shrank while hashing: " + t.path), { code: "ESHRANK" });
      h.update(buf.subarray(0, n));
      pos += n;
    }
    parentPort.postMessage({ id: t.id, ok: true, digest: h.digest("hex") });
  } catch (e) {
    parentPort.postMessage({ id: t.id, ok: false, message: String(e && e.message), code: e && e.code });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
});
`;
