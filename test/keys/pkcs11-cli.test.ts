/**
 * The built CLI (`node dist/cli/main.js`) with the root key in SoftHSM2: `init --hsm`, then
 * every command in a new process opens the keystore through PIPESEAL_PKCS11_PIN_FILE.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";
import { type SoftHsm, createSoftHsm, softhsmAvailable } from "../helpers/softhsm.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const main = path.join(root, "dist", "cli", "main.js");
const PIN = "246810";

it("has SoftHSM2 (run scripts/setup.sh)", () => expect(softhsmAvailable()).toBe(true));

describe.skipIf(!softhsmAvailable())("pipeseal CLI with an HSM root (built, new processes)", () => {
  let hsm: SoftHsm;
  let dir: string;
  let pinFile: string;
  beforeAll(() => {
    // npm test builds dist/ first; rebuilding here would rewrite it under the other CLI tests running beside this one.
    if (!existsSync(path.join(root, "dist", "keys", "pkcs11", "root-key.js"))) throw new Error("dist/keys/pkcs11 is missing: run npm run build");
    hsm = createSoftHsm();
    hsm.initToken("cli-token", PIN);
    dir = tempDir();
    pinFile = path.join(dir, "pin");
    writeFileSync(pinFile, PIN + "\n", { mode: 0o600 });
  });
  afterAll(() => hsm?.cleanup());

  function cli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string) {
    const base = { ...hsm.env(), PIPESEAL_HOME: path.join(dir, "home"), PIPESEAL_PRINCIPAL: "cli-test" };
    for (const k of ["PIPESEAL_PKCS11_PIN_FILE", "PIPESEAL_PKCS11_PIN", "PIPESEAL_ALLOW_ENV_PIN", "PIPESEAL_PKCS11_MODULE", "PIPESEAL_PKCS11_TOKEN"])
      delete base[k];
    const r = spawnSync(process.execPath, [main, ...args], { env: { ...base, ...env }, encoding: "utf8", input, cwd: dir });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it("init --hsm, then key create / encrypt / rotate / rewrap / decrypt / audit verify, each in a new process", () => {
    const init = cli(["init", "--hsm", "--pkcs11-module", hsm.module, "--token", "cli-token", "--pin-file", pinFile, "--json"]);
    expect(init.stderr).toBe("");
    expect(init.status).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ masterKey: "hsm", pkcs11: { token: "cli-token", keyLabel: "pipeseal-root" } });
    expect(readdirSync(path.join(dir, "home"))).toEqual(["keystore.db"]);

    const env = { PIPESEAL_PKCS11_PIN_FILE: pinFile };
    expect(cli(["key", "create", "datasets/raw"], env).status).toBe(0);
    const plain = path.join(dir, "data.csv");
    writeFileSync(plain, "id,name\n1,Ada\n");
    const enc = cli(["encrypt", "--key", "datasets/raw", "-c", "stage=landing", plain], env);
    expect(enc.stderr).toBe("");
    expect(enc.status).toBe(0);
    expect(cli(["key", "rotate", "datasets/raw"], env).status).toBe(0);
    const rew = cli(["rewrap", `${plain}.pseal`], env);
    expect([rew.status, rew.stderr]).toEqual([0, ""]);
    const dec = cli(["decrypt", "-o", path.join(dir, "out.csv"), `${plain}.pseal`], env);
    expect([dec.status, dec.stderr]).toEqual([0, ""]);
    expect(readFileSync(path.join(dir, "out.csv"), "utf8")).toBe("id,name\n1,Ada\n");
    const verify = cli(["audit", "verify", "--json"], env);
    expect(verify.status).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });

    // posture opens the HSM-rooted keystore the same way: the sealed file is verified under its key
    const sealedDir = path.join(dir, "landing");
    mkdirSync(sealedDir);
    renameSync(`${plain}.pseal`, path.join(sealedDir, "data.csv.pseal"));
    writeFileSync(
      path.join(dir, "pipeline.yaml"),
      `version: 1\nname: hsm\nkeys: { home: ./home }\nstages:\n  landing:\n    stores:\n      - { id: raw, kind: folder, path: ./landing, classification: pii, key: datasets/raw, context: { stage: landing }, retention: 30d }\n`,
    );
    const posture = cli(["posture", "check", "pipeline.yaml", "--json", "--fail-on", "high"], env);
    expect(posture.stderr).toBe("");
    expect(posture.status).toBe(0);
    expect(JSON.parse(posture.stdout).answers.keys).toEqual([
      expect.objectContaining({ store: "raw", sealedFiles: 1, plaintextFiles: 0, keysSeen: [{ key: "datasets/raw", version: 2, files: 1 }] }),
    ]);
  });

  it("without the PIN, with a wrong PIN, or with the PIN on argv: a typed error and exit 4 (or usage 2)", () => {
    const none = cli(["key", "list"]);
    expect(none.status).toBe(4);
    expect(none.stderr).toMatch(/MASTER_KEY_UNAVAILABLE/);
    expect(none.stderr).toMatch(/PIPESEAL_PKCS11_PIN_FILE/);
    const wrongFile = path.join(dir, "wrong-pin");
    writeFileSync(wrongFile, "000000", { mode: 0o600 });
    const wrong = cli(["key", "list"], { PIPESEAL_PKCS11_PIN_FILE: wrongFile });
    expect(wrong.status).toBe(4);
    expect(wrong.stderr).toMatch(/PIN is wrong.*MASTER_KEY_UNAVAILABLE/);
    const envNoOptIn = cli(["key", "list"], { PIPESEAL_PKCS11_PIN: PIN });
    expect(envNoOptIn.status).toBe(4);
    expect(envNoOptIn.stderr).toMatch(/PIPESEAL_ALLOW_ENV_PIN/);
    expect(cli(["key", "list"], { PIPESEAL_PKCS11_PIN: PIN, PIPESEAL_ALLOW_ENV_PIN: "1" }).status).toBe(0);
    // no --pin flag exists: commander refuses it as unknown
    expect(cli(["init", "--hsm", "--pin", PIN]).status).not.toBe(0);
    const badModule = cli(["key", "list"], { PIPESEAL_PKCS11_PIN_FILE: pinFile, PIPESEAL_PKCS11_MODULE: "/nonexistent/lib.so" });
    expect(badModule.status).toBe(4);
    expect(badModule.stderr).toMatch(/does not exist/);
  });
});
