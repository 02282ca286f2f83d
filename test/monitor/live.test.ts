/**
 * `monitor run` over a real SQLite keystore through the built CLI: a honeytoken planted and
 * opened with the CLI alerts within seconds; a restart resumes with no duplicate and no gap;
 * alerts and acks are audit records; the chain is checked as it is followed (edits and
 * deletions made with a real SQLite connection are alerts); the sealed state cannot be
 * swapped or altered; anchors on a schedule verify; bad config is one typed line.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { alertLines, keystoreHome, startMonitor, useKey, waitFor } from "./live-helpers.js";

const yaml = (dir: string, extra = "") => {
  const file = path.join(dir, "monitor.yaml");
  writeFileSync(
    file,
    `version: 1\nhoneytokens:\n  keys: ["prod/canary/*"]\nstate:\n  file: monitor.state.pseal\nsinks:\n  - kind: file\n    path: alerts.jsonl\n${extra}`,
  );
  return file;
};

describe("monitor run (local keystore, built CLI)", { timeout: 240_000 }, () => {
  test("a decoy planted with the CLI and opened with decrypt raises a critical honeytoken alert within seconds; no plaintext or key material in it", async () => {
    const home = keystoreHome(["prod/datasets/customers"]);
    const cfg = yaml(home.dir);
    const sink = path.join(home.dir, "alerts.jsonl");
    const mon = startMonitor(home, ["--config", cfg]);
    try {
      await waitFor("the state file", () => existsSync(path.join(home.dir, "monitor.state.pseal")));
      const decoy = path.join(home.dir, "s3-mirror", "customers", "part-0007.csv.pseal");
      const plant = home.run(["honeytoken", "plant", "--key", "prod/datasets/customers", "--out", decoy, "--rows", "200", "-c", "dataset=customers", "--json"]);
      expect(plant.stderr).toBe("");
      const planted = JSON.parse(plant.stdout.toString());
      // the file is an ordinary sealed file: nothing in it or its header says decoy
      const bytes = readFileSync(decoy);
      for (const marker of ["honeytoken", "decoy", planted.id]) expect(bytes.includes(Buffer.from(marker))).toBe(false);
      expect(home.run(["inspect", decoy, "--json"]).stdout.toString()).not.toMatch(/honeytoken|decoy/);

      const opened = home.run(["decrypt", decoy, "-o", "-"], "mallory");
      expect(opened.status).toBe(0);
      const rows = opened.stdout.toString().trim().split("\n");
      expect(rows).toHaveLength(201);
      const t0 = Date.now();
      const [alert] = await waitFor(
        "the honeytoken alert",
        () =>
          alertLines(sink)
            .filter((a) => a.detection === "honeytoken")
            .slice(0, 1)[0] && alertLines(sink),
      );
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(alert).toMatchObject({
        schema: "pipeseal.alert.v1",
        detection: "honeytoken",
        severity: "critical",
        principal: "mallory",
        key: "prod/datasets/customers",
        state: "open",
      });
      expect(alert!.id).toMatch(/^al_[0-9a-f]{24}$/);
      // the seqs name the decrypt record
      const audit = JSON.parse(home.run(["audit", "list", "--json"]).stdout.toString()) as {
        seq: number;
        operation: string;
        principal: string;
        objectPath: string | null;
      }[];
      const decrypt = audit.find((r) => r.operation === "decrypt" && r.principal === "mallory")!;
      expect(alert!.seqs).toEqual([decrypt.seq]);
      // never plaintext, never key material
      const text = readFileSync(sink, "utf8");
      for (const row of rows.slice(1, 20)) for (const cell of row.split(",").filter((c) => c.length > 6)) expect(text).not.toContain(cell);
      const master = readFileSync(path.join(home.env.PIPESEAL_HOME!, "master.key"));
      for (const enc of ["hex", "base64"] as const) expect(text).not.toContain(master.toString(enc).slice(0, 16));
      expect(await mon.stop()).toBe(0);
      expect(mon.stderr()).toContain("monitor stopped");
      // the alert is an audit record too, and is in the ledger
      const after = JSON.parse(home.run(["audit", "list", "--json"]).stdout.toString()) as { operation: string; objectPath: string | null }[];
      expect(after.some((r) => r.operation === "monitor.alert" && r.objectPath === alert!.id)).toBe(true);
      expect(after.some((r) => r.operation === "honeytoken.plant")).toBe(true);
      const listed = home
        .run(["monitor", "alerts", "--json"])
        .stdout.toString()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(listed.map((a) => a.id)).toEqual([alert!.id]);
    } finally {
      mon.child.kill("SIGKILL");
    }
  });

  test("restart resumes: alerts raised while the monitor was stopped arrive once, earlier ones are not sent again (clean stop and SIGKILL)", async () => {
    const home = keystoreHome(["prod/canary/a", "prod/canary/b"]);
    const cfg = yaml(home.dir);
    const sink = path.join(home.dir, "alerts.jsonl");
    useKey(home, "prod/canary/a", "alice");
    expect(home.run(["monitor", "run", "--config", cfg, "--once"]).status).toBe(0);
    expect(alertLines(sink).map((a) => a.principal)).toEqual(["alice"]);

    useKey(home, "prod/canary/a", "bob"); // while stopped
    const mon = startMonitor(home, ["--config", cfg]);
    await waitFor("bob's alert", () => alertLines(sink).some((a) => a.principal === "bob"));
    useKey(home, "prod/canary/b", "carol"); // while running
    await waitFor("carol's alert", () => alertLines(sink).some((a) => a.principal === "carol"));
    expect(await mon.stop("SIGINT")).toBe(0);

    useKey(home, "prod/canary/b", "dave");
    expect(home.run(["monitor", "run", "--config", cfg, "--once"]).status).toBe(0);
    const opens = alertLines(sink).filter((a) => a.state === "open");
    expect(opens.map((a) => a.principal).sort()).toEqual(["alice", "bob", "carol", "dave"]);
    expect(new Set(opens.map((a) => a.id)).size).toBe(4); // no duplicate

    // SIGKILL mid-run: whatever was recorded is delivered after the restart (no gap), each alert id once in the ledger
    const crash = startMonitor(home, ["--config", cfg]);
    await waitFor("the monitor's first read", () => crash.stderr() !== "" || existsSync(path.join(home.dir, "monitor.state.pseal.lock")));
    useKey(home, "prod/canary/a", "erin");
    await waitFor("erin's alert", () => alertLines(sink).some((a) => a.principal === "erin"));
    await crash.stop("SIGKILL");
    useKey(home, "prod/canary/b", "frank");
    expect(home.run(["monitor", "run", "--config", cfg, "--once"]).status).toBe(0);
    const ids = new Set(
      alertLines(sink)
        .filter((a) => a.state === "open")
        .map((a) => a.principal),
    );
    expect([...ids].sort()).toEqual(["alice", "bob", "carol", "dave", "erin", "frank"]);
    const ledger = home
      .run(["monitor", "alerts", "--json"])
      .stdout.toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(ledger).toHaveLength(6);
    const audit = JSON.parse(home.run(["audit", "list", "--json"]).stdout.toString()) as { operation: string; objectPath: string }[];
    const alertRecords = audit.filter((r) => r.operation === "monitor.alert").map((r) => r.objectPath);
    expect(new Set(alertRecords).size).toBe(6);
    expect(alertRecords).toHaveLength(6); // a replayed record did not record the alert again
  });

  test("the chain is checked as it is followed: an edited, a deleted and a rolled-back record are critical audit-integrity alerts", async () => {
    const home = keystoreHome(["prod/datasets/x"]);
    const cfg = yaml(home.dir);
    const sink = path.join(home.dir, "alerts.jsonl");
    expect(home.run(["monitor", "run", "--config", cfg, "--once"]).status).toBe(0);
    const snapshot = path.join(home.dir, "keystore.db.old");
    copyFileSync(path.join(home.env.PIPESEAL_HOME!, "keystore.db"), snapshot);
    useKey(home, "prod/datasets/x", "alice");
    useKey(home, "prod/datasets/x", "bob");
    useKey(home, "prod/datasets/x", "carol");
    const db = new Database(path.join(home.env.PIPESEAL_HOME!, "keystore.db"));
    const rows = db.prepare("SELECT seq, principal, operation FROM audit WHERE operation = 'decrypt' AND principal IN ('alice', 'bob')").all() as {
      seq: number;
      principal: string;
    }[];
    const alice = rows.find((r) => r.principal === "alice")!.seq;
    const bob = rows.find((r) => r.principal === "bob")!.seq;
    db.prepare("UPDATE audit SET principal = 'someone-else' WHERE seq = ?").run(alice); // hide who decrypted
    db.prepare("DELETE FROM audit WHERE seq = ?").run(bob); // hide that bob decrypted
    db.close();
    expect(home.run(["monitor", "run", "--config", cfg, "--once"]).status).toBe(0);
    const integrity = alertLines(sink).filter((a) => a.detection === "audit-integrity");
    expect(integrity.map((a) => a.evidence.problem).sort()).toEqual(["missing", "modified"]);
    expect(integrity.every((a) => a.severity === "critical")).toBe(true);
    expect(integrity.find((a) => a.evidence.problem === "modified")!.seqs).toEqual([alice]);
    expect(integrity.find((a) => a.evidence.problem === "missing")!.evidence.seq).toBe(bob);

    // roll back: restore the keystore.db copied before those records (its head is older than what the monitor read)
    for (const f of ["keystore.db-wal", "keystore.db-shm"]) rmSync(path.join(home.env.PIPESEAL_HOME!, f), { force: true });
    copyFileSync(snapshot, path.join(home.env.PIPESEAL_HOME!, "keystore.db"));
    home.run(["monitor", "run", "--config", cfg, "--once"]);
    const rolled = alertLines(sink).filter((a) => a.detection === "audit-integrity" && a.evidence.problem === "rolled-back");
    expect(rolled).toHaveLength(1);
    expect(rolled[0]!.summary).toContain("restored from an older copy");
  });

  test("a decoy whose registry row is deleted in SQL is still watched (and the deletion is an alert); a symlinked file sink is refused and owed, not lost", async () => {
    const home = keystoreHome(["prod/datasets/customers"]);
    const cfg = yaml(home.dir);
    const sink = path.join(home.dir, "alerts.jsonl");
    const decoy = path.join(home.dir, "customers", "part-0003.jsonl.pseal");
    expect(home.run(["honeytoken", "plant", "--key", "prod/datasets/customers", "--out", decoy, "--rows", "20"]).status).toBe(0);
    expect(home.run(["monitor", "run", "--config", cfg, "--once"]).status).toBe(0); // the monitor sees the decoy once
    const db = new Database(path.join(home.env.PIPESEAL_HOME!, "keystore.db"));
    db.prepare("DELETE FROM monitor_honeytokens").run(); // write access to keystore.db, not the root key
    db.close();
    expect(JSON.parse(home.run(["honeytoken", "list", "--json"]).stdout.toString())).toEqual([]);
    const opened = home.run(["decrypt", decoy, "-o", "-"], "mallory");
    expect(JSON.parse(opened.stdout.toString().split("\n")[0]!)).toHaveProperty("email");
    expect(home.run(["monitor", "run", "--config", cfg, "--once"]).status).toBe(0);
    const alerts = alertLines(sink);
    expect(alerts.find((a) => a.detection === "honeytoken")).toMatchObject({ principal: "mallory", severity: "critical" });
    expect(alerts.find((a) => a.detection === "audit-integrity")).toMatchObject({ key: "prod/datasets/customers", evidence: { problem: "decoy-removed" } });

    // the file sink path becomes a symlink to a file the attacker wants written: refused, the alert stays owed
    rmSync(sink);
    const target = path.join(home.dir, "elsewhere.txt");
    writeFileSync(target, "");
    symlinkSync(target, sink);
    useKey(home, "prod/datasets/customers", "mallory", "again");
    writeFileSync(cfg, readFileSync(cfg, "utf8").replace('keys: ["prod/canary/*"]', 'objects: ["*again*"]'));
    const stuck = home.run(["monitor", "run", "--config", cfg, "--once"]);
    expect(stuck.status).toBe(1);
    expect(stuck.stderr).toMatch(
      /pipeseal: file .*alerts\.jsonl did not take 1 alert\(s\) after 4 attempts; they stay owed and are sent by the next run \[MONITOR_SINK_FAILED\]\n$/,
    );
    expect(readFileSync(target, "utf8")).toBe("");
    rmSync(sink);
    expect(home.run(["monitor", "run", "--config", cfg, "--once"]).status).toBe(0);
    expect(alertLines(sink).map((a) => a.detection)).toEqual(["honeytoken"]);
  });

  test("the sealed state: altered or another keystore's is MONITOR_STATE_INVALID (one line); a second monitor on it is MONITOR_LOCKED", async () => {
    const home = keystoreHome([]);
    const other = keystoreHome([]);
    const cfg = yaml(home.dir);
    const otherCfg = yaml(other.dir);
    expect(home.run(["monitor", "run", "--config", cfg, "--once"]).status).toBe(0);
    expect(other.run(["monitor", "run", "--config", otherCfg, "--once"]).status).toBe(0);
    const state = path.join(home.dir, "monitor.state.pseal");
    const good = readFileSync(state);
    expect(good.includes(Buffer.from("lastSeq"))).toBe(false); // sealed, not JSON on disk

    copyFileSync(path.join(other.dir, "monitor.state.pseal"), state);
    const foreign = home.run(["monitor", "run", "--config", cfg, "--once"]);
    expect(foreign.status).toBe(1);
    expect(foreign.stderr).toMatch(
      /^pipeseal: the monitor state .* does not open under this keystore \(.*\); move it away to learn again \[MONITOR_STATE_INVALID\]\n$/,
    );

    const bad = Buffer.from(good);
    bad[bad.length - 5]! ^= 1;
    writeFileSync(state, bad);
    const altered = home.run(["monitor", "run", "--config", cfg, "--once"]);
    expect(altered.stderr).toMatch(/\[MONITOR_STATE_INVALID\]\n$/);
    expect(altered.stderr.split("\n")).toHaveLength(2);

    writeFileSync(state, good);
    const mon = startMonitor(home, ["--config", cfg]);
    try {
      await waitFor("the lock", () => existsSync(`${state}.lock`));
      const second = home.run(["monitor", "run", "--config", cfg, "--once"]);
      expect(second.stderr).toMatch(/^pipeseal: another monitor \(pid \d+\) is running on .* \[MONITOR_LOCKED\]\n$/);
    } finally {
      expect(await mon.stop()).toBe(0);
    }
    expect(existsSync(`${state}.lock`)).toBe(false);
  });

  test("monitor alerts / ack: an ack is audited, --open leaves it out, a bad id is a typed error; anchors on a schedule verify", async () => {
    const home = keystoreHome(["prod/canary/a"]);
    const anchors = path.join(home.dir, "anchors");
    const cfg = yaml(home.dir);
    useKey(home, "prod/canary/a", "alice");
    const r = home.run(["monitor", "run", "--config", cfg, "--once", "--anchor-every", "1h", "--anchor-dir", anchors]);
    expect(r.status).toBe(0);
    const [a] = home
      .run(["monitor", "alerts", "--json", "--since", "24h"])
      .stdout.toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(a.ack).toBeNull();
    const table = home.run(["monitor", "alerts"]).stdout.toString();
    expect(table).toContain("OPEN");
    expect(table).toContain(a.id);

    const ack = home.run(["monitor", "ack", a.id, "--note", "expected backfill"], "secops");
    expect(ack.stderr).toBe("");
    expect(ack.stdout.toString()).toContain(`acknowledged ${a.id}`);
    expect(home.run(["monitor", "alerts", "--open", "--json"]).stdout.toString()).toBe("");
    const acked = JSON.parse(home.run(["monitor", "alerts", "--json"]).stdout.toString());
    expect(acked.ack).toMatchObject({ by: "secops", note: "expected backfill" });
    const audit = JSON.parse(home.run(["audit", "list", "--json"]).stdout.toString()) as {
      operation: string;
      principal: string;
      objectPath: string;
      context: string;
    }[];
    const rec = audit.find((x) => x.operation === "monitor.ack")!;
    expect(rec).toMatchObject({ principal: "secops", objectPath: a.id });
    expect(JSON.parse(rec.context).note).toBe("expected backfill");

    const unknown = home.run(["monitor", "ack", "al_000000000000000000000000", "--note", "x"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe("pipeseal: no alert al_000000000000000000000000 in this keystore [MONITOR_ALERT_NOT_FOUND]\n");
    expect(home.run(["monitor", "ack", a.id, "--note", "  "]).stderr).toMatch(/\[MONITOR_INPUT_INVALID\]\n$/);

    // one at start, one at the stop (the monitor's own alert record moved the head), and the public key once
    const files = readdirSync(anchors).sort();
    expect(files).toHaveLength(3);
    expect(files[2]).toBe("anchor-key.pem");
    expect(files.slice(0, 2).every((f) => /^anchor-\d{12}-\d{4}-\d\d-\d\dT\d{9}Z\.json$/.test(f))).toBe(true);
    const verify = home.run(["audit", "verify", "--anchor", ...files.slice(0, 2).map((f) => path.join(anchors, f))]);
    expect(verify.status).toBe(0);
    expect(verify.stdout.toString()).toContain("ok");
    // a keystore restored to before the second anchor fails verify against it
    const anchored = JSON.parse(Buffer.from(JSON.parse(readFileSync(path.join(anchors, files[1]!), "utf8")).payload, "base64").toString()).seq as number;
    const db = new Database(path.join(home.env.PIPESEAL_HOME!, "keystore.db"));
    db.prepare("DELETE FROM audit WHERE seq >= ?").run(anchored);
    db.close();
    expect(home.run(["audit", "verify", "--anchor", path.join(anchors, files[1]!)]).status).toBe(5);
  });

  test("posture lists the open (unacknowledged) alerts per key, and stops once they are acked", () => {
    const home = keystoreHome(["prod/canary/a", "prod/datasets/b"]);
    const cfg = yaml(home.dir);
    useKey(home, "prod/canary/a", "mallory");
    useKey(home, "prod/datasets/b", "etl");
    expect(home.run(["monitor", "run", "--config", cfg, "--once"]).status).toBe(0);
    const map = path.join(home.dir, "pipeline.yaml");
    mkdirSync(path.join(home.dir, "data"), { recursive: true });
    writeFileSync(
      map,
      `version: 1\nname: t\nkeys:\n  home: ${home.env.PIPESEAL_HOME}\nstages:\n  landing:\n    stores:\n      - { id: canary, kind: folder, path: ./data, classification: pii, key: prod/canary/a }\n      - { id: b, kind: folder, path: ./data, classification: pii, key: prod/datasets/b }\n`,
    );
    const report = () => JSON.parse(home.run(["posture", "check", map, "--json"]).stdout.toString());
    const access = report().answers.access as { key: string; openAlerts: { id: string; detection: string; severity: string; principal: string }[] }[];
    const canary = access.find((a) => a.key === "prod/canary/a")!;
    expect(canary.openAlerts).toMatchObject([{ detection: "honeytoken", severity: "critical", principal: "mallory" }]);
    expect(access.find((a) => a.key === "prod/datasets/b")!.openAlerts).toEqual([]);
    const text = home.run(["posture", "check", map]).stdout.toString();
    expect(text).toContain(`open monitor alerts on prod/canary/a: critical honeytoken (mallory, ${canary.openAlerts[0]!.id})`);
    expect(home.run(["monitor", "ack", canary.openAlerts[0]!.id, "--note", "red-team exercise"]).status).toBe(0);
    expect(report().answers.access.find((a: { key: string }) => a.key === "prod/canary/a").openAlerts).toEqual([]);
  });

  test("malformed monitor.yaml is one typed line naming the line, and a webhook password is never echoed", () => {
    const home = keystoreHome([]);
    const cfg = path.join(home.dir, "bad.yaml");
    writeFileSync(
      cfg,
      "version: 1\nsinks:\n  - kind: webhook\n    url: https://svc:hunter2@alerts.internal/hook\n    certDir: certs\n    expect: [spiffe://acme/prod/alerts]\n",
    );
    const r = home.run(["monitor", "run", "--config", cfg, "--once"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^pipeseal: bad\.yaml:4:.*without user:password@.*\[MONITOR_CONFIG_INVALID\]\n$/);
    expect(r.stderr).not.toContain("hunter2");
    writeFileSync(cfg, "version: 1\nsinks:\n  - kind: webhook\n    url: https://alerts.internal/hook\n    certDir: certs\n");
    expect(home.run(["monitor", "run", "--config", cfg]).stderr).toMatch(/^pipeseal: bad\.yaml:3:.*needs expect.*\[MONITOR_CONFIG_INVALID\]\n$/);
    writeFileSync(cfg, "version: 1\nanchors:\n  every: 1h\n");
    expect(home.run(["monitor", "run", "--config", cfg]).stderr).toMatch(/^pipeseal: bad\.yaml:3:.*anchors needs every.*\[MONITOR_CONFIG_INVALID\]\n$/);
    writeFileSync(cfg, "version: 1\nsinks: [{kind: pager}]\n");
    expect(home.run(["monitor", "run", "--config", cfg]).stderr).toMatch(/^pipeseal: bad\.yaml:2:.*\[MONITOR_CONFIG_INVALID\]\n$/);
    expect(home.run(["monitor", "run", "--anchor-every", "1h"]).stderr).toMatch(/needs --anchor-dir.*\[INVALID_ARGUMENT\]\n$/);
    // with --server it follows the key service (test/monitor/remote-*.test.ts): a folder without a certificate is one typed line
    expect(home.run(["--server", "https://127.0.0.1:1", "--cert", home.dir, "monitor", "run"]).stderr).toMatch(
      /^pipeseal: no readable cert\.pem in .*\[CERT_NOT_FOUND\]\n$/,
    );
  });
});
