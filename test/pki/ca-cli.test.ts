/** `pipeseal ca …` through the built CLI (npm run build first), on real files. */
import { X509Certificate } from "node:crypto";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI, cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

let dir: string;
const run = (...args: string[]) => cli(["--home", path.join(dir, "ks"), ...args], { PIPESEAL_PRINCIPAL: "ops" });
const serialOf = (file: string) => new X509Certificate(readFileSync(file)).serialNumber.toLowerCase();

beforeAll(() => {
  dir = tempDir("pipeseal-ca-cli-");
  expect(run("init").status).toBe(0);
  const init = run("ca", "init", "--name", "acme ML", "--trust-domain", "acme.ml", "--max-ttl", "48h");
  expect(init.stderr).toBe("");
  expect(init.stdout.toString()).toMatch(/pipeseal ca export -o ca\.pem/);
});

describe("pipeseal ca (built CLI)", () => {
  it("exports, issues, lists, revokes and writes a CRL", () => {
    expect(run("ca", "init").stderr).toMatch(/\[CA_EXISTS\]/);
    expect(run("ca", "export", "-o", path.join(dir, "ca.pem")).status).toBe(0);
    expect(readFileSync(path.join(dir, "ca.pem"), "utf8").match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const out = path.join(dir, "certs", "fs");
    const issued = run("ca", "issue", "feature-store", "--env", "prod", "--dns", "feature-store.internal", "--ip", "10.0.0.5", "--out", out, "--json");
    expect(issued.status).toBe(0);
    const info = JSON.parse(issued.stdout.toString());
    expect(info.identity).toBe("spiffe://acme.ml/prod/feature-store");
    expect(serialOf(path.join(out, "cert.pem"))).toBe(info.serial);
    expect(run("ca", "issue", "feature-store", "--env", "prod", "--out", out).stderr).toMatch(/--force/);
    const tooLong = run("ca", "issue", "x", "--env", "prod", "--ttl", "49h", "--out", path.join(dir, "certs", "x"));
    expect([tooLong.status, tooLong.stderr]).toEqual([2, expect.stringMatching(/maximum.*\[INVALID_ARGUMENT\]/)]);
    const badCsr = run("ca", "issue", "x", "--env", "prod", "--csr", path.join(dir, "ca.pem"), "--out", path.join(dir, "certs", "x"));
    expect(badCsr.stderr).toMatch(/\[CERT_MALFORMED\]/);

    expect(run("ca", "revoke", info.serial, "--reason", "keyCompromise").status).toBe(0);
    expect(run("ca", "revoke", "00ff00ff", "--reason", "keyCompromise").stderr).toMatch(/\[CERT_NOT_FOUND\]/);
    expect(run("ca", "revoke", info.serial, "--reason", "whim").status).toBe(2);
    const list = run("ca", "list");
    expect(list.stdout.toString()).toMatch(new RegExp(`${info.serial}\\s+revoked\\s+\\S+\\s+server\\s+spiffe://acme.ml/prod/feature-store`));
    expect(JSON.parse(run("ca", "list", "--json").stdout.toString())[0]).toMatchObject({
      serial: info.serial,
      status: "revoked",
      revocationReason: "keyCompromise",
    });
    expect(run("ca", "crl", "-o", path.join(dir, "crl.pem"), "--next-update", "1h").status).toBe(0);
    expect(readFileSync(path.join(dir, "crl.pem"), "utf8")).toMatch(/^-----BEGIN X509 CRL-----/);
  });

  it("renew: not due exits 0 and says when; --force renews", () => {
    const out = path.join(dir, "certs", "reg");
    expect(run("ca", "issue", "registry", "--env", "prod", "--out", out).status).toBe(0);
    const before = serialOf(path.join(out, "cert.pem"));
    const early = run("ca", "renew", out);
    expect(early.status).toBe(0);
    expect(early.stdout.toString()).toMatch(/not due: .* due for renewal at \d{4}-/);
    expect(serialOf(path.join(out, "cert.pem"))).toBe(before);
    const forced = run("ca", "renew", out, "--force");
    expect(forced.status).toBe(0);
    expect(serialOf(path.join(out, "cert.pem"))).not.toBe(before);
  });

  it("renew --watch --force renews at once, says what it watches and when it renews next, then stops on SIGTERM", async () => {
    // the renewals at each 2/3 point are tested on a clock the test moves (ca-watch.test.ts): nothing here waits for one
    const out = path.join(dir, "certs", "watched");
    expect(run("ca", "issue", "trainer", "--env", "prod", "--client", "--ttl", "1h", "--out", out).status).toBe(0);
    const first = serialOf(path.join(out, "cert.pem"));
    const child = spawn(process.execPath, [CLI, "--home", path.join(dir, "ks"), "ca", "renew", out, "--watch", "--force"], {
      env: { PATH: process.env.PATH ?? "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!stdout.includes("\n") && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGTERM");
    expect(await exited, stderr).toBe(0);
    // one renewal line (the forced one), one start line that names the new certificate and its renewal point; nothing else
    const renewed = /^\S+ renewed .*watched: ([0-9a-f]+) → ([0-9a-f]+) until \S+, next due (\S+)\n$/.exec(stdout);
    expect(renewed, stdout).not.toBeNull();
    const [, previous, current, due] = renewed!;
    expect(previous).toBe(first);
    expect(serialOf(path.join(out, "cert.pem"))).toBe(current);
    const start = /^pipeseal: watching (.+): certificate ([0-9a-f]+) valid until \S+; next renewal at (\S+) \(stop with Ctrl-C or SIGTERM\)\n$/.exec(stderr);
    expect(start?.slice(1), stderr).toEqual([out, current, due]);
    const certs = JSON.parse(run("ca", "list", "--json").stdout.toString()) as { serial: string; status: string }[];
    expect([first, current].map((s) => certs.find((c) => c.serial === s)?.status)).toEqual(["superseded", "valid"]);
  }, 30_000);

  it("the audit chain holds the ca.* records and verifies", () => {
    const audit = run("audit", "verify");
    expect(audit.status).toBe(0);
    const listed = run("audit", "list", "--json").stdout.toString();
    for (const op of ["ca.init", "ca.issue", "ca.renew", "ca.revoke", "ca.crl"]) expect(listed).toContain(`"${op}"`);
  });
});
