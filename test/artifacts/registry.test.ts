import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FolderRegistry,
  listRegistry,
  pullModel,
  pushModel,
  saveCheckpoint,
  loadCheckpoint,
  trustFromKeys,
  createSigningKey,
} from "../../src/artifacts/index.js";
import { initKeystore, openKeystore } from "../../src/keys/index.js";
import { tempDir } from "../helpers/keystore.js";
import { CLI, cli } from "../cli/run-cli.js";
import { makeModel, setup, type Env } from "./helpers.js";

let env: Env;
beforeAll(async () => {
  env = await setup();
});

const ref = (name: string, version: string) => ({ name, version });
/** Everything in a folder, recursively (to prove nothing was written). */
const listAll = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : []);

describe("registry push/pull", () => {
  it("round trip: pulled files equal the originals; list shows digests, signer, key and the pull", async () => {
    const dir = makeModel();
    const reg = new FolderRegistry(path.join(tempDir(), "reg"));
    const pushed = await pushModel(env.ks, reg, dir, ref("churn", "3"), { keyName: "models/prod", signer: env.signer });
    expect(pushed.files).toBe(3);
    const out = path.join(tempDir(), "deploy", "churn-v3");
    mkdirSync(path.dirname(out));
    await pullModel(env.ks, reg, ref("churn", "3"), out, { trust: env.trust(["churn"]) });
    for (const f of ["weights.bin", "config/model.json", "README.md"])
      expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(dir, f)))).toBe(true);
    expect(existsSync(path.join(out, ".git"))).toBe(false);
    const [entry] = await listRegistry(reg);
    expect(entry).toMatchObject({
      name: "churn",
      version: "3",
      signed: true,
      signerHint: env.signer.info.hint,
      encryptionKey: "models/prod",
      pushedBy: "tester",
    });
    expect(entry!.files.every((f) => /^[0-9a-f]{64}$/.test(f.digest ?? ""))).toBe(true);
    expect(entry!.pulls).toEqual([expect.objectContaining({ principal: "tester", outcome: "ok" })]);
    const audit = env.ks.listAudit().map((r) => r.operation);
    expect(audit).toEqual(expect.arrayContaining(["registry.push", "registry.pull"]));
    // sealed objects carry no plaintext
    const obj = readFileSync(path.join(reg.location, "churn", "3", "objects", "0.pseal"));
    expect(obj.includes(Buffer.from("# churn"))).toBe(false);
    // the same version cannot be pushed twice
    await expect(pushModel(env.ks, reg, dir, ref("churn", "3"), { keyName: "models/prod", signer: env.signer })).rejects.toMatchObject({
      code: "ARTIFACT_EXISTS",
    });
  });

  describe("pull refuses and writes nothing", () => {
    let reg: FolderRegistry;
    beforeAll(async () => {
      reg = new FolderRegistry(path.join(tempDir(), "reg"));
      await pushModel(env.ks, reg, makeModel(), ref("churn", "1"), { keyName: "models/prod", signer: env.signer });
    });
    const attempt = async (trustNames: string[], mutate?: (vdir: string) => void, version = "1") => {
      const vdir = path.join(reg.location, "churn", version);
      const parent = tempDir();
      const out = path.join(parent, "out");
      const copyReg = new FolderRegistry(path.join(tempDir(), "reg"));
      await import("node:fs").then((fs) => fs.cpSync(reg.location, copyReg.location, { recursive: true }));
      mutate?.(path.join(copyReg.location, path.relative(reg.location, vdir)));
      const err = await pullModel(env.ks, copyReg, ref("churn", version), out, { trust: env.trust(trustNames) }).then(
        () => undefined,
        (e) => e,
      );
      expect(listAll(parent)).toEqual([]); // no output, no temp folder
      return err;
    };
    it("untrusted signer", async () => {
      expect(await attempt(["someone-else"])).toMatchObject({ code: "SIGNER_UNTRUSTED" });
    });
    it("unsigned version", async () => {
      expect(await attempt(["churn"], (v) => rmSync(path.join(v, "signature.json")))).toMatchObject({
        code: "ARTIFACT_UNSIGNED",
        problems: [expect.objectContaining({ kind: "unsigned" })],
      });
    });
    it("a tampered sealed object (last byte of the last file)", async () => {
      const e = await attempt(["churn"], (v) => {
        const p = path.join(v, "objects", "2.pseal");
        const b = readFileSync(p);
        b[b.length - 1]! ^= 1;
        writeFileSync(p, b);
      });
      expect(e).toMatchObject({ code: "DECRYPT_FAILED" });
    });
    it("objects swapped between paths", async () => {
      const e = await attempt(["churn"], (v) => {
        const a = readFileSync(path.join(v, "objects", "0.pseal"));
        writeFileSync(path.join(v, "objects", "0.pseal"), readFileSync(path.join(v, "objects", "1.pseal")));
        writeFileSync(path.join(v, "objects", "1.pseal"), a);
      });
      expect(e).toMatchObject({ code: "ARTIFACT_MISMATCH", problems: [expect.objectContaining({ kind: "changed" })] });
    });
    it("a file added to meta.json", async () => {
      const e = await attempt(["churn"], (v) => {
        const m = JSON.parse(readFileSync(path.join(v, "meta.json"), "utf8"));
        m.files.push({ path: "backdoor.py", object: "objects/9.pseal", size: 1 });
        writeFileSync(path.join(v, "meta.json"), JSON.stringify(m));
      });
      expect(e).toMatchObject({ code: "ARTIFACT_MISMATCH", problems: [{ kind: "added", path: "backdoor.py" }] });
    });
    it("refusals are on record", async () => {
      const recs = env.ks.listAudit().filter((r) => r.operation === "registry.pull");
      expect(recs.some((r) => r.outcome !== "ok")).toBe(true);
    });
  });

  it("a SIGKILLed push leaves no half-published version", async () => {
    const root = tempDir();
    const home = path.join(root, "ks");
    await initKeystore(home);
    const ks = await openKeystore(home);
    ks.createKey("models/prod");
    await createSigningKey(ks, home, "models/signing", "p256");
    ks.close();
    const dir = makeModel("big", 256 * 1024 * 1024);
    const reg = path.join(root, "reg");
    const env_ = { PIPESEAL_HOME: home };
    let published = 0;
    const staging = path.join(reg, ".staging");
    let killedMidPush = 0;
    for (const [i, extraMs] of [0, 150, 400].entries()) {
      await new Promise<void>((resolve) => {
        const child = spawn(
          process.execPath,
          [CLI, "registry", "push", dir, reg, "--name", "big", "--version", `v${i}`, "--key", "models/prod", "--sign-key", "models/signing"],
          { env: { PATH: process.env.PATH ?? "", ...env_ }, stdio: "ignore" },
        );
        // kill once the push has started writing (a staging entry exists), plus a little more: mid-push by construction
        const poll = setInterval(() => {
          if (existsSync(staging) && readdirSync(staging).length > 0) {
            clearInterval(poll);
            setTimeout(() => {
              if (child.exitCode === null) killedMidPush++;
              child.kill("SIGKILL");
            }, extraMs);
          }
        }, 10);
        child.on("exit", () => {
          clearInterval(poll);
          resolve();
        });
      });
      const versions = await new FolderRegistry(reg).listVersions();
      // either the whole version is there and pulls, or it is absent
      if (versions.some((v) => v.version === `v${i}`)) published++;
    }
    const entries = await listRegistry(new FolderRegistry(reg));
    expect(entries.length).toBe(published);
    expect(killedMidPush).toBeGreaterThan(0);
    expect(existsSync(path.join(reg, "big", "v0"))).toBe(false);
    // a complete push afterwards works
    const r = cli(["registry", "push", dir, reg, "--name", "big", "--version", "final", "--key", "models/prod", "--sign-key", "models/signing"], env_);
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);
});

describe("checkpoints", () => {
  it("keep last N: older checkpoints deleted, their key versions destroyed", async () => {
    const reg = new FolderRegistry(path.join(tempDir(), "reg"));
    const dir = makeModel("ckpt", 1000);
    for (const step of [100, 200, 300, 400]) await saveCheckpoint(env.ks, reg, dir, { run: "r1", step, signer: env.signer, keep: 2 });
    expect((await reg.listVersions()).map((v) => v.version)).toEqual(["300", "400"]);
    const key = env.ks.showKey("checkpoints/r1");
    expect(key.versions.map((v) => [v.version, v.state])).toEqual([
      [1, "destroyed"],
      [2, "destroyed"],
      [3, "enabled"],
      [4, "enabled"],
    ]);
    const out = path.join(tempDir(), "loaded");
    const r = await loadCheckpoint(env.ks, reg, "r1", out, { trust: trustFromKeys({ "ckpt.r1": [env.signer.info.publicKeyPem] }) });
    expect(r.ref.version).toBe("400");
    expect(env.ks.listAudit().some((a) => a.operation === "checkpoint.prune")).toBe(true);
  });
});
