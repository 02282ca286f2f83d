/** The v2 binding and upgrade target as JSON (the key service's API): 32-byte values as lowercase hex. */
import type { EntryBinding, EntryTarget } from "./key-block.js";

/** EntryBinding on the wire: 32-byte values as lowercase hex. */
export interface WireBinding {
  readonly objectId: string;
  readonly index: number;
  readonly digests: readonly string[];
  readonly tags: readonly string[];
  readonly keyringLabel?: string;
}

/** EntryTarget on the wire (rewrap --upgrade). */
export interface WireTarget {
  readonly objectId: string;
  readonly index: number;
  readonly count: number;
  readonly keyringLabel?: string;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
/** The API schema checks `^[0-9a-f]{64}$` before this runs. */
const unhex = (s: string) => Buffer.from(s, "hex");

export function toWireBinding(b: EntryBinding): WireBinding {
  return {
    objectId: hex(b.objectId),
    index: b.index,
    digests: b.digests.map(hex),
    tags: b.tags.map(hex),
    ...(b.keyringLabel !== undefined ? { keyringLabel: b.keyringLabel } : {}),
  };
}

export function fromWireBinding(w: WireBinding): EntryBinding {
  return {
    objectId: unhex(w.objectId),
    index: w.index,
    digests: w.digests.map(unhex),
    tags: w.tags.map(unhex),
    ...(w.keyringLabel !== undefined ? { keyringLabel: w.keyringLabel } : {}),
  };
}

export function toWireTarget(t: EntryTarget): WireTarget {
  return { objectId: hex(t.objectId), index: t.index, count: t.count, ...(t.keyringLabel !== undefined ? { keyringLabel: t.keyringLabel } : {}) };
}

export function fromWireTarget(w: WireTarget): EntryTarget {
  return { objectId: unhex(w.objectId), index: w.index, count: w.count, ...(w.keyringLabel !== undefined ? { keyringLabel: w.keyringLabel } : {}) };
}
