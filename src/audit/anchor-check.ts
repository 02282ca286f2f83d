/**
 * `audit verify --anchor`: does the current chain extend each anchor? An anchor at seq S with
 * MAC M is extended when the chain still holds a record S whose MAC is M (each MAC chains
 * every record before it, so records 1..S are the anchored ones) and the chain verifies
 * (checked by the caller with verifyAudit, reported beside). A head before S is a rollback;
 * another MAC at S (or no record S under a later head) is a fork.
 */
import { AuditError } from "../errors.js";
import { type AuditAnchor, asEnvelope, openAnchor, parseAnchorEnvelope } from "./anchor.js";
import type { AnchorKey } from "./anchor-key.js";
import { macEquals } from "./chain.js";
import type { AuditHead, AuditVerifyResult } from "./types.js";

export interface AnchorCheck {
  /** What the anchor states, once its signature verified. */
  readonly anchor: AuditAnchor | null;
  readonly ok: boolean;
  /** Why it failed (or "extended"). */
  readonly detail: string;
  readonly code: "AUDIT_ANCHOR_INVALID" | "AUDIT_ROLLBACK" | null;
}

export interface AnchoredVerifyResult extends AuditVerifyResult {
  readonly anchors: AnchorCheck[];
}

/** What the check reads from a store. */
export interface AnchorChainView {
  readonly head: AuditHead | null;
  /** Hex MAC of record `seq`, or null if there is none. */
  macAt(seq: number): string | null | Promise<string | null>;
}

/** Each anchor: an anchor file's text, or its envelope object. Never throws on a bad one. */
export async function checkAnchors(envelopes: readonly unknown[], key: AnchorKey, chain: AnchorChainView): Promise<AnchorCheck[]> {
  const out: AnchorCheck[] = [];
  for (const raw of envelopes) {
    let anchor: AuditAnchor;
    try {
      anchor = openAnchor(typeof raw === "string" ? parseAnchorEnvelope(raw) : asEnvelope(raw), key);
    } catch (e) {
      out.push({ anchor: null, ok: false, detail: (e as Error).message, code: "AUDIT_ANCHOR_INVALID" });
      continue;
    }
    out.push(await checkOne(anchor, chain));
  }
  return out;
}

async function checkOne(anchor: AuditAnchor, chain: AnchorChainView): Promise<AnchorCheck> {
  const at = `the anchor of record ${anchor.seq} taken ${anchor.time}`;
  const headSeq = chain.head?.seq ?? 0;
  if (headSeq < anchor.seq) {
    return {
      anchor,
      ok: false,
      code: "AUDIT_ROLLBACK",
      detail: `rolled back: the chain ends at record ${headSeq}, before ${at} (an older copy of the database was restored, or its tail deleted)`,
    };
  }
  const mac = await chain.macAt(anchor.seq);
  if (mac === null) return { anchor, ok: false, code: "AUDIT_ROLLBACK", detail: `forked: record ${anchor.seq} of ${at} is missing from the chain` };
  if (!macEquals(Buffer.from(mac, "hex"), Buffer.from(anchor.mac, "hex"))) {
    return { anchor, ok: false, code: "AUDIT_ROLLBACK", detail: `forked: record ${anchor.seq} is not the one of ${at} (the history was replaced)` };
  }
  return { anchor, ok: true, code: null, detail: `extended: record ${anchor.seq} is the one anchored ${anchor.time}` };
}

/**
 * The error for a failed anchored verification: a rollback or fork first (the strongest
 * finding), then an invalid anchor, then a broken chain. Nothing when everything holds.
 */
export function anchoredFailure(result: AnchoredVerifyResult): AuditError | null {
  const bad = (code: AnchorCheck["code"]) => result.anchors.filter((a) => a.code === code);
  const rolled = bad("AUDIT_ROLLBACK");
  if (rolled.length > 0) return new AuditError("AUDIT_ROLLBACK", `the audit chain does not extend ${rolled.length} anchor(s): ${rolled[0].detail}`);
  const invalid = bad("AUDIT_ANCHOR_INVALID");
  if (invalid.length > 0) return new AuditError("AUDIT_ANCHOR_INVALID", invalid[0].detail);
  if (!result.ok)
    return new AuditError("AUDIT_CHAIN_BROKEN", `audit chain broken: ${result.problems.length} problem(s), first at record ${result.problems[0]?.seq}`);
  return null;
}
