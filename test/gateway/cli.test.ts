/** `pipeseal gateway` as users run it: the built CLI, certificates from `pipeseal ca issue`, curl as the client. */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

let dir: string;
let child: ChildProcess | undefined;
let url = "";
const env = () => ({ PIPESEAL_PRINCIPAL: "ops" });
const run = (...args: string[]) => cli(["--home", path.join(dir, "ks"), ...args], env());
const plain = randomBytes(200_000);

function curl(args: string[], peer = "trainer-a"): Promise<{ status: number; stdout: Buffer }> {
  const c = path.join(dir, "certs", peer);
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["-sS", "--cacert", `${c}/ca.pem`, "--cert", `${c}/cert.pem`, "--key", `${c}/key.pem`, ...args],
      { encoding: "buffer", maxBuffer: 1 << 24 },
      (e, stdout) => resolve({ status: e ? Number((e as { code?: unknown }).code ?? 1) : 0, stdout }),
    );
  });
}

/** `pipeseal gateway` over the test's keystore, once it says where it serves. */
async function startGatewayCli(...extra: string[]): Promise<{ child: ChildProcess; url: string }> {
  const c = spawn(
    process.execPath,
    [
      CLI,
      "--home",
      path.join(dir, "ks"),
      "gateway",
      "--root",
      path.join(dir, "datasets"),
      "--listen",
      "127.0.0.1:0",
      "--cert",
      path.join(dir, "certs", "gateway"),
      "--allow",
      "spiffe://acme.ml/prod/trainer*",
      ...extra,
    ],
    { env: { PATH: process.env.PATH ?? "", ...env() }, stdio: ["ignore", "ignore", "pipe"] },
  );
  const served = await new Promise<string>((resolve, reject) => {
    let err = "";
    c.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /serving .* on (https:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    c.once("exit", () => reject(new Error(err)));
  });
  return { child: c, url: served };
}

beforeAll(async () => {
  dir = tempDir("pipeseal-gw-cli-");
  expect(run("init").status).toBe(0);
  expect(run("ca", "init", "--name", "acme ML", "--trust-domain", "acme.ml").status).toBe(0);
  expect(
    run("ca", "issue", "gateway", "--env", "prod", "--dns", "gateway.internal", "--ip", "127.0.0.1", "--out", path.join(dir, "certs", "gateway")).status,
  ).toBe(0);
  expect(run("ca", "issue", "trainer-a", "--env", "prod", "--client", "--out", path.join(dir, "certs", "trainer-a")).status).toBe(0);
  expect(run("key", "create", "datasets/raw").status).toBe(0);
  mkdirSync(path.join(dir, "datasets", "train"), { recursive: true });
  writeFileSync(path.join(dir, "shard.jsonl"), plain);
  expect(
    run(
      "encrypt",
      "--key",
      "datasets/raw",
      "--context",
      "stage=training",
      path.join(dir, "shard.jsonl"),
      "-o",
      path.join(dir, "datasets", "train", "shard-00001.jsonl.pseal"),
    ).status,
  ).toBe(0);
  ({ child, url } = await startGatewayCli());
}, 60_000);
afterAll(() => {
  child?.kill("SIGTERM");
});

describe("pipeseal gateway (built CLI)", () => {
  it("serves the README's curl recipe: a range and the whole shard", async () => {
    const r = await curl(["-r", "1000-65535", `${url}/train/shard-00001.jsonl`]);
    expect([r.status, r.stdout.equals(plain.subarray(1000, 65536))]).toEqual([0, true]);
    const whole = await curl([`${url}/train/shard-00001.jsonl`]);
    expect(whole.stdout.equals(plain)).toBe(true);
    const audit = JSON.parse(run("audit", "list", "--json").stdout.toString()) as { operation: string; principal: string }[];
    expect(audit.filter((a) => a.operation === "gateway-read").map((a) => a.principal)).toEqual(["spiffe://acme.ml/prod/trainer-a"]);
  });

  it("SIGTERM closes it gracefully: exit 0, and the open window's `gateway.serve` summary is in the audit", async () => {
    const own = await startGatewayCli();
    const r = await curl(["-r", "0-999", `${own.url}/train/shard-00001.jsonl`]);
    expect(r.stdout.equals(plain.subarray(0, 1000))).toBe(true);
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => own.child.once("exit", (code, signal) => resolve([code, signal])));
    own.child.kill("SIGTERM"); // well inside the 60 s key TTL: only a graceful close writes the summary
    const status = await exited;
    const audit = JSON.parse(run("audit", "list", "--json").stdout.toString()) as { operation: string; principal: string; context: string | null }[];
    // this gateway's window alone served exactly one 1000-byte range (the other one served more)
    const summaries = audit
      .filter((a) => a.operation === "gateway.serve")
      .map((a) => [a.principal, JSON.parse(a.context ?? "{}") as Record<string, string>] as const);
    expect({ status, summaries: summaries.filter(([, c]) => c.bytes === "1000") }).toEqual({
      status: [0, null],
      summaries: [["spiffe://acme.ml/prod/trainer-a", { requests: "1", ranges: "1", bytes: "1000" }]],
    });
  }, 30_000);

  it("--crl: a revoked trainer's certificate gets no answer, another trainer still reads", async () => {
    expect(run("ca", "issue", "trainer-b", "--env", "prod", "--client", "--out", path.join(dir, "certs", "trainer-b")).status).toBe(0);
    const serial = execFileSync("openssl", ["x509", "-noout", "-serial", "-in", path.join(dir, "certs", "trainer-b", "cert.pem")], { encoding: "utf8" })
      .trim()
      .replace(/^serial=/, "")
      .toLowerCase();
    expect(run("ca", "revoke", serial, "--reason", "keyCompromise").status).toBe(0);
    const crl = path.join(dir, "crl.pem");
    expect(run("ca", "crl", "-o", crl).status).toBe(0);
    const own = await startGatewayCli("--crl", crl);
    try {
      const revoked = await curl(["-r", "0-99", `${own.url}/train/shard-00001.jsonl`], "trainer-b");
      expect(revoked.status).not.toBe(0);
      expect(revoked.stdout.length).toBe(0);
      const other = await curl(["-r", "0-99", `${own.url}/train/shard-00001.jsonl`]);
      expect([other.status, other.stdout.equals(plain.subarray(0, 100))]).toEqual([0, true]);
    } finally {
      own.child.kill("SIGTERM");
    }
    // the gateway recorded the refusal with its reason
    const audit = JSON.parse(run("audit", "list", "--json").stdout.toString()) as { operation: string; context: string | null }[];
    expect(audit.some((a) => a.operation === "gateway.reject" && /revoked/.test(a.context ?? ""))).toBe(true);
  }, 30_000);

  it("one-line typed errors for bad arguments", () => {
    const noAllow = run("gateway", "--root", path.join(dir, "datasets"), "--cert", path.join(dir, "certs", "gateway"));
    expect([noAllow.status, noAllow.stderr]).toEqual([2, expect.stringMatching(/^pipeseal: .*--allow.*\[INVALID_ARGUMENT\]\n$/)]);
    const badAllow = run("gateway", "--root", path.join(dir, "datasets"), "--cert", path.join(dir, "certs", "gateway"), "--allow", "trainer");
    expect([badAllow.status, badAllow.stderr]).toEqual([2, expect.stringMatching(/^pipeseal: --allow "trainer" is not spiffe:.*\[INVALID_ARGUMENT\]\n$/)]);
    writeFileSync(path.join(dir, "gateway.yaml"), 'rules:\n  - identities: ["spiffe://acme.ml/prod/x"]\n    pathz: [a]\n');
    const badPolicy = run(
      "gateway",
      "--root",
      path.join(dir, "datasets"),
      "--cert",
      path.join(dir, "certs", "gateway"),
      "--policy",
      path.join(dir, "gateway.yaml"),
    );
    expect([badPolicy.status, badPolicy.stderr]).toEqual([
      2,
      expect.stringMatching(/gateway.yaml:3:5: rules\[0\]\.pathz: unknown key "pathz".*\[INVALID_ARGUMENT\]\n$/),
    ]);
    const badListen = run(
      "gateway",
      "--root",
      path.join(dir, "datasets"),
      "--cert",
      path.join(dir, "certs", "gateway"),
      "--allow",
      "spiffe://acme.ml/prod/*",
      "--listen",
      "nope",
    );
    expect(badListen.stderr).toMatch(/--listen "nope" is not HOST:PORT \[INVALID_ARGUMENT\]/);
  });
});
