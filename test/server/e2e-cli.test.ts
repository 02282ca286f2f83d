/** The built CLI against a real key service: every existing command through --server/--cert, `serve` and `policy`. */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../cli/run-cli.js";
import { type Harness, POLICY, startHarness, WHO } from "./api-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

/** The CLI as a child process, asynchronously: the service under test runs in this process and must keep answering. */
function run(args: string[]): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", HOME: h.dir }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("exit", (status) => resolve({ status, stdout: Buffer.concat(out), stderr: err }));
  });
}
const as = (who: keyof typeof WHO, ...args: string[]) => run(["--server", h.svc.url, "--cert", h.certs[who], ...args]);

describe("pipeseal --server … (built CLI)", () => {
  it("encrypt / decrypt a file through the service; key list; audit", async () => {
    const input = path.join(h.dir, "data.csv");
    writeFileSync(input, "id,name\n1,alice\n".repeat(5000));
    const enc = await as("trainer", "encrypt", "--key", "prod/datasets/raw", "-c", "dataset=raw", input, "--json");
    expect(enc.stderr).toBe("");
    expect(enc.status).toBe(0);
    const out = path.join(h.dir, "data.out");
    const dec = await as("trainer", "decrypt", `${input}.pseal`, "-o", out);
    expect(dec.stderr).toBe("");
    expect(readFileSync(out)).toEqual(readFileSync(input));
    const list = await as("trainer", "key", "list", "--json");
    expect(list.status).toBe(0);
    expect(JSON.parse(list.stdout.toString()).map((k: { name: string }) => k.name)).toContain("prod/datasets/raw");
    // the key admin cannot decrypt: a typed refusal, exit status non-zero, one line
    const denied = await as("admin", "decrypt", `${input}.pseal`, "-o", path.join(h.dir, "nope"));
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(/ACCESS_DENIED/);
    const audit = await as("auditor", "audit", "list", "--limit", "50", "--json");
    expect(audit.status).toBe(0);
    expect(JSON.parse(audit.stdout.toString()).some((r: { operation: string; principal: string }) => r.operation === "decrypt" && r.principal === WHO.trainer)).toBe(true);
    expect((await as("auditor", "audit", "verify")).status).toBe(0);
  });

  it("key create/rotate through the service for a key admin; local-only commands refuse --server", async () => {
    expect((await as("admin", "key", "create", "prod/cli/k1")).status).toBe(0);
    expect((await as("admin", "key", "rotate", "prod/cli/k1")).stdout.toString()).toMatch(/primary is now v2/);
    const ca = await as("admin", "ca", "list");
    expect(ca.status).not.toBe(0);
    expect(ca.stderr).toMatch(/needs a local keystore/);
  });

  it("policy propose / approve needs two distinct admins", async () => {
    const file = path.join(h.dir, "next.yaml");
    writeFileSync(file, POLICY.replace("operations: [audit.read, key.list]", "operations: [audit.read, audit.export, key.list]"));
    const p = await as("pa1", "policy", "propose", file, "--json");
    expect(p.stderr).toBe("");
    const { id } = JSON.parse(p.stdout.toString());
    expect((await as("pa1", "policy", "approve", id)).stderr).toMatch(/ACCESS_DENIED/);
    expect((await as("pa2", "policy", "approve", id)).stdout.toString()).toMatch(/approved/);
  });

  it("`pipeseal serve --config` starts, serves, and stops on SIGTERM", async () => {
    const cfg = path.join(h.dir, "serve2.yaml");
    writeFileSync(cfg, readFileSync(path.join(h.dir, "keyservice.yaml"), "utf8").replace("home: ks", "home: ks2"));
    // a second keystore so the two services do not share one SQLite file's writers
    const init = await run(["--home", path.join(h.dir, "ks2"), "init"]);
    expect(init.status).toBe(0);
    const child = spawn(process.execPath, [CLI, "serve", "--config", cfg], { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "ignore", "pipe"] });
    const url = await new Promise<string>((resolve, reject) => {
      let err = "";
      child.stderr.on("data", (d) => {
        err += d;
        const m = /listening on (\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.on("exit", () => reject(new Error(err)));
    });
    const r = await run(["--server", url, "--cert", h.certs.trainer, "key", "list", "--json"]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout.toString()).map((k: { name: string }) => k.name)).toEqual(["pipeseal/service-tokens"]);
    child.kill("SIGTERM");
    expect(await new Promise((resolve) => child.on("exit", (code) => resolve(code)))).toBe(0);
  });
});
