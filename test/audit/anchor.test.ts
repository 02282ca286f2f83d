/**
 * Audit anchors against the built CLI on a real keystore: a whole-database rollback (an older
 * copy of keystore.db restored, which also un-destroys a key version) and a fork are caught by
 * `audit verify --anchor`; a tampered or foreign anchor is a typed error; the format checks
 * with OpenSSL and the exported public key alone.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

let n = 0;
function keystore() {
  const dir = tempDir("pipeseal-anchor-");
  const env = { PIPESEAL_HOME: path.join(dir, `ks${++n}`), PIPESEAL_PRINCIPAL: "alice" };
  const run = (args: string[]) => cli(args, env);
  expect(run(["init"]).status).toBe(0);
  expect(run(["key", "create", "k"]).status).toBe(0);
  const db = path.join(env.PIPESEAL_HOME, "keystore.db");
  return {
    dir,
    run,
    file: (name: string) => path.join(dir, name),
    /** A copy of keystore.db as a backup would take it (the CLI leaves no WAL behind). */
    backup: (to: string) => copyFileSync(db, to),
    restore: (from: string) => {
      for (const suffix of ["-wal", "-shm"]) rmSync(db + suffix, { force: true });
      copyFileSync(from, db);
    },
  };
}

function expectFailure(r: ReturnType<typeof cli>, code: string): void {
  expect(r.status).toBe(5);
  expect(r.stderr).toContain(`[${code}]`);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("pipeseal audit anchor / audit verify --anchor", () => {
  it("a chain that grew after the anchors extends them; restoring an older keystore.db (which un-destroys a key) fails with AUDIT_ROLLBACK", () => {
    const ks = keystore();
    expect(ks.run(["key", "rotate", "k"]).status).toBe(0);
    expect(ks.run(["audit", "anchor", "-o", ks.file("a1.json")]).status).toBe(0);
    ks.backup(ks.file("old.db"));
    expect(ks.run(["key", "destroy", "k", "--version", "1", "--yes"]).status).toBe(0);
    const stdout = ks.run(["audit", "anchor"]);
    expect(stdout.status).toBe(0);
    writeFileSync(ks.file("a2.json"), stdout.stdout); // stdout, as for a ticket or a SIEM
    expect(ks.run(["key", "rotate", "k"]).status).toBe(0);
    const ok = ks.run(["audit", "verify", "--anchor", ks.file("a1.json"), ks.file("a2.json")]);
    expect(ok.status).toBe(0);
    expect(ok.stdout.toString()).toMatch(/a1\.json: ok, extended: record 3/);

    ks.restore(ks.file("old.db"));
    // from inside, the old database is a perfectly valid keystore, and version 1 is back
    expect(ks.run(["audit", "verify"]).status).toBe(0);
    expect(JSON.parse(ks.run(["key", "show", "k", "--json"]).stdout.toString()).versions[0].state).toBe("enabled");
    expect(ks.run(["audit", "verify", "--anchor", ks.file("a1.json")]).status).toBe(0); // taken before the copy
    const r = ks.run(["audit", "verify", "--anchor", ks.file("a1.json"), ks.file("a2.json")]);
    expectFailure(r, "AUDIT_ROLLBACK");
    expect(r.stderr).toMatch(/rolled back: the chain ends at record 3, before the anchor of record 4/);
    const json = JSON.parse(ks.run(["audit", "verify", "--json", "--anchor", ks.file("a2.json")]).stdout.toString());
    expect(json).toMatchObject({ ok: true, anchors: [{ ok: false, code: "AUDIT_ROLLBACK", anchor: { seq: 4, store: "local" } }] });
  });

  it("a forked chain (another record at the anchored seq) fails with AUDIT_ROLLBACK", () => {
    const ks = keystore();
    ks.backup(ks.file("old.db"));
    expect(ks.run(["key", "rotate", "k"]).status).toBe(0);
    expect(ks.run(["audit", "anchor", "-o", ks.file("a.json")]).status).toBe(0);
    ks.restore(ks.file("old.db"));
    expect(ks.run(["key", "create", "other"]).status).toBe(0); // record 3 again, but another one
    expect(ks.run(["key", "rotate", "other"]).status).toBe(0);
    expect(ks.run(["audit", "verify"]).status).toBe(0);
    const r = ks.run(["audit", "verify", "--anchor", ks.file("a.json")]);
    expectFailure(r, "AUDIT_ROLLBACK");
    expect(r.stderr).toMatch(/forked: record 3 is not the one/);
  });

  it("a tampered anchor, another keystore's anchor, or a file that is not one is AUDIT_ANCHOR_INVALID", () => {
    const ks = keystore();
    expect(ks.run(["audit", "anchor", "-o", ks.file("a.json")]).status).toBe(0);
    const env = JSON.parse(readFileSync(ks.file("a.json"), "utf8"));
    const payload = JSON.parse(Buffer.from(env.payload, "base64").toString());
    // move the anchor to another record: the signature no longer matches
    writeFileSync(ks.file("seq.json"), JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify({ ...payload, seq: 1 })).toString("base64") }));
    const sig = Buffer.from(env.signatures[0].sig, "base64");
    sig[10] = (sig[10] as number) ^ 1;
    writeFileSync(ks.file("sig.json"), JSON.stringify({ ...env, signatures: [{ ...env.signatures[0], sig: sig.toString("base64") }] }));
    writeFileSync(ks.file("junk.json"), "not an anchor");
    const other = keystore();
    expect(other.run(["audit", "anchor", "-o", other.file("b.json")]).status).toBe(0);
    for (const f of [ks.file("seq.json"), ks.file("sig.json"), ks.file("junk.json"), other.file("b.json")]) {
      const r = ks.run(["audit", "verify", "--anchor", f]);
      expectFailure(r, "AUDIT_ANCHOR_INVALID");
    }
    expect(ks.run(["audit", "verify", "--anchor", ks.file("a.json")]).status).toBe(0);
    const missing = ks.run(["audit", "verify", "--anchor", ks.file("nope.json")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("[INVALID_ARGUMENT]");
  });

  it("refuses to anchor a head that does not authenticate", () => {
    const ks = keystore();
    expect(ks.run(["key", "rotate", "k"]).status).toBe(0);
    const db = new Database(path.join(ks.dir, `ks${n}`, "keystore.db"));
    const mac = (db.prepare("SELECT mac FROM audit WHERE seq = 2").get() as { mac: Buffer }).mac.toString("hex");
    db.prepare("DELETE FROM audit WHERE seq > 2").run();
    db.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(JSON.stringify({ seq: 2, mac }));
    db.close();
    expectFailure(ks.run(["audit", "anchor"]), "AUDIT_CHAIN_BROKEN");
  });

  it("checks with OpenSSL and the exported public key alone (the recipe in docs/audit.md)", () => {
    const ks = keystore();
    expect(ks.run(["audit", "anchor", "-o", ks.file("a.json"), "--export-key", ks.file("anchor-key.pem")]).status).toBe(0);
    expect(readFileSync(ks.file("anchor-key.pem"), "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const recipe = (anchor: string) =>
      spawnSync(
        "bash",
        [
          "-c",
          `set -e
TYPE=$(jq -j .payloadType "$1"); jq -j .payload "$1" | base64 -d > "$1.payload"
jq -j '.signatures[0].sig' "$1" | base64 -d > "$1.sig"
{ printf 'DSSEv1 %d %s %d ' "\${#TYPE}" "$TYPE" "$(wc -c < "$1.payload")"; cat "$1.payload"; } > "$1.pae"
openssl pkeyutl -verify -pubin -inkey "$2" -rawin -in "$1.pae" -sigfile "$1.sig"
jq -r '"\\(.seq) \\(.mac)"' "$1.payload"`,
          "recipe",
          anchor,
          ks.file("anchor-key.pem"),
        ],
        { encoding: "utf8" },
      );
    const good = recipe(ks.file("a.json"));
    expect(good.status).toBe(0);
    expect(good.stdout).toContain("Signature Verified Successfully");
    const head = JSON.parse(ks.run(["audit", "list", "--json"]).stdout.toString()).at(-1);
    expect(good.stdout).toContain(`${head.seq} ${head.mac}`);
    const env = JSON.parse(readFileSync(ks.file("a.json"), "utf8"));
    const p = JSON.parse(Buffer.from(env.payload, "base64").toString());
    writeFileSync(ks.file("t.json"), JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify({ ...p, seq: p.seq + 1 })).toString("base64") }));
    expect(recipe(ks.file("t.json")).status).not.toBe(0);
    // and node:crypto agrees with OpenSSL on the key id: SHA-256 of the SPKI DER
    const der = execFileSync("openssl", ["pkey", "-pubin", "-in", ks.file("anchor-key.pem"), "-outform", "DER"]);
    expect(p.keyId).toBe(execFileSync("sha256sum", { input: der }).toString().split(" ")[0]);
  });
});

describe("openAnchorWithPublicKey (the public key alone, no keystore)", () => {
  it("returns what a genuine anchor states and refuses an altered one or another key", async () => {
    const { openAnchorWithPublicKey } = await import("../../src/index.js");
    const ks = keystore();
    expect(ks.run(["audit", "anchor", "-o", ks.file("a.json"), "--export-key", ks.file("k.pem")]).status).toBe(0);
    const text = readFileSync(ks.file("a.json"), "utf8");
    const pem = readFileSync(ks.file("k.pem"), "utf8");
    expect(openAnchorWithPublicKey(text, pem)).toMatchObject({ schema: "pipeseal.audit-anchor.v1", store: "local", seq: 2 });
    const env = JSON.parse(text);
    const altered = JSON.stringify({
      ...env,
      payload: Buffer.from(Buffer.from(env.payload, "base64").toString().replace('"seq":2', '"seq":3')).toString("base64"),
    });
    expect(() => openAnchorWithPublicKey(altered, pem)).toThrow(expect.objectContaining({ code: "AUDIT_ANCHOR_INVALID" }));
    const other = keystore();
    expect(other.run(["audit", "anchor", "--export-key", other.file("k.pem")]).status).toBe(0);
    expect(() => openAnchorWithPublicKey(text, readFileSync(other.file("k.pem"), "utf8"))).toThrow(expect.objectContaining({ code: "AUDIT_ANCHOR_INVALID" }));
  });
});
