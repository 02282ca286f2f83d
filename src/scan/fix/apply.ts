/**
 * Applying a fix plan: every secret is stored first (if that fails, no file has changed), then
 * each file is replaced atomically (temp file, fsync, rename), keeping its mode.
 */
import { once, writeAtomic } from "../../io/atomic.js";
import type { FixPlan } from "./plan.js";

/** Where moved secrets go: `SecretStore` (src/secrets) fits. */
export interface SecretSink {
  set(name: string, value: Uint8Array): Promise<unknown>;
}

export async function applyFixes(plan: FixPlan, sink: SecretSink): Promise<void> {
  for (const s of plan.secrets) {
    const value = Buffer.from(s.value, "utf8");
    try {
      await sink.set(s.name, value);
    } finally {
      value.fill(0);
    }
  }
  for (const f of plan.files) await writeAtomic(f.abs, once(f.after), f.mode);
}
