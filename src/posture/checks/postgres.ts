/**
 * PostgreSQL table stores: sample rows and check that the named columns hold pipeseal field
 * tokens (`pse1:…`, src/fields value format) under the store's key. Values are classified and
 * counted; none is ever copied into a finding.
 */
import pg from "pg";
import { parseValue } from "../../fields/value-format.js";
import { SENSITIVE, defineCheck, finding } from "../finding.js";
import type { Answers, CheckModule, Finding, StoreSpec } from "../types.js";

/** Rows sampled per table. */
export const PG_SAMPLE_ROWS = 500;

export const PG = {
  plaintext: defineCheck({
    id: "REST-PG-PLAINTEXT",
    title: "Table column holds values that are not field tokens",
    severity: "high",
    question: "plaintext",
    description: `Samples up to ${PG_SAMPLE_ROWS} rows of the store's table and checks every non-null value of each named column is a pipeseal field token (pse1:e|d:KEY:VERSION:…) under the store's key (or a per-subject key @ns~…). Counts of plaintext and other-key values are reported; no value is.`,
    fix: "Protect the column with `pipeseal fields` under the store's key (and re-run the load), or correct `columns:` in the map.",
  }),
  unverified: defineCheck({
    id: "REST-PG-UNVERIFIED",
    title: "Table not verified",
    severity: "medium",
    question: "keys",
    description: "The table could not be read (connection refused, authentication, missing table or column), so the map's claim about it is unverified.",
    fix: "Check the store's URL, credentials (PGPASSWORD or the URL) and table/column names; posture needs SELECT on the columns.",
  }),
};

/** A quoted identifier (`schema.table`): embedded quotes doubled, so a name from the map cannot close the quote. */
const ident = (name: string) =>
  name
    .split(".")
    .map((p) => `"${p.replaceAll('"', '""')}"`)
    .join(".");

export const postgresChecks: CheckModule = {
  definitions: Object.values(PG),
  async run(ctx) {
    const findings: Finding[] = [];
    const examined: string[] = [];
    const keys: Answers["keys"][number][] = [];
    for (const stage of ctx.map.stages) {
      for (const store of stage.stores.filter((s) => s.kind === "postgres")) {
        examined.push(store.id);
        const table = await checkTable(store, stage.id);
        findings.push(...table.findings);
        keys.push({ store: store.id, stage: stage.id, expectedKey: store.key ?? null, ...table.seen });
      }
    }
    return { findings, examined, facts: { keys } };
  },
};

type TableSeen = Pick<Answers["keys"][number], "keysSeen" | "plaintextFiles" | "sealedFiles" | "verification">;

/** The table's findings and, for the "which keys" answer, the keys its sampled values are under (counts are values). */
async function checkTable(store: StoreSpec, stage: Finding["stage"]): Promise<{ findings: Finding[]; seen: TableSeen }> {
  const location = `${store.table}`;
  const client = new pg.Client({ connectionString: store.url, connectionTimeoutMillis: 5000, statement_timeout: 15000 });
  let rows: Record<string, unknown>[];
  try {
    await client.connect();
    const cols = store.columns!.map(ident).join(", ");
    rows = (await client.query<Record<string, unknown>>(`SELECT ${cols} FROM ${ident(store.table!)} LIMIT ${PG_SAMPLE_ROWS}`)).rows;
  } catch (e) {
    const code = (e as { code?: string }).code ?? "error";
    return {
      findings: [
        finding(PG.unverified, { stage, subject: store.id, location, message: `${store.id}: ${store.table} could not be read (${code})`, evidence: { code } }),
      ],
      seen: { keysSeen: [], plaintextFiles: 0, sealedFiles: 0, verification: "unverified" },
    };
  } finally {
    await client.end().catch(() => undefined);
  }
  const out: Finding[] = [];
  const seen = new Map<string, { key: string; version: number; files: number }>();
  let plainValues = 0;
  let tokenValues = 0;
  for (const col of store.columns!) {
    let plain = 0;
    let otherKey = 0;
    let values = 0;
    for (const row of rows) {
      const v = row[col];
      if (v === null || v === undefined) continue;
      values++;
      const t = parseValue(v);
      if (t) {
        tokenValues++;
        const id = `${t.keyRef}@${t.version}`;
        const s = seen.get(id) ?? { key: t.keyRef, version: t.version, files: 0 };
        s.files++;
        seen.set(id, s);
      }
      if (!t) plain++;
      else if (store.key && t.keyRef !== store.key && !t.keyRef.startsWith("@")) otherKey++;
    }
    plainValues += plain;
    if (plain + otherKey === 0) continue;
    out.push(
      finding(PG.plaintext, {
        stage,
        subject: store.id,
        location: `${location}.${col}`,
        severity: plain > 0 && SENSITIVE.has(store.classification) ? "critical" : "high",
        message: `${store.table}.${col}: ${plain} plaintext and ${otherKey} other-key value(s) in ${values} sampled`,
        evidence: { sampledRows: rows.length, values, plaintext: plain, otherKey, expectedKey: store.key ?? null },
      }),
    );
  }
  return { findings: out, seen: { keysSeen: [...seen.values()], plaintextFiles: plainValues, sealedFiles: tokenValues, verification: "sampled-values" } };
}
