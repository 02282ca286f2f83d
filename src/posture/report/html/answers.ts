/** The four review questions answered in plain words from `report.answers`, each row linking to the findings behind it. */
import type { Answers, Finding, PostureReport, Question } from "../../types.js";
import { severityClass } from "./findings.js";
import { duration, esc, plural, stageTitle } from "./text.js";

const MAX_ROWS = 50;
const MAX_LINKS = 10;

export const QUESTIONS: readonly { id: Question; title: string }[] = [
  { id: "keys", title: "Which keys protect each dataset, feature store, model artifact and log index?" },
  { id: "access", title: "Who can decrypt, and what is logged when they do?" },
  { id: "plaintext", title: "Where does plaintext exist, and for how long?" },
  { id: "retention", title: "What is retained, and for how long?" },
];

const PLAINTEXT_KIND: Readonly<Record<Answers["plaintext"][number]["kind"], string>> = {
  "plaintext-file": "plaintext file",
  "decrypted-output": "decrypted output left on disk",
  "temp-file": "temp file left by an interrupted write",
  "unencrypted-store": "store the map declares unencrypted",
  "plaintext-connection": "connection carrying data in plaintext",
  leak: "secret or personal data found in the file",
};

interface Ctx {
  readonly report: PostureReport;
  readonly anchors: ReadonlyMap<Finding, string>;
  readonly byQuestion: ReadonlyMap<Question, readonly Finding[]>;
}

function links(ctx: Ctx, q: Question, match: (f: Finding) => boolean): string {
  const hits = (ctx.byQuestion.get(q) ?? []).filter(match);
  if (hits.length === 0) return "";
  const shown = hits.slice(0, MAX_LINKS).map((f) => `<a href="#${ctx.anchors.get(f)}" class="ev sev-${severityClass(f.severity)}">${esc(f.checkId)}</a>`);
  return ` <span class="evlinks">Evidence: ${shown.join(", ")}${hits.length > MAX_LINKS ? ` and ${hits.length - MAX_LINKS} more` : ""}</span>`;
}

function list(rows: readonly string[], empty: string): string {
  if (rows.length === 0) return `<p>${esc(empty)}</p>`;
  const more = rows.length > MAX_ROWS ? `<li class="muted">and ${rows.length - MAX_ROWS} more (see the JSON report)</li>` : "";
  return `<ul>${rows
    .slice(0, MAX_ROWS)
    .map((r) => `<li>${r}</li>`)
    .join("")}${more}</ul>`;
}

function keysAnswer(ctx: Ctx): string {
  const rows = ctx.report.answers.keys.map((k) => {
    const seen = k.keysSeen.map((s) => `${s.key} v${s.version} (${plural(s.files, k.verification === "sampled-values" ? "value" : "file")})`).join(", ");
    // a key named under the expected one (logs/inference/payload under logs/inference) is the map's key family
    const expected = k.expectedKey;
    const other = expected !== null && k.keysSeen.some((s) => s.key !== expected && !s.key.startsWith(`${expected}/`));
    const unit = k.verification === "sampled-values" ? "value" : "file";
    if (k.verification === "unverified") {
      const claim = expected === null ? "the map declares it unencrypted" : `the map says it is sealed under <code>${esc(expected)}</code>`;
      return (
        `<strong>${esc(k.store)}</strong> (${esc(stageTitle(k.stage))}): ${claim}; <em>not verified</em> (posture could not list or read it).` +
        links(ctx, "keys", (f) => f.subject === k.store)
      );
    }
    const verdict =
      expected === null
        ? "the map declares it unencrypted"
        : k.plaintextFiles > 0
          ? `not fully protected: plaintext ${unit}s are present`
          : other
            ? "sealed, but partly under keys the map does not name"
            : "protected as the map says";
    const text =
      `<strong>${esc(k.store)}</strong> (${esc(stageTitle(k.stage))}): ${esc(verdict)}. ` +
      `Expected key: ${k.expectedKey === null ? "none" : `<code>${esc(k.expectedKey)}</code>`}; ` +
      (k.verification === "sampled-values"
        ? `${esc(plural(k.sealedFiles, "field token"))} in the sampled rows${seen ? ` under ${esc(seen)}` : ""}; ${esc(plural(k.plaintextFiles, "plaintext value"))}.`
        : `${esc(plural(k.sealedFiles, "sealed file"))}${seen ? ` under ${esc(seen)}` : ""}; ${esc(plural(k.plaintextFiles, "plaintext file"))}.`);
    return text + links(ctx, "keys", (f) => f.subject === k.store);
  });
  return list(rows, "No stores were examined.");
}

function accessAnswer(ctx: Ctx): string {
  const rows = ctx.report.answers.access.map((a) => {
    const observed = a.principals.map((p) => `<code>${esc(p)}</code>`).join(", ");
    // a local keystore has no access policy: whoever holds its root and its database can decrypt
    const who =
      a.source === "keystore"
        ? "can be decrypted by anyone who holds the local keystore's root key (master.key, its passphrase, or the HSM key and PIN) together with its database; there is no access policy"
        : `can be decrypted by ${observed || "nobody"} (from the key service's policy)`;
    const audit =
      a.auditVerified === true
        ? "the audit chain verifies"
        : a.auditVerified === false
          ? "the audit chain does NOT verify"
          : "the audit chain was not verified";
    const volumes = Object.entries(a.decryptsByPrincipal)
      .sort((x, y) => y[1] - x[1])
      .map(([p, n]) => `<code>${esc(p)}</code> ${n}`)
      .join(", ");
    const asserted = a.source === "keystore" && volumes ? "; local principal names are asserted (OS user or PIPESEAL_PRINCIPAL), not authenticated" : "";
    return (
      `<strong>${esc(a.key)}</strong>: ${who}. ` +
      `${esc(plural(a.decrypts, "decrypt"))}${volumes ? ` (${volumes})` : ""} and ${esc(plural(a.denied, "denied attempt"))} logged in the period${asserted}; ${esc(audit)}.` +
      (a.openAlerts && a.openAlerts.length
        ? ` Open monitor alerts: ${a.openAlerts.map((o) => `<code>${esc(o.id)}</code> ${esc(o.severity)} ${esc(o.detection)} by <code>${esc(o.principal)}</code>`).join(", ")}.`
        : "") +
      links(ctx, "access", (f) => f.subject === a.key)
    );
  });
  return list(rows, "No keys were examined.");
}

function plaintextAnswer(ctx: Ctx): string {
  const rows = ctx.report.answers.plaintext.map((p) => {
    const age = p.ageSeconds === null ? "for an unknown time" : `for ${duration(p.ageSeconds)}`;
    const what = p.detail ?? PLAINTEXT_KIND[p.kind] ?? p.kind;
    return (
      `<code class="location">${esc(p.location)}</code> (${esc(stageTitle(p.stage))}): ${esc(what)}${p.kind === "leak" ? "" : `, ${esc(age)}`}.` +
      links(ctx, "plaintext", (f) => f.location === p.location)
    );
  });
  return list(rows, "No plaintext was found where pipeseal can see it.");
}

function retentionAnswer(ctx: Ctx): string {
  const rows = ctx.report.answers.retention.map((r) => {
    const kept = r.retentionSeconds === null ? "kept indefinitely (the map sets no retention)" : `kept for ${duration(r.retentionSeconds)}`;
    const oldest = r.oldestSeconds === null ? "age of the oldest data unknown" : `oldest data ${duration(r.oldestSeconds)} old`;
    const expired = r.expiredFiles > 0 ? `${plural(r.expiredFiles, "file")} past retention` : "nothing past retention";
    return (
      `<strong>${esc(r.store)}</strong> (${esc(stageTitle(r.stage))}): ${esc(kept)}; ${esc(oldest)}; ${esc(expired)}.` +
      links(ctx, "retention", (f) => f.subject === r.store)
    );
  });
  return list(rows, "No retention was examined.");
}

const ANSWER: Readonly<Record<Question, (ctx: Ctx) => string>> = {
  keys: keysAnswer,
  access: accessAnswer,
  plaintext: plaintextAnswer,
  retention: retentionAnswer,
};

export function renderAnswers(report: PostureReport, anchors: ReadonlyMap<Finding, string>): string {
  const questionOf = new Map(report.checks.map((c) => [c.id, c.question]));
  const byQuestion = new Map<Question, Finding[]>();
  for (const f of report.findings) {
    const q = questionOf.get(f.checkId);
    if (q) byQuestion.set(q, [...(byQuestion.get(q) ?? []), f]);
  }
  const ctx: Ctx = { report, anchors, byQuestion };
  const parts = QUESTIONS.map(({ id, title }, i) => {
    const all = byQuestion.get(id) ?? [];
    const summary =
      all.length === 0 ? "No findings bear on this question." : `${plural(all.length, "finding")} ${all.length === 1 ? "bears" : "bear"} on this question.`;
    return (
      `<section class="answer" id="q-${id}"><h3>${i + 1}. ${esc(title)}</h3>${ANSWER[id](ctx)}` +
      `<p class="qsum">${esc(summary)}${links(ctx, id, () => true)}</p></section>`
    );
  });
  return `<section id="answers"><h2>The four questions</h2>${parts.join("")}</section>`;
}
