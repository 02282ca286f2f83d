/**
 * Issue 23: the keyring id of a file sealed through the key service is the service's own
 * (its configured keyringId, from GET /v1/info), not the URL's host, so a file sealed via
 * https://127.0.0.1:PORT opens via https://localhost:PORT on the same service; a file sealed
 * the old way (URL-host id) still opens through that URL; locally, the mismatch says --server.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptFile } from "../../src/envelope/files.js";
import { RemoteKeyring } from "../../src/client/remote-keyring.js";
import { type Harness, runCli, startHarness } from "./api-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => h?.close());

const viaHost = (host: string) => h.svc.url.replace("127.0.0.1", host);
const trainer = (host: string, ...args: string[]) => runCli(["--server", viaHost(host), "--cert", h.certs.trainer, ...args], { HOME: h.dir });
const inspectKeyrings = async (file: string) =>
  JSON.parse((await runCli(["inspect", file, "--json"], { HOME: h.dir })).stdout.toString()).keys.map((k: { keyring: string }) => k.keyring);

describe("keyring id from the service's identity", () => {
  it("sealed via 127.0.0.1, opened via localhost: the header records the service's id", async () => {
    const input = path.join(h.dir, "a.csv");
    writeFileSync(input, "id,email\n1,a@example.com\n");
    const enc = await trainer("127.0.0.1", "encrypt", "--key", "prod/datasets/raw", input);
    expect(enc.status, enc.stderr).toBe(0);
    expect(await inspectKeyrings(`${input}.pseal`)).toEqual(["ks:test"]);
    const out = path.join(h.dir, "a.out");
    const dec = await trainer("localhost", "decrypt", `${input}.pseal`, "-o", out);
    expect(dec.status, dec.stderr).toBe(0);
    expect(readFileSync(out)).toEqual(readFileSync(input));
  });

  it("a file sealed under a URL-host id (a client made without connect) still opens and rewraps through that URL; its v2 entry keeps the id it is bound to", async () => {
    const input = path.join(h.dir, "old.csv");
    writeFileSync(input, "x\n".repeat(1000));
    const old = new RemoteKeyring({ url: viaHost("localhost"), certDir: h.certs.trainer }); // the constructor alone: ks:localhost
    try {
      await encryptFile(old, input, `${input}.pseal`, { keyName: "prod/datasets/raw" });
    } finally {
      await old.close();
    }
    expect(await inspectKeyrings(`${input}.pseal`)).toEqual(["ks:localhost"]);
    const dec = await trainer("localhost", "decrypt", `${input}.pseal`, "-o", "-");
    expect(dec.status, dec.stderr).toBe(0);
    expect(dec.stdout.toString()).toBe(readFileSync(input, "utf8"));
    const rw = await trainer("localhost", "rewrap", `${input}.pseal`);
    expect(rw.status, rw.stderr).toBe(0);
    expect(await inspectKeyrings(`${input}.pseal`)).toEqual(["ks:localhost"]);
    const again = await trainer("localhost", "decrypt", `${input}.pseal`, "-o", "-");
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout.toString()).toBe(readFileSync(input, "utf8"));
  });

  it("opened locally instead: KEYRING_MISMATCH says to give --server", async () => {
    const home = path.join(h.dir, "local");
    expect((await runCli(["--home", home, "init"], { HOME: h.dir })).status).toBe(0);
    const r = await runCli(["--home", home, "decrypt", path.join(h.dir, "a.csv.pseal"), "-o", "-"], { HOME: h.dir });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /wrapped by keyring\(s\) ks:test, not "local"; it was sealed through a key service: give --server URL --cert DIR before the command \[KEYRING_MISMATCH\]/,
    );
  });
});
