/**
 * Issue 22 item 8 through the key service: a decrypt that fails after the service released
 * its key (truncation, a flipped segment) gets its second record, outcome "error" with the
 * code, from the client (RemoteKeyring.reportFailure → /v1/unwrap/failed), under the client's
 * certificate identity. Only who may unwrap the key can add such a record, and only as itself.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBuffer, sealBuffer } from "../../src/envelope/buffer.js";
import { type Harness, WHO, startHarness } from "./api-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const context = { dataset: "raw" };
/** A service refusal carries the service's code; a local failure its own. */
const errorCodeOf = (e: unknown) => (e as { serviceCode?: string; code?: string })?.serviceCode ?? (e as { code?: string })?.code;
const recordsAfter = async (seq: number) => (await h.svc.store.listAudit()).filter((r) => r.seq > seq);
/** The rule a record carries (the `rule` field of pipeseal.audit.v1). */
const ruleOf = (r: { context: string | null }) => (JSON.parse(r.context ?? "{}") as Record<string, string>)["@rule"];
const lastSeq = async () => (await h.svc.store.listAudit()).at(-1)?.seq ?? 0;

describe("failed uses reported to the key service (SQLite, mTLS)", () => {
  it("a truncated sealed buffer: the service records the release, then the failed decrypt with DECRYPT_FAILED, as the trainer", async () => {
    const trainer = h.keyring("trainer");
    const sealed = await sealBuffer(trainer, randomBytes(200_000), { keyName: "prod/datasets/raw", context, segmentSize: 65536 });
    const before = await lastSeq();
    const error = await openBuffer(trainer, sealed.subarray(0, sealed.length - 70_000)).catch((e: unknown) => e);
    expect(errorCodeOf(error)).toBe("DECRYPT_FAILED");
    // one record per allowed operation: the release and the report, each carrying the rule that allowed it
    const data = await recordsAfter(before);
    expect(data.map((r) => [r.operation, r.outcome, r.errorCode, r.principal, ruleOf(r)])).toEqual([
      ["decrypt", "ok", null, WHO.trainer, "train"],
      ["decrypt", "error", "DECRYPT_FAILED", WHO.trainer, "train"],
    ]);
    expect(data[1]).toMatchObject({ keyName: "prod/datasets/raw", keyVersion: 1, headerHash: data[0]!.headerHash });
  });

  it("an identity that may not unwrap the key cannot add a failure record (denied, recorded as a denial only)", async () => {
    const trainer = h.keyring("trainer");
    const entry = await trainer.wrap("prod/datasets/raw", randomBytes(32), context);
    const before = await lastSeq();
    const stranger = h.keyring("stranger");
    const error = await stranger.reportFailure(entry, context, { operation: "decrypt" }, "DECRYPT_FAILED").catch((e: unknown) => e);
    expect(errorCodeOf(error)).toBe("ACCESS_DENIED");
    const recs = await recordsAfter(before);
    expect(recs.map((r) => [r.operation, r.outcome, r.errorCode])).toEqual([["authz.unwrap", "denied", "ACCESS_DENIED"]]);
  });

  it("a malformed report records nothing of the operation: a code that is not a stable code, a rewrap named on the unwrap route", async () => {
    const trainer = h.keyring("trainer");
    const entry = await trainer.wrap("prod/datasets/raw", randomBytes(32), context);
    const before = await lastSeq();
    expect(errorCodeOf(await trainer.reportFailure(entry, context, { operation: "decrypt" }, "not a code\u001b[31m").catch((e: unknown) => e))).toBe(
      "INVALID_ARGUMENT",
    );
    const client = (trainer as unknown as { client: { call: (m: string, p: string, b: unknown) => Promise<unknown> } }).client;
    const wire = { keyName: entry.keyName, keyVersion: entry.keyVersion, wrapped: entry.wrapped.toString("base64") };
    expect(
      errorCodeOf(
        await client
          .call("POST", "/v1/unwrap/failed", { wrappedKey: wire, context, object: { operation: "rewrap" }, errorCode: "IO_ERROR" })
          .catch((e: unknown) => e),
      ),
    ).toBe("INVALID_ARGUMENT");
    const recs = await recordsAfter(before);
    expect(recs.filter((r) => r.outcome === "error" && !r.operation.startsWith("authz."))).toEqual([]);
    expect(recs).toEqual([]); // refused as malformed before any decision: no record at all
  });

  it("a rewrap whose new entry never reached its file: the rewrap's failure record, decided as a rewrap", async () => {
    const trainer = h.keyring("trainer");
    const entry = await trainer.wrap("prod/datasets/raw", randomBytes(32), context);
    const before = await lastSeq();
    await trainer.reportFailure(entry, context, { operation: "rewrap" }, "IO_ERROR");
    const recs = await recordsAfter(before);
    expect(recs.map((r) => [r.operation, r.outcome, r.errorCode, ruleOf(r)])).toEqual([["rewrap", "error", "IO_ERROR", "train"]]);
  });
});
