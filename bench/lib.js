// Shared helpers for the benchmark harness: process timing, RSS, stats, logging.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, openSync, closeSync, unlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

export const MB = 1e6; // throughput unit: 10^6 bytes
export const MiB = 1 << 20;

const START = Date.now();
export function log(msg) {
  const t = ((Date.now() - START) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${t}s] ${msg}\n`);
}

export function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile, p in (0, 100]. */
export function percentile(xs, p) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1];
}

export function which(cmd) {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

export const TIME_BIN = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

/** Guard: a tool that renames over /dev/null (as root) would replace the device node. */
export function assertDevNull() {
  const st = statSync("/dev/null");
  if (!st.isCharacterDevice()) {
    throw new Error("/dev/null is no longer a character device — a tool replaced it! Restore it with: rm /dev/null && mknod -m 666 /dev/null c 1 3");
  }
}

/**
 * Run a command, time it wall-clock from spawn to exit (process start included),
 * and record its peak RSS (via /usr/bin/time -f %M, or by polling VmHWM).
 * opts.stdout: "ignore" (→ /dev/null, default), "pipe" (captured), or a file path.
 */
export function runProc(cmd, args, opts = {}) {
  const { env = process.env, stdout = "ignore", rss = true, cwd, input } = opts;
  return new Promise((resolve, reject) => {
    let timeFile = null;
    let argv0 = cmd;
    let argv = args;
    if (rss && TIME_BIN) {
      timeFile = join(tmpdir(), `pipeseal-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
      argv0 = TIME_BIN;
      argv = ["-f", "%M %U %S", "-o", timeFile, cmd, ...args]; // peak RSS, user and system CPU seconds
    }
    let outFd = null;
    let stdoutSpec = stdout;
    if (stdout !== "ignore" && stdout !== "pipe") {
      outFd = openSync(stdout, "w");
      stdoutSpec = outFd;
    }
    const t0 = process.hrtime.bigint();
    const child = spawn(argv0, argv, {
      env,
      cwd,
      stdio: [input === undefined ? "ignore" : "pipe", stdoutSpec, "pipe"],
    });
    if (input !== undefined) child.stdin.end(input);
    const out = [];
    const err = [];
    let hwm = 0;
    let poll = null;
    if (rss && !TIME_BIN) {
      poll = setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
          if (m) hwm = Math.max(hwm, Number(m[1]));
        } catch {
          /* exited */
        }
      }, 20);
    }
    if (child.stdout) child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("error", (e) => {
      if (poll) clearInterval(poll);
      if (outFd !== null) closeSync(outFd);
      reject(e);
    });
    child.on("close", (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (poll) clearInterval(poll);
      if (outFd !== null) closeSync(outFd);
      let rssKiB = rss ? hwm || null : null;
      let cpuSeconds = null;
      if (timeFile) {
        try {
          const lines = readFileSync(timeFile, "utf8").trim().split("\n");
          const [v, user, sys] = lines[lines.length - 1].split(" ").map(Number);
          if (Number.isFinite(v)) rssKiB = v;
          if (Number.isFinite(user) && Number.isFinite(sys)) cpuSeconds = user + sys;
          unlinkSync(timeFile);
        } catch {
          /* ignore */
        }
      }
      const res = {
        code,
        signal,
        seconds,
        rssKiB,
        cpuSeconds,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString("utf8"),
      };
      if (code !== 0) {
        const e = new Error(`${cmd} ${args.join(" ")} exited ${code ?? signal}: ${res.stderr.trim().split("\n").slice(-5).join(" | ")}`);
        e.result = res;
        reject(e);
      } else resolve(res);
    });
  });
}

/** Run a node worker that prints one JSON line on stdout. */
export async function runWorker(script, args, opts = {}) {
  const r = await runProc(process.execPath, [script, ...args], { ...opts, stdout: "pipe", rss: false });
  const lines = r.stdout.toString("utf8").trim().split("\n");
  try {
    return { ...JSON.parse(lines[lines.length - 1]), wallSeconds: r.seconds };
  } catch {
    throw new Error(`worker ${script} printed no JSON: ${r.stdout.toString().slice(0, 500)} ${r.stderr.slice(0, 500)}`);
  }
}

export function sync() {
  spawnSync("sync");
}

export function rmIfExists(p) {
  try {
    unlinkSync(p);
  } catch {
    /* absent */
  }
}

export function fmt(n, digits = 1) {
  if (n === null || n === undefined || Number.isNaN(n)) return "-";
  return n.toFixed(digits);
}

/** Render rows (arrays of strings) as an aligned text table. */
export function table(header, rows, rightAlignFrom = 1) {
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? "").length)));
  const line = (r) => r.map((c, i) => (i >= rightAlignFrom ? String(c ?? "").padStart(w[i]) : String(c ?? "").padEnd(w[i]))).join("  ");
  return [line(header), w.map((x) => "-".repeat(x)).join("  "), ...rows.map(line)].join("\n");
}

/** Small seeded PRNG so that sealed and plaintext reads use the same offsets. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
