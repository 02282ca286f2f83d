/** The built CLI against a real key service: every existing command through --server/--cert, `serve` and `policy`. */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../cli/run-cli.js";
import { type Harness, POLICY, runCli, startHarness, WHO } from "./api-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const run = (args: string[]) => runCli(args, { HOME: h.dir });
const as = (who: keyof typeof WHO, ...args: string[]) => run(["--server", h.svc.url, "--cert", h.certs[who], ...args]);

describe("pipeseal --server … (built CLI)", () => {
  it("encrypt / decrypt a file through the service; key list; audit", async () => {
    const input = path.join(h.dir, "data.csv");
    writeFileSync(input, "id,name\n1,alice\n".repeat(5000));
    const head = (await h.svc.store.listAudit()).at(-1)?.seq ?? 0;
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
    // and a rewrap, which releases no key: one record too
    const rewrap = await as("trainer", "rewrap", `${input}.pseal`);
    expect(rewrap.stderr).toBe("");
    // one record per allowed operation, carrying its rule; the refusal is one authz record with its rule
    const added = (await h.svc.store.listAudit()).filter((r) => r.seq > head && r.operation !== "key.list");
    expect(added.map((r) => [r.operation, r.principal, r.outcome, (JSON.parse(r.context ?? "{}") as Record<string, string>)["@rule"]])).toEqual([
      ["datakey.generate", WHO.trainer, "ok", "train"], // the CLI's own data key, wrapped by the service
      ["decrypt", WHO.trainer, "ok", "train"],
      ["authz.unwrap", WHO.admin, "denied", "builtin:admin-no-plaintext"],
      ["rewrap", WHO.trainer, "ok", "train"],
    ]);
    const audit = await as("auditor", "audit", "list", "--limit", "50", "--json");
    expect(audit.status).toBe(0);
    expect(
      JSON.parse(audit.stdout.toString()).some((r: { operation: string; principal: string }) => r.operation === "decrypt" && r.principal === WHO.trainer),
    ).toBe(true);
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
    // an open proposal is listed; the active policy is still the bootstrap file
    const pending = await as("pa1", "policy", "list", "--json");
    expect(pending.status, pending.stderr).toBe(0);
    expect(JSON.parse(pending.stdout.toString())).toEqual([expect.objectContaining({ id, state: "proposed", proposer: WHO.pa1 })]);
    const none = await as("pa1", "policy", "show");
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no policy has been approved .*\[NOT_FOUND\]/);
    expect((await as("pa2", "policy", "approve", id)).stdout.toString()).toMatch(/approved/);
    const shown = await as("pa1", "policy", "show");
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout.toString()).toBe(readFileSync(file, "utf8"));
    expect(shown.stderr).toContain(`approved by ${WHO.pa2}`);
    const list = await as("pa2", "policy", "list");
    expect(list.stdout.toString()).toMatch(new RegExp(`^${id}  active .*approved by ${WHO.pa2.replace(/[/.]/g, "\\$&")}`, "m"));
    // who may not propose cannot read the policy either (its text names every identity and grant)
    const denied = await as("trainer", "policy", "show");
    expect(denied.status).toBe(7);
    expect(denied.stderr).toMatch(/ACCESS_DENIED/);
  });

  it("audit export through the service once the approved policy grants it; a refusal exits 7, a service that is down exits 1", async () => {
    // the test above approved a policy that gives the auditor audit.export
    const out = path.join(h.dir, "audit.jsonl");
    const ok = await as("auditor", "audit", "export", "--since", "1h", "-o", out);
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const lines = readFileSync(out, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ schema: "pipeseal.audit.v1", operation: "audit.export", principal: WHO.auditor, outcome: "ok", rule: "audit" }); // the export is one record, its own, with its rule
    const toStdout = await as("auditor", "audit", "export");
    expect(toStdout.stdout.toString().split("\n").length).toBeGreaterThan(lines.length);
    for (const [who, args] of [
      ["trainer", ["audit", "export"]],
      ["trainer", ["key", "rotate", "prod/datasets/raw"]],
      ["admin", ["audit", "export", "-o", path.join(h.dir, "nope.jsonl")]],
    ] as const) {
      const denied = await as(who, ...args);
      expect(denied.status).toBe(7);
      expect(denied.stderr).toMatch(/^pipeseal: key service: .* denied .*\[ACCESS_DENIED\]\n$/);
      expect(denied.stdout.length).toBe(0);
    }
    expect(existsSync(path.join(h.dir, "nope.jsonl"))).toBe(false);
    // nothing listens on port 1: a clear one-line error after bounded retries, not a hang
    const down = await run(["--server", "https://127.0.0.1:1", "--cert", h.certs.auditor, "audit", "export"]);
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(
      /^pipeseal: TLS connection failed .*: the key service at https:\/\/127\.0\.0\.1:1 did not answer after \d+ attempt\(s\) \(ECONNREFUSED\) \[TLS_CONNECT_FAILED\]\n$/,
    );
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
    // the new keystore holds only the service's token key, which the trainer may not `key show`, so it is not listed
    expect(JSON.parse(r.stdout.toString()).map((k: { name: string }) => k.name)).toEqual([]);
    child.kill("SIGTERM");
    expect(await new Promise((resolve) => child.on("exit", (code) => resolve(code)))).toBe(0);
  });
});
