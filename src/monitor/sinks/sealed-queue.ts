/**
 * A queue of alerts kept on disk sealed (a pipeseal sealed file under the monitor's state key,
 * context `purpose=monitor-webhook-queue`), bounded in count. It holds incidents, not sends: a
 * newer form of an alert already queued replaces it. Written atomically after every change, so
 * a crash or restart loses nothing that was taken; a file that does not open (another
 * keystore's, altered, of another purpose) is MonitorError(MONITOR_STATE_INVALID), never
 * silently emptied.
 */
import { existsSync, readFileSync } from "node:fs";
import { openBuffer, sealBuffer } from "../../envelope/buffer.js";
import { isPipesealError } from "../../errors.js";
import { once, writeAtomic } from "../../io/atomic.js";
import type { Keyring } from "../../keys/keyring.js";
import { MonitorError } from "../errors.js";
import type { Alert } from "../types.js";
import { sealedContext } from "./sealed-context.js";

export const QUEUE_PURPOSE = "monitor-webhook-queue";

export class SealedQueue {
  #items: Alert[] = [];
  constructor(
    readonly file: string,
    readonly max: number,
    private readonly keyring: Keyring,
    private readonly keyName: string,
  ) {}

  /** Reads the file if there is one. @throws MonitorError(MONITOR_STATE_INVALID) */
  async load(): Promise<void> {
    if (!existsSync(this.file)) return;
    const sealed = readFileSync(this.file);
    try {
      if ((await sealedContext(sealed)).purpose !== QUEUE_PURPOSE) throw new MonitorError("MONITOR_STATE_INVALID", `${this.file} is not a webhook queue`);
      const items = JSON.parse((await openBuffer(this.keyring, sealed, { path: this.file })).toString("utf8")) as unknown;
      if (!Array.isArray(items)) throw new MonitorError("MONITOR_STATE_INVALID", `${this.file} is not a webhook queue`);
      this.#items = items as Alert[];
    } catch (e) {
      if (isPipesealError(e) && e.code === "MONITOR_STATE_INVALID") throw e;
      throw new MonitorError(
        "MONITOR_STATE_INVALID",
        `the webhook queue ${this.file} does not open under this keystore (${isPipesealError(e) ? e.code : "damaged"})`,
        { cause: e },
      );
    }
  }

  get length(): number {
    return this.#items.length;
  }

  head(): Alert | undefined {
    return this.#items[0];
  }

  /** Queues `a` (replacing an older form of it). @throws MonitorError(MONITOR_QUEUE_FULL) when full: nothing is queued then. */
  async put(a: Alert, what: string): Promise<void> {
    const at = this.#items.findIndex((q) => q.id === a.id);
    if (at >= 0 && JSON.stringify(this.#items[at]) === JSON.stringify(a)) return; // already queued as is (a restart offering it again)
    if (at >= 0) this.#items[at] = a;
    else {
      if (this.#items.length >= this.max)
        throw new MonitorError(
          "MONITOR_QUEUE_FULL",
          `the ${what} is not taking alerts and its queue holds ${this.#items.length} (queue.maxAlerts); alert ${a.id} was not queued`,
        );
      this.#items.push(a);
    }
    await this.#persist();
  }

  /** Removes the head if it is still `a` (a newer form that arrived meanwhile stays). */
  async shift(a: Alert): Promise<void> {
    if (this.#items[0] === a) this.#items.shift();
    else return;
    await this.#persist();
  }

  async #persist(): Promise<void> {
    const sealed = await sealBuffer(this.keyring, Buffer.from(JSON.stringify(this.#items), "utf8"), {
      keyName: this.keyName,
      context: { purpose: QUEUE_PURPOSE },
    });
    await writeAtomic(this.file, once(sealed), 0o600);
  }
}
