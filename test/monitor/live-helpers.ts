/** Helpers for `monitor run` tests: a real keystore through the built CLI, a monitor process, waiting on files. */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { CLI, cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

export interface Home {
  readonly dir: string;
  readonly env: Record<string, string>;
  run(args: string[], principal?: string, input?: string): ReturnType<typeof cli>;
}

/** A keystore made with `pipeseal init`, with keys made with `key create`. */
export function keystoreHome(keys: string[]): Home {
  const dir = tempDir("pipeseal-mon-");
  const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal"), PIPESEAL_PRINCIPAL: "monitor" };
  const home: Home = {
    dir,
    env,
    run: (args, principal = "monitor", input) => cli(args, { ...env, PIPESEAL_PRINCIPAL: principal }, input),
  };
  expect(home.run(["init"]).status).toBe(0);
  for (const k of keys) expect(home.run(["key", "create", k]).status).toBe(0);
  return home;
}

/** `principal` seals and opens one small file under `key` (one `decrypt` audit record). */
export function useKey(home: Home, key: string, principal: string, name = `${principal}-${key.replace(/\W/g, "_")}`): void {
  const plain = path.join(home.dir, `${name}.txt`);
  const r1 = home.run(["encrypt", "-", "-k", key, "-o", `${plain}.pseal`, "-f"], principal, `secret row of ${principal}\n`);
  expect(r1.stderr).toBe("");
  const r2 = home.run(["decrypt", `${plain}.pseal`, "-o", "-"], principal);
  expect(r2.status).toBe(0);
}

export interface MonitorProcess {
  readonly child: ChildProcess;
  stderr(): string;
  /** Sends `signal` and resolves with the exit status. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export function startMonitor(home: Home, args: string[]): MonitorProcess {
  const child = spawn(process.execPath, [CLI, "monitor", "run", ...args], {
    env: { PATH: process.env.PATH ?? "", ...home.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
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

export async function waitFor<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The JSON lines of a file sink (none before it exists). */
export function alertLines(file: string): Record<string, any>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
