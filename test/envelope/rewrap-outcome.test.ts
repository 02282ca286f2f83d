import { randomBytes } from "node:crypto";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sealBuffer } from "../../src/envelope/buffer.js";
import { rewrapFile } from "../../src/envelope/rewrap.js";
import type { Keyring } from "../../src/keys/keyring.js";
import { freshKeystore } from "../helpers/keystore.js";

describe("rewrapFile's audit when the file cannot be written", () => {
  it("each rewrap ok whose entry never reached the file is followed by rewrap error with the code", async () => {
    const { ks, home } = await freshKeystore(["a", "b"]);
    try {
      const file = path.join(home, "..", "gone.pseal");
      writeFileSync(file, await sealBuffer(ks, randomBytes(1000), { keyName: ["a", "b"] }));
      ks.rotateKey("a");
      ks.rotateKey("b");
      // a keyring whose file disappears after the entries are rewrapped: the write fails (ENOENT)
      const vanishing: Keyring = {
        id: ks.id,
        wrap: (n, k, c) => ks.wrap(n, k, c),
        unwrap: (e, c, o) => ks.unwrap(e, c, o),
        deriveFieldKey: (n, v, p, o, l) => ks.deriveFieldKey(n, v, p, o, l),
        reportFailure: (e, c, o, code) => ks.reportFailure(e, c, o, code),
        rewrap: async (e, c, o) => {
          const next = await ks.rewrap(e, c, o);
          if (e.keyName === "b") rmSync(file);
          return next;
        },
      };
      const seq = ks.listAudit().at(-1)!.seq;
      await expect(rewrapFile(vanishing, file)).rejects.toMatchObject({ code: "ENOENT" });
      expect(existsSync(file)).toBe(false);
      const recs = ks.listAudit().filter((r) => r.seq > seq);
      expect(recs.map((r) => [r.operation, r.keyName, r.keyVersion, r.outcome, r.errorCode])).toEqual([
        ["rewrap", "a", 1, "ok", null],
        ["rewrap", "b", 1, "ok", null],
        ["rewrap", "a", 1, "error", "IO_ERROR"],
        ["rewrap", "b", 1, "error", "IO_ERROR"],
      ]);
      expect(recs[2]!.headerHash).toBe(recs[0]!.headerHash);
      expect(ks.verifyAudit().ok).toBe(true);
      // a caller cannot record an unwrap-like failure under a reserved or malformed name
      await expect(
        ks.reportFailure({ keyring: "local", keyName: "a", keyVersion: 1, wrapped: Buffer.alloc(1) }, {}, { operation: "init" }, "DECRYPT_FAILED"),
      ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await expect(
        ks.reportFailure({ keyring: "local", keyName: "a", keyVersion: 1, wrapped: Buffer.alloc(1) }, {}, { operation: "decrypt" }, "bad code\n"),
      ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    } finally {
      ks.close();
    }
  });
});
