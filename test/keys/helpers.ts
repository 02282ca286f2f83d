import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import { initKeystore, openKeystore, type LocalKeystore, type OpenKeystoreOptions } from "../../src/keys/index.js";

const dirs: string[] = [];
const stores: LocalKeystore[] = [];

afterEach(() => {
  for (const ks of stores.splice(0)) ks.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp folder; the keystore home is a child that does not exist yet. */
export function tempHome(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pipeseal-keys-"));
  dirs.push(dir);
  return path.join(dir, "home");
}

/** init + open a file-backed keystore; closed after the test. */
export async function freshStore(options: OpenKeystoreOptions = {}): Promise<{ home: string; ks: LocalKeystore }> {
  const home = tempHome();
  await initKeystore(home, { principal: "tester" });
  const ks = await openKeystore(home, { principal: "tester", ...options });
  stores.push(ks);
  return { home, ks };
}

export function track(ks: LocalKeystore): LocalKeystore {
  stores.push(ks);
  return ks;
}

export function dataKey(): Buffer {
  return randomBytes(32);
}

/** Asserts that `fn` rejects/throws a pipeseal error with this code; returns it. */
export async function expectCode(fn: () => unknown, code: string): Promise<Error & { code?: string }> {
  try {
    await fn();
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code !== code) throw new Error(`expected ${code}, got ${err.code ?? err.name}: ${err.message}`, { cause: e });
    return err;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}
