/**
 * Retention: data files and log segments older than their store's retention, by modification
 * time (the time the bytes were last written: for sealed files, when they were sealed or rewrapped).
 */
import { SENSITIVE, defineCheck, finding } from "../finding.js";
import { inventoryOf } from "../inventory.js";
import type { Answers, CheckModule, Finding } from "../types.js";

export const RETENTION = {
  expired: defineCheck({
    id: "RETENTION-EXPIRED",
    title: "Data kept past its retention",
    severity: "medium",
    question: "retention",
    description: "A file or log segment under a store is older (modification time) than the store's `retention:`. One finding per file, with its age.",
    fix: "Delete expired files (for log folders: `pipeseal logs prune`), or schedule the deletion; if the data must be kept, change the map's retention and record why.",
  }),
  unset: defineCheck({
    id: "RETENTION-UNSET",
    title: "Sensitive store without a retention",
    severity: "low",
    question: "retention",
    description: "A store classified pii, phi, financial or secret has no `retention:` in the map, so nothing says when its data must go.",
    fix: "Set `retention:` on the store (e.g. 90d) and enforce it.",
  }),
};

export const retentionChecks: CheckModule = {
  definitions: Object.values(RETENTION),
  async run(ctx) {
    const inv = await inventoryOf(ctx);
    const findings: Finding[] = [];
    const retention: Answers["retention"][number][] = [];
    const nowMs = ctx.now.getTime();
    for (const stage of ctx.map.stages) {
      for (const store of stage.stores) {
        const limit = store.retentionSeconds ?? null;
        if (limit === null && SENSITIVE.has(store.classification)) {
          findings.push(
            finding(RETENTION.unset, {
              stage: stage.id,
              subject: store.id,
              location: store.path ?? store.url ?? store.id,
              message: `${store.id} holds ${store.classification} data with no retention`,
              evidence: { classification: store.classification },
            }),
          );
        }
        const files = inv.byStore.get(store.id);
        if (!files) {
          retention.push({ store: store.id, stage: stage.id, retentionSeconds: limit, oldestSeconds: null, expiredFiles: 0 });
          continue;
        }
        let oldest: number | null = null;
        let expired = 0;
        for (const f of files) {
          const age = Math.max(0, Math.round((nowMs - f.mtimeMs) / 1000));
          oldest = Math.max(oldest ?? 0, age);
          if (limit === null || age <= limit) continue;
          expired++;
          findings.push(
            finding(RETENTION.expired, {
              stage: stage.id,
              subject: store.id,
              location: f.rel,
              message: `${f.rel} is ${Math.floor(age / 86400)} day(s) old; ${store.id} keeps data ${Math.round(limit / 86400)} day(s)`,
              evidence: { ageSeconds: age, retentionSeconds: limit, sealed: f.kind === "sealed" },
            }),
          );
        }
        retention.push({ store: store.id, stage: stage.id, retentionSeconds: limit, oldestSeconds: oldest, expiredFiles: expired });
      }
    }
    return { findings, examined: ctx.map.stages.flatMap((s) => s.stores.map((x) => x.id)), facts: { retention } };
  },
};
