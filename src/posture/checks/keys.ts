/**
 * Keys: the keys the map names exist and are rotated on time; who can decrypt each (keystore
 * audit, or the key service's active policy); separation of duties in the policy; the audit
 * chain verifies; decrypt volumes per key and principal over the last 30 days.
 */
import type { KeyInfo } from "../../keys/key-info.js";
import { defineCheck, finding } from "../finding.js";
import { auditOf, isDeniedPlaintextAttempt, keyInfosOf, PLAINTEXT_OPERATIONS } from "../keys/read.js";
import { dutyConflicts, parsePolicy, whoCanDecrypt } from "../keys/policy.js";
import type { Answers, CheckModule, Finding, PipelineMap } from "../types.js";

/** The period decrypt volumes are counted over. */
export const ACCESS_PERIOD_SECONDS = 30 * 86400;

export const KEYS = {
  missing: defineCheck({
    id: "KEYS-MISSING",
    title: "A key the map names does not exist",
    severity: "high",
    question: "keys",
    description: "The map says a store is protected by a key that the keystore (or key service) does not have: nothing can be sealed or opened under it there.",
    fix: "Create the key (`pipeseal key create NAME --rotate-every 90d`) or correct `key:` in the map.",
  }),
  rotationDue: defineCheck({
    id: "KEYS-ROTATION-DUE",
    title: "Key past its rotation period",
    severity: "medium",
    question: "keys",
    description:
      "The key's primary version is older than its rotation period (`rotationStatus` from the keystore): new data keeps being wrapped under an overdue version.",
    fix: "`pipeseal key rotate NAME`, then `pipeseal rewrap` the files under older versions.",
  }),
  noRotation: defineCheck({
    id: "KEYS-NO-ROTATION",
    title: "Key without a rotation period",
    severity: "low",
    question: "keys",
    description: "A key the map uses has no rotation period, so nothing says when it is due.",
    fix: "Recreate or configure the key with a rotation period (`--rotate-every 90d`) and rotate it on schedule.",
  }),
  audit: defineCheck({
    id: "KEYS-AUDIT-BROKEN",
    title: "The audit chain does not verify",
    severity: "critical",
    question: "access",
    description:
      "The keyed hash chain over the audit records (verifyAudit) found records modified, deleted, inserted, reordered or truncated: the record of who decrypted what cannot be trusted.",
    fix: "Investigate as an incident: compare with an anchored audit head and any forwarded copy (SIEM); do not repair the chain in place.",
  }),
  sod: defineCheck({
    id: "KEYS-SOD",
    title: "Separation of duties broken in the policy",
    severity: "high",
    question: "access",
    description:
      "In the key service's active policy, one subject (group or identity pattern) is bound to roles that manage keys or policy and to roles that use keys (or manages both keys and policy). The service's built-in invariants still refuse plaintext to a key admin per request, but one compromised identity then holds both duties.",
    fix: "Split the duties across different identities: bind key-admin, policy-admin and workload roles to disjoint groups.",
  }),
  unverified: defineCheck({
    id: "KEYS-UNVERIFIED",
    title: "Keys not verified",
    severity: "info",
    question: "keys",
    description: "No keystore or key service could be opened for the map, so key existence, rotation, versions, access and the audit chain were not checked.",
    fix: "Set `keys.home` (a local keystore) or `keys.server` and `keys.certDir` in the map, or pass `--home`.",
  }),
};

/** Key name → the store ids that name it (log stores: their class keys when present). */
export function mapKeys(map: PipelineMap, known: ReadonlyMap<string, KeyInfo> | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (k: string, store: string) => out.set(k, [...(out.get(k) ?? []), store]);
  for (const stage of map.stages) {
    for (const s of stage.stores) {
      if (!s.key) continue;
      const classes = s.kind === "logs" ? [`${s.key}/payload`, `${s.key}/metadata`].filter((k) => known?.has(k)) : [];
      for (const k of classes.length ? classes : [s.key]) add(k, s.id);
    }
  }
  return out;
}

export const keysChecks: CheckModule = {
  definitions: Object.values(KEYS),
  async run(ctx) {
    if (!ctx.keys) {
      return {
        findings: [
          finding(KEYS.unverified, {
            stage: null,
            subject: "keys",
            location: "keys",
            message: "no keystore or key service configured: keys, access and audit were not verified",
          }),
        ],
        examined: [],
      };
    }
    const source = ctx.keys;
    const infos = (await keyInfosOf(ctx))!;
    const records = (await auditOf(ctx))!;
    const used = mapKeys(ctx.map, infos);
    const findings: Finding[] = [];
    const nowMs = ctx.now.getTime();
    for (const [name, stores] of used) {
      const base = { stage: null, subject: name, location: name };
      const info = infos.get(name);
      if (!info) {
        findings.push(
          finding(KEYS.missing, {
            ...base,
            message: `key ${name} (named by ${stores.join(", ")}) does not exist in ${source.location}`,
            evidence: { stores: stores.join(", ") },
          }),
        );
        continue;
      }
      if (info.rotateEverySeconds === null) {
        findings.push(finding(KEYS.noRotation, { ...base, message: `key ${name} has no rotation period`, evidence: { stores: stores.join(", ") } }));
      } else if (info.dueAt !== null && nowMs >= info.dueAt) {
        const overdue = Math.round((nowMs - info.dueAt) / 1000);
        findings.push(
          finding(KEYS.rotationDue, {
            ...base,
            message: `key ${name} v${info.primaryVersion} was due for rotation ${Math.ceil(overdue / 86400)} day(s) ago`,
            evidence: {
              primaryVersion: info.primaryVersion,
              rotateEverySeconds: info.rotateEverySeconds,
              dueAt: new Date(info.dueAt).toISOString(),
              overdueSeconds: overdue,
            },
          }),
        );
      }
    }
    const verify = await source.verifyAudit();
    if (!verify.ok) {
      const first = verify.problems[0];
      findings.push(
        finding(KEYS.audit, {
          stage: null,
          subject: "audit",
          location: source.location,
          message: `the audit chain does not verify: ${verify.problems.length} problem(s)${first ? `, first at seq ${first.seq} (${first.kind})` : ""}`,
          evidence: { records: verify.records, problems: verify.problems.length },
        }),
      );
    }
    const policyText = await source.activePolicy();
    const policy = policyText ? parsePolicy(policyText) : null;
    for (const c of policy ? dutyConflicts(policy) : []) {
      findings.push(
        finding(KEYS.sod, {
          stage: null,
          subject: c.subject,
          location: `policy:${c.duties.join("+")}`,
          message: `${c.subject} holds ${c.duties[0]} and ${c.duties[1]} duties (roles ${c.roles.join(", ")}; binding on policy line ${c.line})`,
          evidence: { roles: c.roles.join(", "), line: c.line },
        }),
      );
    }
    const since = nowMs - ACCESS_PERIOD_SECONDS * 1000;
    const alerts = source.openAlerts ? await source.openAlerts() : null;
    const access: Answers["access"][number][] = [...used.keys()].sort().map((key) => {
      const inPeriod = records.filter((r) => r.keyName === key && Date.parse(r.time) >= since);
      // releases are the operations' own `ok` records (an old service's `authz.* ok` decision is never counted twice)
      const recent = inPeriod.filter((r) => PLAINTEXT_OPERATIONS.has(r.operation));
      const observed = [...new Set(recent.filter((r) => r.outcome === "ok").map((r) => r.principal))].sort();
      return {
        key,
        principals: policy ? whoCanDecrypt(policy, key) : observed,
        source: policy ? "policy" : "keystore",
        decrypts: recent.filter((r) => r.outcome === "ok").length,
        denied: inPeriod.filter(isDeniedPlaintextAttempt).length,
        decryptsByPrincipal: countBy(
          recent.filter((r) => r.outcome === "ok"),
          (r) => r.principal,
        ),
        auditVerified: verify.ok,
        ...(alerts ? { openAlerts: alerts.get(key) ?? [] } : {}),
      };
    });
    return { findings, examined: [...used.keys(), "audit"], facts: { access } };
  },
};

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}
