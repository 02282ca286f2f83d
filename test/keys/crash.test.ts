import { spawn, spawnSync } from "node:child_process";
import { existsSync, statSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { initKeystore, openKeystore } from "../../src/keys/index.js";
import { dataKey, tempHome, track } from "./helpers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dist = path.join(root, "dist");
const fixture = path.join(root, "test/keys/fixtures/rotate-loop.mjs");

/** Builds dist/ with tsc when the built keystore is missing or older than its sources. */
function ensureBuilt(): void {
  const built = path.join(dist, "keys", "keystore.js");
  const newest = Math.max(...["src/keys", "src/audit"].flatMap((d) => readdirSync(path.join(root, d)).map((f) => statSync(path.join(root, d, f)).mtimeMs)));
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return;
  // Other layers may not type-check mid-development; tsc still emits, so judge by the output.
  spawnSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", path.join(root, "tsconfig.json")], { stdio: "ignore" });
  if (!existsSync(built)) throw new Error("tsc did not produce dist/keys/keystore.js");
}

/** Starts the loop, waits for "ready", lets it run `ms`, then SIGKILLs it. */
function runAndKill(home: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, dist, home], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.on("data", (d) => {
      if (String(d).includes("ready")) setTimeout(() => child.kill("SIGKILL"), ms);
    });
    child.on("exit", (_code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`loop exited on its own: ${stderr}`))));
  });
}

describe("crash consistency", () => {
  beforeAll(ensureBuilt, 120_000);

  it("SIGKILL during rotation loops leaves a consistent keystore and a verifying audit chain", async () => {
    const home = tempHome();
    await initKeystore(home);
    const setup = await openKeystore(home);
    setup.createKey("crash");
    const first = await setup.wrap("crash", dataKey(), {});
    setup.close();

    let lastPrimary = 1;
    for (let round = 0; round < 6; round++) {
      await runAndKill(home, 50 + Math.floor(Math.random() * 400));

      const raw = new Database(path.join(home, "keystore.db"));
      expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
      raw.close();

      const ks = track(await openKeystore(home));
      const info = ks.showKey("crash");
      const versions = info.versions.map((v) => v.version);
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
      expect(info.primaryVersion).toBe(versions.length);
      expect(info.versions.every((v) => v.state === "enabled")).toBe(true);
      expect(info.primaryVersion).toBeGreaterThan(lastPrimary); // the loop made progress
      lastPrimary = info.primaryVersion;
      const audit = ks.verifyAudit();
      expect(audit.problems).toEqual([]);
      expect(audit.ok).toBe(true);
      // every rotation committed with its audit record
      expect(ks.listAudit().filter((r) => r.operation === "key.rotate").length).toBe(info.primaryVersion - 1);
      // old and new versions still work
      expect((await ks.unwrap(first, {}, { operation: "decrypt" })).length).toBe(32);
      const fresh = await ks.wrap("crash", dataKey(), {});
      expect(fresh.keyVersion).toBe(info.primaryVersion);
      ks.close();
    }
  });
});
