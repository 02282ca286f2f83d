/** Sealing an old keystore's head on open (the rule is in seal-head.ts), in one IMMEDIATE transaction. */
import type Database from "better-sqlite3";
import type { AuditKey } from "./chain.js";
import { readAuditHead } from "./head.js";
import { HAS_MARKER_SQL, MARKER_CONTEXT_JSONS, type HeadSealState, sealDecision, upgradeEvent } from "./seal-head.js";
import { SqliteAuditSink } from "./sqlite-sink.js";
import { verifyAuditChain } from "./verify.js";
import { cached } from "../io/statement.js";

/** Decides, and seals when the rule says so. Cheap for a sealed store (one meta read). */
export function sealSqliteHead(db: Database.Database, auditKey: AuditKey, principal: string, now: () => number): HeadSealState {
  const head = readAuditHead(db);
  if (head === null || head.tag !== undefined) return "sealed";
  return db
    .transaction((): HeadSealState => {
      const first = cached(db, "SELECT seq, operation FROM audit ORDER BY seq LIMIT 1").get() as { seq: number; operation: string } | undefined;
      const hasMarker =
        cached(
          db,
          HAS_MARKER_SQL(() => "?"),
        ).get(...MARKER_CONTEXT_JSONS) !== undefined;
      const decision = sealDecision({ head: readAuditHead(db), hasMarker, first: first ?? null });
      if (decision !== "verify") return decision;
      if (!verifyAuditChain(db, auditKey, { ignoreHeadTag: true }).ok) return "unsealed";
      new SqliteAuditSink(db, auditKey, { now }).appendSealing(upgradeEvent(principal));
      return "sealed";
    })
    .immediate();
}
