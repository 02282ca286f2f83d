/**
 * Format v2 key-block attacks through the key service (issue 19 part 1): the RemoteKeyring
 * sends each entry's binding, and the service (SQLite and PostgreSQL stores) checks the wrap
 * against the file's object id and every entry's tag before it releases the key. Each attack:
 * no key released to the client, no `ok` unwrap in the service's audit. Also: v2 rewrap and
 * rewrap --upgrade through the service keep the body, and the audited object id is the file's.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RemoteKeyring } from "../../src/client/index.js";
import { openBuffer, sealBuffer } from "../../src/envelope/buffer.js";
import { decodeHeader } from "../../src/envelope/header.js";
import { rewrapFile } from "../../src/envelope/rewrap.js";
import { headerHash } from "../../src/envelope/unlock.js";
import type { AuditObject, EncryptionContext, Keyring, WrappedKey } from "../../src/keys/keyring.js";
import { keyBlockAttacks } from "../helpers/key-block-attacks.js";
import { postgresBinDir, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { sealV1 } from "../helpers/seal-v1.js";
import { type Harness, runCli, startHarness } from "./api-harness.js";

const context = { dataset: "customers", stage: "landing" };
const KEYS = ["prod/datasets/raw", "shared/small"];

function counting(inner: RemoteKeyring): Keyring & { released: number } {
  const spy = {
    released: 0,
    id: inner.id,
    wrap: (n: string, k: Uint8Array, c: EncryptionContext, id?: Uint8Array) => inner.wrap(n, k, c, id),
    async unwrap(e: WrappedKey, c: EncryptionContext, o: AuditObject) {
      const key = await inner.unwrap(e, c, o);
      spy.released++;
      return key;
    },
    rewrap: inner.rewrap.bind(inner),
    deriveFieldKey: inner.deriveFieldKey.bind(inner),
  };
  return spy;
}

/** `cli`: also drive the built CLI with --server (once is enough: the CLI is the same client over either store). */
function suite(name: string, start: () => Promise<Harness>, cli = false): void {
  describe(`sealed file v2 through the key service (${name})`, () => {
    let h: Harness;
    let kr: Keyring & { released: number };
    let auditor: RemoteKeyring;
    let victim: Buffer;
    let other: Buffer;
    const data = randomBytes(4000);
    beforeAll(async () => {
      h = await start();
      kr = counting(h.keyring("trainer"));
      auditor = h.keyring("auditor");
      victim = await sealBuffer(kr, data, { keyName: KEYS, context, segmentSize: 1024 });
      other = await sealBuffer(kr, randomBytes(4000), { keyName: KEYS, context, segmentSize: 1024 });
      await h.keyring("admin").rotateKey("prod/datasets/raw"); // v2 exists: an entry can be pointed at it
    }, 120_000);
    afterAll(async () => h?.close());

    const last = async () => (await auditor.listAudit({ limit: 1 })).at(-1)?.seq ?? 0;
    /** Data-key records since `seq`: not denials (`authz.*`), nor the auditor's own reads (`audit.read`, each one record with its rule). */
    const keyRecords = async (seq: number) =>
      (await auditor.listAudit({ limit: 100_000 })).filter((r) => r.seq > seq && !r.operation.startsWith("authz") && r.operation !== "audit.read");

    it("a v2 file opens through the service; its ok record names the file's object id", async () => {
      expect(decodeHeader(victim).formatVersion).toBe(2);
      const before = await last();
      expect((await openBuffer(kr, victim)).equals(data)).toBe(true);
      const oks = (await keyRecords(before)).filter((r) => r.outcome === "ok");
      expect(oks.map((r) => [r.keyName, r.headerHash])).toEqual([["prod/datasets/raw", headerHash(decodeHeader(victim))]]);
    });

    it("every key-block attack fails at the service: no key released, no ok unwrap recorded", async () => {
      const attacks = keyBlockAttacks(victim, other, { keyName: "dev/datasets/raw", keyVersion: 2 });
      for (const attack of attacks) {
        const before = await last();
        const released = kr.released;
        const error = await openBuffer(kr, attack.file).then(
          () => null,
          (e: unknown) => e as { code?: string },
        );
        expect(error, attack.name).not.toBeNull();
        if (attack.code) expect(error!.code, attack.name).toBe(attack.code);
        expect(kr.released, attack.name).toBe(released);
        const records = await keyRecords(before);
        expect(
          records.filter((r) => r.outcome === "ok"),
          attack.name,
        ).toEqual([]);
      }
    }, 60_000);

    it("a forged binding sent straight to the API (the right entry, another file's object id) is refused and recorded as a failure", async () => {
      const e = decodeHeader(victim).wrappedKeys[0]!;
      const otherId = decodeHeader(other).objectId;
      const before = await last();
      await expect(kr.unwrap({ ...e, binding: { ...e.binding!, objectId: otherId } }, context, { operation: "decrypt" })).rejects.toMatchObject({
        code: "DECRYPT_FAILED",
      });
      // the same entry without its binding (a v1 request) does not open a v2 wrap either
      await expect(
        kr.unwrap({ keyring: e.keyring, keyName: e.keyName, keyVersion: e.keyVersion, wrapped: e.wrapped }, context, { operation: "decrypt" }),
      ).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
      const records = await keyRecords(before);
      expect(records.map((r) => [r.outcome, r.errorCode])).toEqual([
        ["error", "DECRYPT_FAILED"],
        ["error", "DECRYPT_FAILED"],
      ]);
    });

    it("rewrap of a v2 file through the service: new tags from the service, body byte for byte, still opens; a corrupted unused entry stops it", async () => {
      const file = path.join(h.dir, "v2.pseal");
      writeFileSync(file, victim);
      await h.keyring("admin").rotateKey("shared/small");
      const r = await rewrapFile(kr, file);
      expect(r.changes.map((c) => `${c.keyName} ${c.from}->${c.to}`)).toEqual(["prod/datasets/raw 1->2", "shared/small 1->2"]);
      const after = readFileSync(file);
      const h0 = decodeHeader(victim);
      const h1 = decodeHeader(after);
      expect(after.subarray(h1.length).equals(victim.subarray(h0.length))).toBe(true);
      expect(h1.floeHeader.equals(h0.floeHeader)).toBe(true);
      expect((await openBuffer(kr, after)).equals(data)).toBe(true);

      const corrupt = keyBlockAttacks(after, other, { keyName: "dev/datasets/raw", keyVersion: 1 }).find(
        (a) => a.name === "the unused entry's wrapped bytes corrupted",
      )!.file;
      writeFileSync(file, corrupt);
      const before = await last();
      await expect(rewrapFile(kr, file)).rejects.toMatchObject({ code: "KEY_BLOCK_INVALID" });
      expect(readFileSync(file).equals(corrupt)).toBe(true);
      expect((await keyRecords(before)).filter((x) => x.outcome === "ok")).toEqual([]);
    });

    if (cli)
      it("the built CLI with --server: attacked files fail to decrypt with their code, no ok unwrap at the service", async () => {
        const as = (...args: string[]) => runCli(["--server", h.svc.url, "--cert", h.certs.trainer, ...args], { HOME: h.dir });
        writeFileSync(path.join(h.dir, "plain.bin"), data);
        for (const out of ["cli-victim.pseal", "cli-other.pseal"]) {
          const r = await as(
            "encrypt",
            "--key",
            KEYS[0]!,
            "--key",
            KEYS[1]!,
            "--context",
            "dataset=customers",
            "-o",
            path.join(h.dir, out),
            path.join(h.dir, "plain.bin"),
          );
          expect(r.status, r.stderr).toBe(0);
        }
        const ok = await as("decrypt", path.join(h.dir, "cli-victim.pseal"), "-o", "-");
        expect(ok.stdout.equals(data)).toBe(true);
        // both keys are at v2 by now (rotated above): point the used entry back at v1
        const attacks = keyBlockAttacks(readFileSync(path.join(h.dir, "cli-victim.pseal")), readFileSync(path.join(h.dir, "cli-other.pseal")), {
          keyName: "dev/datasets/raw",
          keyVersion: 1,
        });
        const chosen = [
          "another file's key block (same keys, same context)",
          "the entries reordered",
          "second entry removed",
          "the unused entry's wrapped bytes corrupted",
          "the used entry's version changed",
        ];
        const before = await last();
        for (const attack of attacks.filter((a) => chosen.includes(a.name))) {
          const file = path.join(h.dir, "cli-attacked.pseal");
          writeFileSync(file, attack.file);
          const r = await as("decrypt", file, "-o", "-");
          expect(r.status, attack.name).not.toBe(0);
          expect(r.stdout.length, attack.name).toBe(0);
          expect(r.stderr, attack.name).toMatch(/^pipeseal: .* \[[A-Z_]+\]\n$/);
          if (attack.code) expect(r.stderr, attack.name).toContain(`[${attack.code}]`);
        }
        const records = await keyRecords(before);
        expect(records.length).toBeGreaterThan(0);
        expect(records.filter((r) => r.outcome === "ok")).toEqual([]);
      }, 120_000);

    it("rewrap --upgrade through the service: a v1 file becomes v2 with the same FLOE header, body and plaintext", async () => {
      const plain = randomBytes(2500);
      const v1 = await sealV1(kr, plain, { keyNames: KEYS, context, segmentSize: 1000 });
      const file = path.join(h.dir, "v1.pseal");
      writeFileSync(file, v1);
      expect((await openBuffer(kr, v1)).equals(plain)).toBe(true); // v1 opens through the service
      const r = await rewrapFile(kr, file, { upgrade: true });
      expect(r).toMatchObject({ upgraded: true, formatVersion: 2 });
      const up = readFileSync(file);
      const h0 = decodeHeader(v1);
      const h1 = decodeHeader(up);
      expect(h1.formatVersion).toBe(2);
      expect(h1.floeHeader.equals(h0.floeHeader)).toBe(true);
      expect(up.subarray(h1.length).equals(v1.subarray(h0.length))).toBe(true);
      expect(headerHash(h1)).toBe(headerHash(h0));
      expect((await openBuffer(kr, up)).equals(plain)).toBe(true);
      const released = kr.released;
      const reordered = keyBlockAttacks(up, other, { keyName: "dev/datasets/raw", keyVersion: 1 }).find((a) => a.name === "the entries reordered")!.file;
      await expect(openBuffer(kr, reordered)).rejects.toMatchObject({ code: "KEY_BLOCK_INVALID" });
      expect(kr.released).toBe(released);
    });
  });
}

suite("sqlite", () => startHarness(), true);

const pgAvailable = postgresBinDir() !== null;
let pg: TestPostgres | undefined;
if (pgAvailable) {
  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);
  afterAll(async () => pg?.stop());
  suite("postgres", async () => {
    await pg!.createDatabase("ks_v2");
    return startHarness({ postgresUrl: `postgresql://postgres@localhost:${pg!.port}/ks_v2?host=${encodeURIComponent(pg!.socketDir)}` });
  });
}
it("has PostgreSQL binaries (run scripts/setup.sh)", () => expect(pgAvailable).toBe(true));
