import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { initKeystore, openKeystore, type LocalKeystore } from "../../src/keys/index.js";

/** A fresh temp folder removed after the test file. */
export function tempDir(prefix = "pipeseal-test-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A real keystore (SQLite file, master key file) in a temp folder, with key `k` created. */
export async function freshKeystore(keyNames: string[] = ["k"]): Promise<{ ks: LocalKeystore; home: string }> {
  const home = path.join(tempDir(), "ks");
  await initKeystore(home);
  const ks = await openKeystore(home, { principal: "tester" });
  for (const name of keyNames) ks.createKey(name);
  afterAll(() => ks.close());
  return { ks, home };
}
