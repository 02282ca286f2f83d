/**
 * Interrupting the built CLI with real signals in the middle of a multi-GB write: piped (a
 * spawned process, signals sent with kill) and on a real terminal (Ctrl-C typed into tmux and
 * into `script`'s pseudo-terminal). SIGINT, SIGTERM and SIGHUP must leave no temp file (a
 * decrypt's temp is plaintext) and exit 128 + the signal number; only SIGKILL may leave one,
 * which posture then reports and the next write into the folder removes.
 *
 * Slow by nature (a 2 GiB sealed input is made once, ~20–40 s here); every wait is bounded.
 */
import { spawn, spawnSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync, closeSync, openSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";
import { CLI, cli } from "./run-cli.js";

const GiB = 1024 ** 3;
const dir = tempDir("pipeseal-signals-");
const home = path.join(dir, ".pipeseal");
const env = { PIPESEAL_HOME: home };
const sparse = path.join(dir, "big.bin");
const sealed = path.join(dir, "big.bin.pseal");
const SIGNO = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

const temps = (folder: string) => (existsSync(folder) ? readdirSync(folder) : []).filter((f) => f.startsWith(".pseal-tmp-"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until a temp file in `folder` holds at least `bytes`; returns its name. */
async function tempReaches(folder: string, bytes: number, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const t of temps(folder)) if ((statSync(path.join(folder, t), { throwIfNoEntry: false })?.size ?? 0) >= bytes) return t;
    await sleep(50);
  }
  throw new Error(`no temp file in ${folder} reached ${bytes} bytes within ${timeoutMs} ms (found: ${temps(folder).join(", ")})`);
}

/** Runs the CLI piped, sends `signal` once its temp file holds `bytes`, and returns how it ended. */
async function interrupt(args: string[], folder: string, signal: NodeJS.Signals, opts: { bytes?: number; stdin?: string } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.resume();
  if (opts.stdin)
    createReadStream(opts.stdin)
      .pipe(child.stdin)
      .on("error", () => undefined);
  else child.stdin.end();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, sig) => resolve({ code, signal: sig })),
  );
  const temp = await tempReaches(folder, opts.bytes ?? 256 * 1024 * 1024);
  child.kill(signal);
  const end = await exited;
  return { ...end, stderr, temp, pid: child.pid! };
}

function folder(name: string): string {
  const f = path.join(dir, name);
  mkdirSync(f, { recursive: true });
  return f;
}

beforeAll(() => {
  expect(cli(["init"], env).status).toBe(0);
  expect(cli(["key", "create", "k"], env).status).toBe(0);
  closeSync(openSync(sparse, "w"));
  truncateSync(sparse, 2 * GiB); // sparse: fast to read, a real 2 GiB stream for the sealer
  const r = cli(["encrypt", "--key", "k", sparse, "-o", sealed], env);
  expect(r.stderr).toBe("");
  expect(statSync(sealed).size).toBeGreaterThan(2 * GiB);
}, 300_000);

describe("interrupted by a signal, piped", () => {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    it(`decrypt of 2 GiB to a file, ${signal}: exits ${128 + SIGNO[signal]}, no plaintext temp and no target left`, async () => {
      const out = folder(`dec-${signal}`);
      const r = await interrupt(["decrypt", sealed, "-o", path.join(out, "big.out")], out, signal);
      expect(r.code).toBe(128 + SIGNO[signal]);
      expect(r.temp).toMatch(new RegExp(`^\\.pseal-tmp-big\\.out\\.[0-9a-f]{8}\\.${r.pid}\\.[0-9a-f]{12}$`)); // the writer's pid is in the name
      expect(readdirSync(out)).toEqual([]);
      expect(r.stderr).toBe(`pipeseal: interrupted by ${signal}; removed 1 unfinished temp file(s)\n`);
    }, 120_000);
  }

  it("encrypt of 2 GiB, SIGINT: no temp left; decrypt from a stdin pipe, SIGTERM: likewise", async () => {
    const enc = folder("enc");
    const a = await interrupt(["encrypt", "--key", "k", sparse, "-o", path.join(enc, "big.pseal")], enc, "SIGINT");
    expect(a.code).toBe(130);
    expect(readdirSync(enc)).toEqual([]);
    const dec = folder("dec-stdin");
    const b = await interrupt(["decrypt", "-", "-o", path.join(dec, "big.out")], dec, "SIGTERM", { stdin: sealed });
    expect(b.code).toBe(143);
    expect(readdirSync(dec)).toEqual([]);
  }, 120_000);

  it("a finished decrypt is unaffected: the registry held only the temp, never the target", async () => {
    const small = path.join(dir, "small.bin");
    writeFileSync(small, "hello\n");
    expect(cli(["encrypt", "--key", "k", small], env).status).toBe(0);
    const r = cli(["decrypt", `${small}.pseal`, "-o", path.join(dir, "small.out")], env);
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(dir, "small.out"), "utf8")).toBe("hello\n");
  });
});

describe("interrupted with Ctrl-C on a real terminal", () => {
  const socket = `pipeseal-test-${process.pid}`;
  afterAll(() => void spawnSync("tmux", ["-L", socket, "kill-server"]));

  it("tmux: Ctrl-C during a 2 GiB decrypt (progress bar on) exits 130 and leaves nothing", async () => {
    const out = folder("tty-tmux");
    const status = path.join(dir, "tmux.status");
    const cmd = `PIPESEAL_HOME='${home}' '${process.execPath}' '${CLI}' decrypt '${sealed}' -o '${path.join(out, "big.out")}'; echo $? > '${status}'; sleep 60`;
    const started = spawnSync("tmux", ["-L", socket, "new-session", "-d", "-s", "t", "-x", "120", "-y", "20", cmd]);
    expect(started.status, started.stderr.toString()).toBe(0);
    await tempReaches(out, 128 * 1024 * 1024);
    expect(spawnSync("tmux", ["-L", socket, "send-keys", "-t", "t", "C-c"]).status).toBe(0);
    const deadline = Date.now() + 30_000;
    while (!existsSync(status) && Date.now() < deadline) await sleep(50);
    expect(readFileSync(status, "utf8").trim()).toBe("130");
    expect(readdirSync(out)).toEqual([]);
    const screen = spawnSync("tmux", ["-L", socket, "capture-pane", "-p", "-t", "t"]).stdout.toString();
    expect(screen).toMatch(/decrypt +\d+%/); // a terminal: the progress bar was drawn
    expect(screen).toContain("pipeseal: interrupted by SIGINT; removed 1 unfinished temp file(s)");
  }, 120_000);

  it("script: Ctrl-C (0x03) typed into the pseudo-terminal during a 2 GiB encrypt exits 130 and leaves nothing", async () => {
    const out = folder("tty-script");
    const inner = `'${process.execPath}' '${CLI}' encrypt --key k '${sparse}' -o '${path.join(out, "big.pseal")}'`;
    const child = spawn("script", ["-qfec", inner, "/dev/null"], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await tempReaches(out, 128 * 1024 * 1024);
    child.stdin.write("\x03");
    expect(await exited).toBe(130); // script -e passes the child's status through
    expect(readdirSync(out)).toEqual([]);
    expect(output).toMatch(/pipeseal: interrupted by SIGINT; removed 1 unfinished temp file\(s\)/);
  }, 120_000);
});

describe("commands whose normal end is a stop signal close gracefully", () => {
  it("logs write, SIGHUP: the open segment is closed (readable), nothing left as a temp, exit 0", async () => {
    const logs = path.join(dir, "logs");
    const child = spawn(process.execPath, [CLI, "logs", "write", logs, "--key", "logs/app", "--class", "metadata"], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    for (let i = 0; i < 5; i++) child.stdin.write(JSON.stringify({ seq: i }) + "\n");
    const deadline = Date.now() + 30_000;
    while (temps(logs).length === 0 && Date.now() < deadline) await sleep(50); // the segment is open
    await sleep(300);
    child.kill("SIGHUP");
    expect(await exited).toBe(0);
    expect(stderr).toBe("");
    expect(temps(logs)).toEqual([]);
    const r = cli(["logs", "read", logs], env);
    expect(
      r.stdout
        .toString()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).seq),
    ).toEqual([0, 1, 2, 3, 4]);
  }, 60_000);
});

describe("SIGKILL: the one signal that can leave a temp file", () => {
  it("leaves the temp; posture reports it; the next write into the folder removes it and says so", async () => {
    const out = folder("killed");
    const r = await interrupt(["decrypt", sealed, "-o", path.join(out, "big.out")], out, "SIGKILL", { bytes: 64 * 1024 * 1024 });
    expect(r.signal).toBe("SIGKILL");
    expect(temps(out)).toEqual([r.temp]);
    expect(existsSync(path.join(out, "big.out"))).toBe(false);
    // decoys the sweep must leave alone: not pipeseal's pattern; a live writer's (this test's pid); another host's
    const decoys = [
      ".pseal-tmp-notes.txt",
      `.pseal-tmp-live.${r.temp.split(".").at(-3)}.${process.pid}.aaaaaaaaaaaa`,
      `.pseal-tmp-far.00000000.${r.pid}.bbbbbbbbbbbb`,
    ];
    for (const d of decoys) writeFileSync(path.join(out, d), "x");

    const map = path.join(dir, "pipeline.yaml");
    writeFileSync(map, `version: 1\nname: t\nstages:\n  processing:\n    stores:\n      - { id: work, kind: folder, path: ./killed, classification: pii }\n`);
    const posture = cli(["posture", "check", map, "--json"], env);
    const stray = (
      JSON.parse(posture.stdout.toString()).findings as { checkId: string; location: string; severity: string; evidence: Record<string, unknown> }[]
    ).filter((f) => f.checkId === "PLAINTEXT-STRAY-TEMP");
    const killed = stray.find((f) => f.location === `killed/${r.temp}`)!;
    expect(killed).toMatchObject({ severity: "high", evidence: expect.objectContaining({ content: "plaintext", writerPid: r.pid, writerRunning: false }) });
    expect(stray.find((f) => f.location.includes(".pseal-tmp-live."))!.severity).toBe("info"); // a write in progress
    expect(posture.status).toBe(8);

    const small = path.join(dir, "next.bin");
    writeFileSync(small, "next\n");
    const next = cli(["encrypt", "--key", "k", small, "-o", path.join(out, "next.pseal")], env);
    expect(next.status).toBe(0);
    expect(next.stderr).toBe(`pipeseal: removed ${path.join(out, r.temp)}, a temp file left by an interrupted pipeseal (pid ${r.pid}, no longer running)\n`);
    expect(readdirSync(out).sort()).toEqual([...decoys, "next.pseal"].sort());
  }, 120_000);
});
