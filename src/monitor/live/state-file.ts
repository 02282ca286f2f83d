/**
 * The live monitor's state file: the engine's baselines and open incidents, its place in the
 * audit chain (seq and MAC) and the ledger change its sinks have all taken. Sealed (a pipeseal
 * sealed file under the keystore key `state.key`, context `purpose=monitor-state`), so it can
 * neither be read (baselines say who uses what, when) nor altered without the keystore, and a
 * state of another keystore does not open. Written atomically; a crash leaves the old one,
 * from which the monitor replays, and the ledger keeps the replay from alerting twice.
 */
import { existsSync, readFileSync } from "node:fs";
import { openBuffer, sealBuffer } from "../../envelope/buffer.js";
import { isPipesealError } from "../../errors.js";
import { once, writeAtomic } from "../../io/atomic.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { MonitorError } from "../errors.js";
import { sealedContext } from "../sinks/sealed-context.js";
import type { EngineState } from "../state.js";
import type { DecoyMemory } from "./decoys.js";
import type { ChainPosition } from "./follow.js";

export const STATE_PURPOSE = "monitor-state";
const VERSION = 1;

export interface RunnerState {
  readonly version: typeof VERSION;
  /** The audit followed (source.ts `AuditSource.id`); absent in states written before there was a choice: "local". */
  readonly source?: string;
  readonly engine: EngineState;
  readonly chain: ChainPosition;
  /** Every ledger change up to this one has been taken by every sink. */
  readonly delivered: number;
  /** Per sink (by name): every change up to this one was taken by that sink. */
  readonly sinks?: Readonly<Record<string, number>>;
  /** Every decoy the monitor has seen in the registry (kept even if a row disappears). */
  readonly decoys?: DecoyMemory;
}

/** Creates the state key if the keystore has none of that name (an audited key.create). */
export function ensureStateKey(ks: LocalKeystore, name: string): void {
  try {
    ks.showKey(name);
  } catch (e) {
    if (isPipesealError(e) && e.code === "KEY_NOT_FOUND") ks.createKey(name);
    else throw e;
  }
}

/** The saved state, or null when there is no file yet. @throws MonitorError(MONITOR_STATE_INVALID) */
export async function loadState(ks: LocalKeystore, file: string): Promise<RunnerState | null> {
  if (!existsSync(file)) return null;
  const sealed = readFileSync(file);
  let s: Partial<RunnerState>;
  try {
    if ((await sealedContext(sealed)).purpose !== STATE_PURPOSE) throw new MonitorError("MONITOR_STATE_INVALID", `${file} is not a monitor state file`);
    s = JSON.parse((await openBuffer(ks, sealed, { path: file })).toString("utf8")) as Partial<RunnerState>;
  } catch (e) {
    if (isPipesealError(e) && e.code === "MONITOR_STATE_INVALID") throw e;
    throw new MonitorError(
      "MONITOR_STATE_INVALID",
      `the monitor state ${file} does not open under this keystore (${isPipesealError(e) ? e.code : "damaged"}); move it away to learn again`,
      { cause: e },
    );
  }
  const c = s.chain;
  if (s.version !== VERSION || typeof s.engine !== "object" || s.engine === null || !c || !Number.isSafeInteger(c.seq) || !Number.isSafeInteger(s.delivered)) {
    throw new MonitorError("MONITOR_STATE_INVALID", `the monitor state ${file} is of another version or damaged`);
  }
  return s as RunnerState;
}

export async function saveState(ks: LocalKeystore, file: string, keyName: string, state: RunnerState): Promise<void> {
  const sealed = await sealBuffer(ks, Buffer.from(JSON.stringify(state), "utf8"), { keyName, context: { purpose: STATE_PURPOSE } });
  await writeAtomic(file, once(sealed), 0o600);
}
