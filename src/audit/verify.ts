/**
 * Verification of the audit chain (see chain.ts for the construction).
 *
 * Pass 1 checks every record against its stored predecessor's MAC and finds gaps.
 * Pass 2 explains each record that fails: its content is authentic elsewhere in the
 * chain (`reordered`), its MAC still chains to the next record so only its fields changed
 * (`modified`), or it lies beyond the head anchor (`inserted`). The head anchor detects a
 * deleted tail (`truncated`); it carries its own MAC (head-mac.ts), so pointing it at an
 * earlier record, or at seq 0 after wiping the log, is `truncated` too. Classification is a
 * best explanation; detection is exact: `ok` is true only if the chain is not empty (every
 * store records its `init`), every record authenticates, seqs are 1..n without gaps, the
 * last record matches the anchor, and the anchor's own MAC verifies.
 */
import type Database from "better-sqlite3";
import { type AuditKey, GENESIS_MAC, chainMac, macEquals } from "./chain.js";
import { readAuditHead } from "./head.js";
import { headIsAuthentic } from "./head-mac.js";
import type { AuditRow } from "./schema.js";
import type { AuditHead, AuditProblem, AuditVerifyResult } from "./types.js";

/** How far (in seqs) to look for the original place of a reordered record. */
const REORDER_WINDOW = 256;
/** Above this many failing records, skip the quadratic explanations. */
const MAX_EXPLAINED = 64;

export interface VerifyAuditOptions {
  /** Judge the records and head of a store from before head MACs, ignoring the head's tag (seal-head.ts only). */
  readonly ignoreHeadTag?: boolean;
}

/** Verifies the whole chain of a SQLite store. Never throws on tampering: problems are returned. */
export function verifyAuditChain(db: Database.Database, auditKey: AuditKey, options: VerifyAuditOptions = {}): AuditVerifyResult {
  return verifyChainRows(db.prepare("SELECT * FROM audit ORDER BY seq ASC").all() as AuditRow[], readAuditHead(db), auditKey, options);
}

/**
 * Verifies a chain given as its rows (in seq order) and its head anchor (null: missing or
 * malformed), whichever store they were read from. Never throws on tampering.
 */
export function verifyChainRows(rows: readonly AuditRow[], head: AuditHead | null, auditKey: AuditKey, options: VerifyAuditOptions = {}): AuditVerifyResult {
  const problems: AuditProblem[] = [];
  const macOf = new Map<number, Buffer>(rows.map((r) => [r.seq, Buffer.from(r.mac)]));
  const indexOf = new Map<number, number>(rows.map((r, i) => [r.seq, i]));
  const valid: boolean[] = new Array<boolean>(rows.length).fill(true);
  const failing: number[] = [];

  // Pass 1: chain links and gaps.
  let prevSeq = 0;
  rows.forEach((row, i) => {
    if (row.seq < 1) {
      problems.push({ seq: row.seq, kind: "inserted", detail: `record has an invalid sequence number ${row.seq}` });
      valid[i] = false;
      return;
    }
    if (row.seq > prevSeq + 1) {
      const range = row.seq - 1 === prevSeq + 1 ? `${prevSeq + 1}` : `${prevSeq + 1}..${row.seq - 1}`;
      problems.push({
        seq: prevSeq + 1,
        kind: "deleted",
        detail: `record(s) ${range} are missing; record ${row.seq} cannot be authenticated without its predecessor`,
      });
      prevSeq = row.seq;
      return; // unverifiable, but its stored MAC anchors the rest of the chain
    }
    prevSeq = row.seq;
    const prev = row.seq === 1 ? GENESIS_MAC : (macOf.get(row.seq - 1) as Buffer);
    if (!macEquals(chainMac(auditKey, prev, row), Buffer.from(row.mac))) {
      valid[i] = false;
      failing.push(i);
    }
  });

  // Pass 2: explain failures.
  const failingMacs = failing.map((i) => Buffer.from(rows[i].mac));
  const explain = failing.length <= MAX_EXPLAINED;
  for (const i of failing) {
    const row = rows[i];
    const mac = Buffer.from(row.mac);
    if (explain && failingMacs.some((p) => macEquals(chainMac(auditKey, p, row), mac))) continue; // displaced predecessor only
    const origin = explain ? findOriginalSeq(auditKey, row, rows, macOf, failingMacs) : null;
    const nextIndex = indexOf.get(row.seq + 1);
    if (origin !== null) {
      problems.push({ seq: row.seq, kind: "reordered", detail: `record ${row.seq} holds the content of record ${origin}` });
    } else if (nextIndex !== undefined && valid[nextIndex] === true) {
      problems.push({ seq: row.seq, kind: "modified", detail: `record ${row.seq} was edited: its fields no longer match its MAC` });
    } else if (head !== null && row.seq > head.seq) {
      problems.push({
        seq: row.seq,
        kind: "inserted",
        detail: `record ${row.seq} is forged: it lies beyond the head anchor (${head.seq}) and does not authenticate`,
      });
    } else {
      problems.push({ seq: row.seq, kind: "modified", detail: `record ${row.seq} does not authenticate (edited or forged)` });
    }
  }

  checkHead(rows, head, valid, problems);
  if (options.ignoreHeadTag !== true) checkHeadTag(auditKey, rows, head, problems);
  problems.sort((a, b) => a.seq - b.seq);
  return { ok: problems.length === 0, records: rows.length, problems };
}

/** The seq whose place this record's content authenticates at, if any (content moved). */
function findOriginalSeq(key: AuditKey, row: AuditRow, rows: readonly AuditRow[], macOf: Map<number, Buffer>, failingMacs: Buffer[]): number | null {
  const mac = Buffer.from(row.mac);
  for (const other of rows) {
    if (other.seq === row.seq || other.seq < 1 || Math.abs(other.seq - row.seq) > REORDER_WINDOW) continue;
    const stored = Buffer.from(other.mac);
    const prevs = [other.seq === 1 ? GENESIS_MAC : macOf.get(other.seq - 1), ...failingMacs];
    const moved = { ...row, seq: other.seq };
    for (const prev of prevs) {
      if (prev === undefined) continue;
      const candidate = chainMac(key, prev, moved);
      // Content moved with its MAC, or content moved and the MAC stayed behind.
      if (macEquals(candidate, mac) || macEquals(candidate, stored)) return other.seq;
    }
  }
  return null;
}

function checkHead(rows: readonly AuditRow[], head: ReturnType<typeof readAuditHead>, valid: boolean[], problems: AuditProblem[]): void {
  const last = rows.length === 0 ? 0 : rows[rows.length - 1].seq;
  if (head === null) {
    problems.push({ seq: last + 1, kind: "truncated", detail: "the audit head anchor is missing or malformed" });
    return;
  }
  if (head.seq > last) {
    const range = head.seq === last + 1 ? `${head.seq}` : `${last + 1}..${head.seq}`;
    problems.push({ seq: last + 1, kind: "truncated", detail: `record(s) ${range} were deleted from the end (head anchor is ${head.seq})` });
    return;
  }
  const reported = new Set(problems.map((p) => p.seq));
  rows.forEach((row, i) => {
    if (row.seq > head.seq && valid[i] === true && !reported.has(row.seq)) {
      problems.push({ seq: row.seq, kind: "inserted", detail: `record ${row.seq} lies beyond the head anchor (${head.seq})` });
    }
  });
  if (head.seq === 0) return;
  const anchored = rows.find((r) => r.seq === head.seq);
  if (anchored !== undefined && !reported.has(head.seq) && !macEquals(Buffer.from(anchored.mac), Buffer.from(head.mac, "hex"))) {
    problems.push({ seq: head.seq, kind: "modified", detail: `record ${head.seq} does not match the head anchor` });
  }
}

/** The head's own MAC, and the rule that a chain is never empty. */
function checkHeadTag(key: AuditKey, rows: readonly AuditRow[], head: ReturnType<typeof readAuditHead>, problems: AuditProblem[]): void {
  if (rows.length === 0) {
    problems.push({ seq: 1, kind: "truncated", detail: "the audit log is empty, but every store records its init: its records were deleted" });
  }
  if (head === null || problems.some((p) => p.seq === head.seq || (p.kind === "truncated" && p.seq === head.seq + 1))) return; // already reported there
  if (head.tag === undefined) {
    problems.push({
      seq: head.seq,
      kind: "truncated",
      detail: "the audit head has no MAC of its own: it may have been pointed at an earlier record (records deleted from the end)",
    });
  } else if (!headIsAuthentic(key, head)) {
    problems.push({
      seq: head.seq,
      kind: "truncated",
      detail: "the audit head's MAC does not verify: the head was edited (records deleted from the end, or the log wiped)",
    });
  }
}
