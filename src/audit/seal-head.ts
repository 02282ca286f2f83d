/**
 * Sealing the head of a store made before head MACs (head-mac.ts), on its first open with
 * the key. The rule that decides it is written once here and used by both stores:
 *
 * - a head that has a tag is sealed already (whether the tag is right is checked on use);
 * - a chain holding a head marker (`init` of a new store, or an earlier `audit.upgrade`) must
 *   have a tagged head: a missing tag was stripped, and nothing is sealed;
 * - otherwise the store is from before head MACs. It is sealed (an `audit.upgrade` record is
 *   appended and the new head tagged) only if its chain begins with its `init` record and
 *   verifies. One whose chain does not verify stays unsealed: it keeps working, and `audit
 *   verify` keeps reporting it. A log that is empty or does not begin with `init` was wiped
 *   (and maybe refilled): it is never sealed, and appends to it are refused.
 *
 * What this cannot do: a tail deleted from an old store BEFORE it was first opened by this
 * version, or deleted back to the record before its `audit.upgrade` by someone who also
 * strips the tag, looks like an old store's untouched log. Take an anchor (anchor.ts) after
 * upgrading; `audit verify --anchor` then detects both.
 */
import { HEAD_MARKER_CONTEXT, UPGRADE_OPERATION } from "./head-mac.js";
import type { AuditEvent, AuditHead } from "./types.js";

export type HeadSealState =
  /** Tagged, or must be: every append checks the tag (and refuses an untagged head). */
  | "sealed"
  /** From before head MACs and not sealable: appends go on untagged; verify reports it. */
  | "unsealed";

/** What a store reads (in one transaction) to decide. */
export interface LegacyChainView {
  readonly head: AuditHead | null;
  /** True if any record is a head marker (head-mac.ts isHeadMarker). */
  readonly hasMarker: boolean;
  /** The first record's seq and operation, or null for an empty chain. */
  readonly first: { readonly seq: number; readonly operation: string } | null;
}

/**
 * The decision of the module comment: "verify" means an old store that is sealed if its chain
 * verifies (ignoring the head's tag), and stays "unsealed" otherwise.
 */
export function sealDecision(view: LegacyChainView): HeadSealState | "verify" {
  if (view.head === null || view.head.tag !== undefined || view.hasMarker) return "sealed";
  // every store's log starts with its init: an empty one, or one starting otherwise, was wiped (and
  // maybe refilled); it must have a tagged head, so it is refused, never sealed nor extended
  if (view.first === null || view.first.seq !== 1 || view.first.operation !== "init") return "sealed";
  return "verify";
}

/** The record that seals an old store (written by the store itself, as `principal`). */
export function upgradeEvent(principal: string): AuditEvent {
  return { operation: UPGRADE_OPERATION, principal, outcome: "ok", context: { ...HEAD_MARKER_CONTEXT } };
}

/** SQL for the marker scan: any record whose operation and context make it a marker. */
export const HAS_MARKER_SQL = (p: (i: number) => string) =>
  `SELECT 1 FROM audit WHERE operation IN ('init', '${UPGRADE_OPERATION}') AND context IN (${p(1)}, ${p(2)}) LIMIT 1`;
export { MARKER_CONTEXT_JSONS } from "./head-mac.js";
