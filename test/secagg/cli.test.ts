/** `pipeseal secagg serve|submit|result` as users run them: the built CLI, certificates from `pipeseal ca issue`, vectors from numpy. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";
import { plainSum, vectors } from "./harness.js";

let dir: string;
let child: ChildProcess | undefined;
let url = "";
const N = 7;
const DIM = 32;
const env = () => ({ PIPESEAL_PRINCIPAL: "ops" });
const run = (...args: string[]) => cli(["--home", path.join(dir, "ks"), ...args], env());
const certs = (name: string) => path.join(dir, "certs", name);
const inputs = vectors(N, DIM, 21);

function runAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env() } });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    c.on("exit", (status) => resolve({ status, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = tempDir("pipeseal-secagg-cli-");
  expect(run("init").status).toBe(0);
  expect(run("ca", "init", "--name", "acme ML", "--trust-domain", "acme.ml").status).toBe(0);
  expect(run("ca", "issue", "aggregator", "--env", "prod", "--ip", "127.0.0.1", "--out", certs("aggregator")).status).toBe(0);
  for (let i = 0; i < N; i++) expect(run("ca", "issue", `hospital-${i}`, "--env", "eu", "--client", "--out", certs(`hospital-${i}`)).status).toBe(0);
  // three input formats: raw Float32, JSON, and .npy written by numpy
  for (let i = 0; i < N; i++) {
    const v = inputs[i]!;
    if (i % 3 === 0) writeFileSync(path.join(dir, `u${i}.f32`), Buffer.from(v.buffer));
    else if (i % 3 === 1) writeFileSync(path.join(dir, `u${i}.json`), JSON.stringify(Array.from(v)));
    else {
      writeFileSync(path.join(dir, `u${i}.f32.tmp`), Buffer.from(v.buffer));
      execFileSync("/usr/bin/python3", [
        "-c",
        "import numpy as np, sys; np.save(sys.argv[2], np.fromfile(sys.argv[1], dtype='<f4'))",
        path.join(dir, `u${i}.f32.tmp`),
        path.join(dir, `u${i}.npy`),
      ]);
    }
  }
  child = spawn(
    process.execPath,
    [
      CLI,
      "--home",
      path.join(dir, "ks"),
      "secagg",
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--cert",
      certs("aggregator"),
      "--parties",
      "spiffe://acme.ml/*/hospital-*",
      "--min-parties",
      "7",
      "--threshold",
      "4",
      "--dim",
      String(DIM),
      "--step-timeout",
      "20s",
    ],
    { env: { PATH: process.env.PATH ?? "", ...env() }, stdio: ["ignore", "ignore", "pipe"] },
  );
  url = await new Promise<string>((resolve, reject) => {
    let err = "";
    child!.stderr!.on("data", (c: Buffer) => {
      err += c.toString();
      const m = /aggregating on (https:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child!.once("exit", () => reject(new Error(err)));
  });
}, 120_000);

afterAll(() => {
  child?.kill("SIGTERM");
});

const file = (i: number) => path.join(dir, i % 3 === 0 ? `u${i}.f32` : i % 3 === 1 ? `u${i}.json` : `u${i}.npy`);

describe("pipeseal secagg (built CLI)", () => {
  it("serve, 7 × submit (Float32, JSON, npy), result -o sum.f32 --json: the plain sum within the bound", async () => {
    const outs = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        runAsync(["secagg", "submit", "--server", url, "--cert", certs(`hospital-${i}`), "--round", "r42", file(i), "--json"]),
      ),
    );
    for (const o of outs) expect([o.status, o.stderr]).toEqual([0, ""]);
    expect(JSON.parse(outs[0]!.stdout)).toMatchObject({ round: "r42", parties: N });
    const sumFile = path.join(dir, "sum.f32");
    const r = await runAsync(["secagg", "result", "--server", url, "--cert", certs("hospital-0"), "--round", "r42", "-o", sumFile, "--json"]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ round: "r42", inputs: N, dim: DIM, output: sumFile });
    const got = readFileSync(sumFile);
    const want = plainSum(inputs);
    for (let i = 0; i < DIM; i++) expect(Math.abs(got.readFloatLE(4 * i) - want[i]!)).toBeLessThanOrEqual(summary.errorBound + 1e-5); // + Float32 rounding of the file
    const audit = JSON.parse(run("audit", "list", "--json").stdout.toString()) as {
      operation: string;
      outcome: string;
      context: Record<string, string> | string | null;
    }[];
    const rec = audit.find((a) => a.operation === "secagg.round")!;
    expect(rec.outcome).toBe("ok");
    expect(JSON.stringify(rec.context)).toContain(summary.sha256);
  }, 120_000);

  it("one-line typed errors: wrong vector length, unknown round, bad threshold", async () => {
    writeFileSync(path.join(dir, "short.json"), "[1, 2, 3]");
    const short = await runAsync(["secagg", "submit", "--server", url, "--cert", certs("hospital-1"), "--round", "r43", path.join(dir, "short.json")]);
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/^pipeseal: .*dimension is 32 \[SECAGG_PROTOCOL\]\n$/);
    const none = await runAsync(["secagg", "result", "--server", url, "--cert", certs("hospital-1"), "--round", "nope", "-o", path.join(dir, "x.f32")]);
    expect(none.stderr).toMatch(/^pipeseal: .*no round nope \[NOT_FOUND\]\n$/);
    for (const sub of ["serve", "submit", "result"]) expect(run("secagg", sub, "--help").stdout.toString()).toContain(`Usage: pipeseal secagg ${sub}`);
    const bad = run(
      "secagg",
      "serve",
      "--cert",
      certs("aggregator"),
      "--parties",
      "spiffe://acme.ml/*/hospital-*",
      "--threshold",
      "3",
      "--max-parties",
      "9",
      "--dim",
      "4",
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^pipeseal: round configuration: full graph: the threshold must exceed half of the parties.* \[SECAGG_PROTOCOL\]\n$/);
  }, 60_000);
});
