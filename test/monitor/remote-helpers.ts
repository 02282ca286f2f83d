/** Helpers for `monitor run --server` tests: a TCP relay that can drop and refuse connections, a monitor's own keystore, waiting on alerts. */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { expect } from "vitest";
import { CLI, cli } from "../cli/run-cli.js";
import type { Harness } from "../server/api-harness.js";
import type { MonitorProcess } from "./live-helpers.js";

/** A TCP relay on 127.0.0.1:0 in front of the key service: the TLS session runs end to end through it. */
export interface Relay {
  readonly url: string;
  /** Cuts every open connection (an RST to both sides). */
  drop(): void;
  /** Refuses new connections until `open()`. */
  block(): void;
  open(): void;
  readonly connections: number;
  close(): Promise<void>;
}

export async function startRelay(target: string): Promise<Relay> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let blocked = false;
  let accepted = 0;
  const server = net.createServer((down) => {
    if (blocked) return down.resetAndDestroy();
    accepted++;
    const up = net.connect(Number(port), hostname);
    for (const s of [down, up]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    down.pipe(up);
    up.pipe(down);
    down.on("close", () => up.destroy());
    up.on("close", () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port: mine } = server.address() as net.AddressInfo;
  return {
    url: `https://127.0.0.1:${mine}`,
    drop: () => {
      for (const s of sockets) s.resetAndDestroy();
    },
    block: () => void (blocked = true),
    open: () => void (blocked = false),
    get connections() {
      return accepted;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** The monitor host: its own keystore (state key, ledger), a monitor.yaml and the file sink. */
export interface MonitorHost {
  readonly dir: string;
  readonly home: string;
  readonly config: string;
  readonly sink: string;
  /** `pipeseal --server URL --cert <who> --home HOME …` */
  args(url: string, cert: string, rest: string[]): string[];
}

export function monitorHost(h: Harness, name: string, extra = ""): MonitorHost {
  const dir = path.join(h.dir, name);
  mkdirSync(dir, { recursive: true });
  const home = path.join(dir, ".pipeseal");
  expect(cli(["--home", home, "init"], { PIPESEAL_PRINCIPAL: "monitor-host" }).status).toBe(0);
  const config = path.join(dir, "monitor.yaml");
  writeFileSync(
    config,
    `version: 1\nhoneytokens:\n  objects: ["*/decoy-*"]\nstate:\n  file: monitor.state.pseal\nsinks:\n  - kind: file\n    path: alerts.jsonl\n${extra}`,
  );
  return { dir, home, config, sink: path.join(dir, "alerts.jsonl"), args: (url, cert, rest) => ["--server", url, "--cert", cert, "--home", home, ...rest] };
}

/** `monitor run` through the built CLI, as a child process (the service under test lives in this process). */
export function startRemoteMonitor(args: string[]): MonitorProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    exited,
    stop: async (signal = "SIGTERM") => {
      child.kill(signal);
      return exited;
    },
  };
}
