/**
 * Anchors on a schedule (`audit.anchorEvery` in keyservice.yaml): the service writes a signed
 * anchor of its audit head (src/audit/anchor.ts) at start, then every period while the chain
 * grew, and once more at shutdown, each as a file in `audit.anchorDir` and as one service log
 * line (so a log shipper carries it to a SIEM, outside the database). `audit verify --anchor`
 * with any of them later proves that the chain still extends it: a restored older database,
 * or a forked one, fails (docs/audit.md). A failed write is logged and retried next period;
 * it never stops the service.
 */
import { anchoredHead, writeAnchorFile } from "../audit/anchor-file.js";
import type { KeyStore } from "./store/types.js";

export interface AnchorSchedule {
  /** Writes a last anchor (if the chain grew) and stops the timer. */
  stop(): Promise<void>;
  /** Writes an anchor now if the chain grew since the last one; resolves with its file, or null. */
  tick(): Promise<string | null>;
}

export interface AnchorScheduleOptions {
  readonly dir: string;
  readonly everySeconds: number;
  readonly log?: (line: string) => void;
}

export async function scheduleAnchors(store: KeyStore, options: AnchorScheduleOptions): Promise<AnchorSchedule> {
  const log = options.log ?? (() => undefined);
  let lastSeq = -1;
  let running: Promise<string | null> = Promise.resolve(null);
  const write = async (): Promise<string | null> => {
    const { anchor, publicKey } = await store.auditAnchor();
    const { seq } = anchoredHead(anchor);
    if (seq === lastSeq) return null; // the last anchor still says everything: the chain did not grow
    const file = await writeAnchorFile(options.dir, anchor, lastSeq === -1 ? publicKey : undefined);
    lastSeq = seq;
    log(`audit anchor seq ${seq} written to ${file}: ${JSON.stringify(anchor)}`);
    return file;
  };
  const logged = (): Promise<string | null> =>
    write().catch((e: unknown) => {
      log(`audit anchor not written (retrying in ${options.everySeconds}s): ${(e as Error)?.message ?? String(e)}`);
      return null;
    });
  // one write at a time: a slow disk must not interleave two anchors of the same seq
  const tick = (): Promise<string | null> => (running = running.then(logged));
  running = write(); // the first one throws: a folder that cannot be written fails the start
  await running;
  const timer = setInterval(() => void tick(), options.everySeconds * 1000);
  timer.unref();
  return {
    tick,
    async stop() {
      clearInterval(timer);
      await tick();
    },
  };
}
