/**
 * `pipeseal serve` with the root key in SoftHSM2 (a real token through the helper), from
 * keyservice.yaml's `root.pkcs11`: create / rotate / wrap / unwrap over the mTLS API on a
 * keystore made with `init --hsm` and on PostgreSQL (root keys generated in the token on
 * first start, opened on the next); the PIN never from the YAML unless allowed; a wrong PIN,
 * a loose PIN file or another token key is a clear error at start-up, never a crash.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initKeystore } from "../../src/keys/index.js";
import { parseConfig } from "../../src/server/config.js";
import { openConfiguredStore } from "../../src/server/server.js";
import type { WrappedKey } from "../../src/keys/keyring.js";
import { postgresBinDir, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { type SoftHsm, createSoftHsm, softhsmAvailable } from "../helpers/softhsm.js";
import { type Harness, runCli, startHarness, TD } from "./api-harness.js";

const PIN = "4321";
const ctx = { dataset: "raw" };
const available = softhsmAvailable() && postgresBinDir() !== null;
it("has SoftHSM2 and PostgreSQL (run scripts/setup.sh)", () => expect(available).toBe(true));

const head = (store: string, root: string) =>
  `listen: { host: 127.0.0.1, port: 0 }\ncertDir: certs/server\nallow: ["${TD}/*/*"]\nkeyringId: ks:test\nstore: ${store}\npolicy: policy.yaml\nroot:\n  pkcs11:\n${root}`;

/** Create, wrap, rotate, unwrap both versions, rewrap: the whole key path through the token. */
async function roundTrip(h: Harness, key: string): Promise<void> {
  const admin = h.keyring("admin");
  const trainer = h.keyring("trainer");
  expect((await admin.createKey(key)).primaryVersion).toBe(1);
  const dk = randomBytes(32);
  const e1 = await trainer.wrap(key, dk, ctx);
  expect((await admin.rotateKey(key)).primaryVersion).toBe(2);
  const e2 = await trainer.wrap(key, dk, ctx);
  expect(e2.keyVersion).toBe(2);
  expect(await trainer.unwrap(e1, ctx, { operation: "decrypt" })).toEqual(dk);
  expect(await trainer.unwrap(e2, ctx, { operation: "decrypt" })).toEqual(dk);
  expect((await trainer.rewrap(e1, ctx, { operation: "rewrap" })).keyVersion).toBe(2);
  await expect(admin.unwrap(e1, ctx, { operation: "decrypt" })).rejects.toMatchObject({ code: "ACCESS_DENIED" });
  expect(await h.keyring("auditor").verifyAudit()).toMatchObject({ ok: true });
}

describe.skipIf(!available)("serve with the root key in SoftHSM2", () => {
  let hsm: SoftHsm;
  let pg: TestPostgres;
  beforeAll(async () => {
    hsm = createSoftHsm();
    // every token up front: SoftHSM2 reads its config when the module is initialised
    hsm.initToken("serve-sqlite", PIN);
    hsm.initToken("serve-pg", PIN);
    pg = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await pg?.stop();
    hsm?.cleanup();
  });

  it("sqlite keystore made with init --hsm: PIN from a 0600 file; create, rotate, unwrap over the API", async () => {
    const dir = hsm.dir;
    const home = path.join(dir, "ks-hsm");
    await initKeystore(home, { root: { pkcs11: { module: hsm.module, token: "serve-sqlite", pin: PIN } }, principal: "setup" });
    const pinFile = path.join(dir, "pin");
    writeFileSync(pinFile, `${PIN}\n`, { mode: 0o600 });
    const h = await startHarness({ config: head(`{ kind: sqlite, home: "${home}" }`, `    pinFile: "${pinFile}"\n`) });
    const bad = path.join(dir, "bad-pin");
    writeFileSync(bad, "0000\n", { mode: 0o600 });
    try {
      await roundTrip(h, "prod/hsm/sqlite");
      // the built CLI with a wrong PIN (its own process, so its own login): one typed line, exit 4 (key family), no stack
      writeFileSync(
        path.join(dir, "bad.yaml"),
        head(`{ kind: sqlite, home: "${home}" }`, `    pinFile: "${bad}"\n`).replace("policy: policy.yaml\n", "").replace("certs/server", h.certs.server),
      );
      const r = await runCli(["serve", "--config", path.join(dir, "bad.yaml")], hsm.env());
      expect(r.stderr).toMatch(/^pipeseal: .*PIN is wrong.*\[MASTER_KEY_UNAVAILABLE\]\n$/);
      expect(r.status).toBe(4);
    } finally {
      await h.close();
    }

    // in this process only once the service's login is gone (PKCS#11 logins are per process and token)
    const cfg = (root: string) => parseConfig(head(`{ kind: sqlite, home: "${home}" }`, root), dir);
    await expect(openConfiguredStore(cfg(`    pinFile: "${bad}"\n`))).rejects.toMatchObject({
      code: "MASTER_KEY_UNAVAILABLE",
      message: expect.stringMatching(/PIN is wrong/),
    });
    const loose = path.join(dir, "loose-pin");
    writeFileSync(loose, `${PIN}\n`, { mode: 0o644 });
    await expect(openConfiguredStore(cfg(`    pinFile: "${loose}"\n`))).rejects.toMatchObject({ code: "MASTER_KEY_INSECURE" });
    await expect(openConfiguredStore(cfg(`    pinEnv: PIPESEAL_TEST_UNSET_PIN\n`))).rejects.toMatchObject({
      code: "MASTER_KEY_UNAVAILABLE",
      message: expect.stringMatching(/PIPESEAL_TEST_UNSET_PIN/),
    });
    expect(() => cfg(`    pin: "${PIN}"\n`)).toThrow(/refused/);
    expect(() => cfg(`    keyLabel: other\n    pinFile: "${pinFile}"\n`)).toThrow(/recorded in the sqlite keystore/);
    // allowed explicitly (throwaway tokens): it works
    const store = await openConfiguredStore(cfg(`    pin: "${PIN}"\n    allowInlinePin: true\n`));
    expect((await store.showKey("prod/hsm/sqlite")).primaryVersion).toBe(2);
    await store.close();
  });

  it("postgres: root keys generated in the token on first start, opened on the next; another key label is refused", async () => {
    await pg.createDatabase("ks_hsm");
    const url = `postgresql://postgres@localhost:${pg.port}/ks_hsm?host=${encodeURIComponent(pg.socketDir)}`;
    process.env.PIPESEAL_TEST_PIN = PIN;
    const root = (label: string) =>
      `    module: "${hsm.module}"\n    token: serve-pg\n    keyLabel: ${label}\n    pinEnv: PIPESEAL_TEST_PIN\n    create: true\n`;
    const config = head(`{ kind: postgres, url: "${url}", create: true }`, root("pipeseal-pg-root"));
    const first = await startHarness({ config, postgresUrl: url, keys: [] });
    let kept: WrappedKey;
    try {
      await roundTrip(first, "prod/hsm/pg");
      kept = await first.keyring("trainer").wrap("prod/hsm/pg", Buffer.alloc(32, 9), ctx);
    } finally {
      await first.close();
    }
    // a restart with the same config opens the keys it generated (never replaces them)
    const again = await startHarness({ config, postgresUrl: url, keys: [] });
    try {
      expect(await again.keyring("trainer").unwrap(kept, ctx, { operation: "decrypt" })).toEqual(Buffer.alloc(32, 9));
      expect(await again.keyring("auditor").verifyAudit()).toMatchObject({ ok: true });
      // a typo in the label on the same database: the store's check value refuses the other key
      await expect(
        openConfiguredStore(parseConfig(head(`{ kind: postgres, url: "${url}", create: true }`, root("typo-root")), again.dir)),
      ).rejects.toMatchObject({ code: "MASTER_KEY_WRONG" });
    } finally {
      await again.close();
      delete process.env.PIPESEAL_TEST_PIN;
    }
  });
});
