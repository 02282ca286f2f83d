/**
 * Stage 3, processing: each sealed landing batch is opened in memory (an audited unwrap), its
 * records protected field by field under a fields policy — cards tokenized with FF1 (last 4
 * kept), e-mails deterministically encrypted (joins still work), free text redacted — and
 * the protected records kept sealed as the intermediate dataset. No plaintext temporary is
 * ever written: every buffer lives in this process and is zeroed after use.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { openBuffer } from "../envelope/buffer.js";
import { FieldProtector, parseFieldPolicy } from "../fields/index.js";
import { Redactor } from "../redact/index.js";
import { type Demo, check } from "./context.js";
import { type CustomerEvent, MARKERS } from "./data.js";
import { KEYS } from "./keys.js";
import { sealTo } from "./seal-to.js";

export const FIELDS_POLICY = `version: 1
namespace: customers
key: ${KEYS.fieldsPii}
recordId: id
rules:
  - { field: email, action: deterministic }
  - { field: card, action: tokenize, key: ${KEYS.fieldsTok}, keepLast: 4 }
`;

/** A processed record: protected identifiers, redacted text, the numeric features and the label. */
export type ProtectedEvent = Omit<CustomerEvent, "email" | "card"> & { readonly email: string; readonly card: string };

export async function processStage(d: Demo): Promise<void> {
  const policy = parseFieldPolicy(FIELDS_POLICY, "fields.yaml");
  const etl = await d.data("etl"); // the processing job's identity: its unwraps are audited as its own
  // field keys come from the keystore even with --service: the key service never releases KEK-derived keys
  const protector = new FieldProtector(policy, await d.as("etl"), "apply", { flat: false, object: { operation: "field-apply", path: "demo/processing" } });
  await protector.prepare();
  const redactor = new Redactor();
  const files = readdirSync(d.dir.landing)
    .filter((f) => f.endsWith(".pseal"))
    .sort();
  const out: ProtectedEvent[] = [];
  for (const [i, f] of files.entries()) {
    const file = path.join(d.dir.landing, f);
    const plain = await openBuffer(etl, readFileSync(file), { path: file });
    const lines = plain
      .toString("utf8")
      .split("\n")
      .filter((l) => l !== "");
    plain.fill(0);
    for (const line of lines) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      rec.text = redactor.redactText(String(rec.text));
      out.push((await protector.process(rec, out.length + 1)) as ProtectedEvent);
    }
    d.progress(i + 1, files.length, "landing batches processed");
  }
  const marked = out.find((r) => r.id === "c00007");
  check(marked && marked.email.startsWith("pse1:") && !marked.email.includes(MARKERS.email), "processing: e-mails must be deterministically encrypted");
  check(
    marked.card !== MARKERS.card && marked.card.endsWith(MARKERS.card.slice(-4)) && /^\d{16}$/.test(marked.card),
    "processing: cards must be FF1 tokens keeping the last 4 digits",
  );
  check(!marked.text.includes("@example.com") && marked.text.includes("[EMAIL]"), "processing: e-mails in free text must be redacted");
  const same = out.filter((r) => r.email === marked.email);
  check(same.length === 1, "processing: deterministic encryption must map one e-mail to one value");

  const intermediate = path.join(d.dir.features, "events.protected.jsonl.pseal");
  const body = Buffer.from(out.map((r) => JSON.stringify(r)).join("\n") + "\n");
  await sealTo(etl, intermediate, body, KEYS.features, { stage: "processing", dataset: "events-protected" });
  body.fill(0);
  d.facts.processed = out;
  const s = protector.stats;
  d.say(
    `${files.length} landing batches opened in memory (audited), ${out.length} records: cards → FF1 tokens (${KEYS.fieldsTok}, last 4 kept), e-mails → deterministic (${KEYS.fieldsPii}), free text redacted`,
  );
  d.say(
    `intermediate dataset sealed: stores/features/events.protected.jsonl.pseal (${KEYS.features}); ${Object.values(s.values).reduce((a, b) => a + b, 0)} field values protected, no plaintext temporary`,
  );
  d.row({
    stage: "processing",
    atRest: `sealed intermediates (${KEYS.features})`,
    inTransit: "in process (no hop)",
    inUse: "FF1 / deterministic / redaction; buffers zeroed",
  });
}
