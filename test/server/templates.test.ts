/**
 * Issue 23: `pipeseal serve init` and `pipeseal policy init` print files a newcomer can start
 * a real key service from, unchanged but for the port: the service starts on them, a workload
 * wraps and unwraps, and the separation of duties holds (the key admin cannot unwrap).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RemoteKeyring } from "../../src/client/index.js";
import { initKeystore, openKeystore } from "../../src/keys/index.js";
import { initCa, issueCertificate, writeCertDir } from "../../src/pki/ca/index.js";
import { parseConfig } from "../../src/server/config.js";
import { parsePolicy } from "../../src/server/policy/index.js";
import { type RunningKeyService, startKeyService } from "../../src/server/server.js";
import { runCli } from "./api-harness.js";

const dir = mkdtempSync(path.join(tmpdir(), "pipeseal-templates-"));
let svc: RunningKeyService | undefined;
afterAll(async () => {
  await svc?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("serve init / policy init", () => {
  it("print a config and a policy that parse; a real service starts on them and enforces separation of duties", async () => {
    const config = await runCli(["serve", "init", "--trust-domain", "acme.ml", "--env", "prod"]);
    const policy = await runCli(["policy", "init", "--trust-domain", "acme.ml", "--env", "prod"]);
    expect(config.status, config.stderr).toBe(0);
    expect(policy.status, policy.stderr).toBe(0);
    const policyText = policy.stdout.toString();
    expect(() => parsePolicy(policyText)).not.toThrow();
    expect(policyText).toContain("spiffe://acme.ml/prod/trainer");

    const home = path.join(dir, ".pipeseal");
    await initKeystore(home);
    const ks = await openKeystore(home, { principal: "setup" });
    const certs = (n: string) => path.join(dir, "certs", n);
    try {
      await initCa(ks, { trustDomain: "acme.ml" });
      await writeCertDir(certs("keys"), await issueCertificate(ks, { service: "keys", env: "prod", dns: ["localhost"], ip: ["127.0.0.1"] }));
      for (const who of ["trainer", "ops-alice"]) await writeCertDir(certs(who), await issueCertificate(ks, { service: who, env: "prod", client: true }));
    } finally {
      ks.close();
    }
    writeFileSync(path.join(dir, "policy.yaml"), policyText);
    const configText = config.stdout.toString().replace("port: 8443", "port: 0");
    writeFileSync(path.join(dir, "keyservice.yaml"), configText);
    svc = await startKeyService(parseConfig(configText, dir));
    const admin = await RemoteKeyring.connect({ url: svc.url, certDir: certs("ops-alice") });
    const trainer = await RemoteKeyring.connect({ url: svc.url, certDir: certs("trainer") });
    try {
      expect(trainer.id).toBe("ks:keys.prod");
      await admin.createKey("prod/datasets/raw");
      const entry = await trainer.wrap("prod/datasets/raw", randomBytes(32), { dataset: "raw" });
      (await trainer.unwrap(entry, { dataset: "raw" }, { operation: "decrypt" })).fill(0);
      await expect(admin.unwrap(entry, { dataset: "raw" }, { operation: "decrypt" })).rejects.toMatchObject({ serviceCode: "ACCESS_DENIED" });
      await expect(trainer.rotateKey("prod/datasets/raw")).rejects.toMatchObject({ serviceCode: "ACCESS_DENIED" });
    } finally {
      await admin.close();
      await trainer.close();
    }
  }, 60_000);

  it("bad names are one-line usage errors; serve without --config points to serve init", async () => {
    const bad = await runCli(["policy", "init", "--trust-domain", "Acme ML"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^pipeseal: --trust-domain must be .* \[INVALID_ARGUMENT\]\n$/);
    const serve = await runCli(["serve"]);
    expect(serve.status).toBe(2);
    expect(serve.stderr).toContain("pipeseal serve init > keyservice.yaml");
  });
});
