/**
 * `watchCertificateDir` (what `pipeseal ca renew --watch` runs) on a clock the test moves: no
 * waiting for a certificate's 2/3 point.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { initCa, issueCertificate, listCertificates, renewalDueAt, type RenewResult, watchCertificateDir, writeCertDir } from "../../src/pki/ca/index.js";
import { manualClock } from "../helpers/clock.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";

const HOUR = 3600_000;

describe("watchCertificateDir", () => {
  it("renews a 3-hour certificate just after each 2/3 point, never sleeping more than an hour at a time, until aborted", async () => {
    const { ks } = await freshKeystore([]);
    await initCa(ks, { trustDomain: "acme.ml" });
    const clock = manualClock();
    const issued = await issueCertificate(ks, { service: "trainer", env: "prod", client: true, ttlSeconds: 3 * 3600, now: clock.now() });
    const dir = path.join(tempDir("pipeseal-watch-"), "trainer");
    await writeCertDir(dir, { certPem: issued.certPem, caPem: issued.caPem, keyPem: issued.keyPem });
    const sleeps: number[] = [];
    const renewed: { at: number; result: RenewResult }[] = [];
    const stop = new AbortController();
    await watchCertificateDir(ks, dir, {
      signal: stop.signal,
      clock: {
        now: clock.now,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock.advance(ms);
        },
      },
      onRenew: (result) => {
        renewed.push({ at: clock.now(), result });
        if (renewed.length === 3) stop.abort();
      },
    });
    expect(renewed).toHaveLength(3); // and the watch returned once aborted
    // each renewal replaces the one before, 50 ms after its 2/3 point: not before, not a check later
    let previous = { serial: issued.serial, dueAt: renewalDueAt(issued.notBefore, issued.notAfter) };
    for (const { at, result } of renewed) {
      expect(result).toMatchObject({ renewed: true, why: "due", previousSerial: previous.serial, identity: issued.identity });
      expect(at).toBe(previous.dueAt.getTime() + 50);
      previous = result;
    }
    expect(Math.max(...sleeps)).toBe(HOUR); // the two hours to each 2/3 point are slept in steps of at most an hour
    expect(new X509Certificate(readFileSync(path.join(dir, "cert.pem"))).serialNumber.toLowerCase()).toBe(previous.serial);
    const replaced = [issued.serial, ...renewed.slice(0, 2).map((r) => r.result.serial)];
    expect(
      listCertificates(ks)
        .filter((c) => replaced.includes(c.serial))
        .map((c) => c.status),
    ).toEqual(["superseded", "superseded", "superseded"]);
  });
});
