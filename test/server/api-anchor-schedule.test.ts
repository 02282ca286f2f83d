/**
 * Issue 22 item 2, the schedule: with `audit: { anchorEvery, anchorDir }` the key service
 * writes a signed anchor of its head at start, each period while the chain grew, and at
 * shutdown, as a file and as a log line. Attack: restore an older copy of the service's
 * SQLite database (a backup restore, which also un-destroys keys); `audit verify` alone
 * cannot see it, `audit verify --anchor` with the scheduled anchor catches it.
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/server/config.js";
import { startKeyService } from "../../src/server/server.js";
import { type Harness, TD, runCli, startHarness } from "./api-harness.js";

const CONFIG = `listen: { host: 127.0.0.1, port: 0 }\ncertDir: certs/server\nallow: ["${TD}/*/*"]\nkeyringId: ks:test\nstore: { kind: sqlite, home: ks }\npolicy: policy.yaml\naudit: { anchorEvery: 1h, anchorDir: anchors }\n`;
const log: string[] = [];
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: CONFIG, log: (line) => log.push(line) });
}, 60_000);
afterAll(async () => h?.close());

const anchorFiles = () =>
  readdirSync(path.join(h.dir, "anchors"))
    .filter((f) => f.startsWith("anchor-0"))
    .sort();
const cliEnv = () => ({ PIPESEAL_HOME: path.join(h.dir, "ks"), PIPESEAL_PRINCIPAL: "auditor" });
const verifyWith = (file: string) => runCli(["audit", "verify", "--anchor", path.join(h.dir, "anchors", file)], cliEnv());

describe("anchors on a schedule (keyservice.yaml audit.anchorEvery)", () => {
  it("one anchor at start with the public key; a tick writes one only when the chain grew; each is also a log line", async () => {
    expect(anchorFiles()).toHaveLength(1);
    expect(readFileSync(path.join(h.dir, "anchors", "anchor-key.pem"), "utf8")).toMatch(/BEGIN PUBLIC KEY/);
    expect(await h.svc.anchors!.tick()).toBeNull();
    const trainer = h.keyring("trainer");
    const entry = await trainer.wrap("prod/datasets/raw", randomBytes(32), { dataset: "raw" });
    (await trainer.unwrap(entry, { dataset: "raw" }, { operation: "decrypt" })).fill(0);
    const file = await h.svc.anchors!.tick();
    expect(file).not.toBeNull();
    expect(anchorFiles()).toHaveLength(2);
    expect(log.filter((l) => l.startsWith("audit anchor seq "))).toHaveLength(2);
    expect(log.at(-1)).toContain(readFileSync(file!, "utf8").trim());
  });

  it("a restored older database: verify alone is ok, verify --anchor with a later scheduled anchor fails with AUDIT_ROLLBACK", async () => {
    await h.svc.close(); // the final anchor (no growth since the last tick: none written)
    expect(anchorFiles()).toHaveLength(2);
    const db = path.join(h.dir, "ks", "keystore.db");
    copyFileSync(db, path.join(h.dir, "backup.db"));
    // the service runs on: more decrypts, then a shutdown anchor
    const svc = await startKeyService(parseConfig(CONFIG, h.dir), {});
    try {
      expect(anchorFiles()).toHaveLength(3); // each start anchors, a restart too
      const { RemoteKeyring } = await import("../../src/client/remote-keyring.js");
      const trainer = new RemoteKeyring({ url: svc.url, certDir: h.certs.trainer, id: "ks:test" });
      const entry = await trainer.wrap("prod/datasets/raw", randomBytes(32), { dataset: "raw" });
      (await trainer.unwrap(entry, { dataset: "raw" }, { operation: "decrypt" })).fill(0);
      await trainer.close();
    } finally {
      await svc.close(); // writes the shutdown anchor: the chain grew
    }
    const files = anchorFiles();
    expect(files).toHaveLength(4);
    const latest = files.at(-1)!;
    expect((await verifyWith(latest)).status).toBe(0);
    // the attack: the older copy back in place
    for (const side of ["-wal", "-shm"]) if (existsSync(db + side)) rmSync(db + side);
    copyFileSync(path.join(h.dir, "backup.db"), db);
    expect((await runCli(["audit", "verify"], cliEnv())).status).toBe(0);
    const r = await verifyWith(latest);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("AUDIT_ROLLBACK");
    expect((await verifyWith(files[1]!)).status).toBe(0); // the anchor the backup still extends
  });

  it("a bad schedule is a one-line config error", () => {
    expect(() => parseConfig(CONFIG.replace("anchorEvery: 1h", "anchorEvery: soon"), h.dir)).toThrow(
      /keyservice\.yaml:\d+:\d+: audit\.anchorEvery: must be a duration/,
    );
    expect(() => parseConfig(CONFIG.replace(", anchorDir: anchors", ""), h.dir)).toThrow(/keyservice\.yaml:\d+:\d+: audit: `anchorDir` is required/);
    expect(() => parseConfig(CONFIG.replace("anchorDir: anchors", "anchorDir: anchors, extra: 1"), h.dir)).toThrow(
      /keyservice\.yaml:\d+:\d+: audit\.extra: unknown key "extra"/,
    );
  });
});
