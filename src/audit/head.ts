/**
 * The head anchor: last seq, MAC and the head's own MAC (head-mac.ts), kept in the `meta`
 * table and updated with every append. JSON `{ "seq": n, "mac": hex, "tag": hex }`; a store
 * made before head MACs has no `tag` until it is sealed (seal-head.ts).
 */
import type Database from "better-sqlite3";
import { AUDIT_HEAD_META_KEY } from "./schema.js";
import type { AuditHead } from "./types.js";
import { cached } from "../io/statement.js";

/** Reads the head anchor; `null` when missing or malformed. An empty chain is `{ seq: 0, mac: "" }`. */
export function readAuditHead(db: Database.Database): AuditHead | null {
  const row = cached(db, "SELECT value FROM meta WHERE key = ?").get(AUDIT_HEAD_META_KEY) as { value: string } | undefined;
  if (row === undefined) return null;
  try {
    const parsed = JSON.parse(row.value) as { seq?: unknown; mac?: unknown; tag?: unknown };
    if (typeof parsed.seq !== "number" || !Number.isSafeInteger(parsed.seq) || parsed.seq < 0) return null;
    if (typeof parsed.mac !== "string" || !/^([0-9a-f]{64})?$/.test(parsed.mac)) return null;
    // a malformed tag reads as a wrong one (the head is then not authentic), not as no head
    if (parsed.tag !== undefined) return { seq: parsed.seq, mac: parsed.mac, tag: typeof parsed.tag === "string" ? parsed.tag : JSON.stringify(parsed.tag) };
    return { seq: parsed.seq, mac: parsed.mac };
  } catch {
    return null;
  }
}

export function writeAuditHead(db: Database.Database, head: AuditHead): void {
  cached(db, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(
    AUDIT_HEAD_META_KEY,
    JSON.stringify(head.tag === undefined ? { seq: head.seq, mac: head.mac } : { seq: head.seq, mac: head.mac, tag: head.tag }),
  );
}
