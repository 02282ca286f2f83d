/**
 * A labelled synthetic audit stream (`pipeseal.audit.v1` lines, exactly as `audit export`
 * writes them) for the monitor's tests and its accuracy benchmark (bench/monitor.js bundles
 * this file). Seeded: the same options give the same stream.
 *
 * Normal use: 24/7 workloads with daily and weekly cycles and a slow growth in traffic, people
 * with working hours that vary by day, days off, a week of holiday and some late evenings; the
 * seasonal traps — a nightly ETL at 02:00, a nightly 01:00 backup that reads a whole dataset, an
 * hourly compaction at :15, a weekly Sunday 03:00 retrain and a Saturday 22:00 report; key
 * rotations, a daily audit export, rare single denials (now and then two in a row). After the
 * learning days, incidents of every detection kind are injected, in several variants each
 * (people and workloads, weekdays and weekends); each is labelled with the seqs it made.
 *
 * What it cannot show: real people are less regular (overtime, travel, new hires, role
 * changes), real workloads change with deployments, and real attackers imitate normal use.
 * Precision measured here is an upper bound of what a deployment sees.
 */
import { prng } from "../helpers/prng.js";

export type IncidentKind = "new-principal" | "volume-spike" | "off-hours" | "new-context" | "bulk-read" | "denial-burst" | "honeytoken";
export const INCIDENT_KINDS: readonly IncidentKind[] = ["new-principal", "volume-spike", "off-hours", "new-context", "bulk-read", "denial-burst", "honeytoken"];

export interface LabelledIncident {
  readonly kind: IncidentKind;
  readonly principal: string;
  readonly key: string | null;
  readonly startMs: number;
  readonly seqs: number[];
}

export interface SyntheticOptions {
  readonly seed: number;
  readonly days?: number;
  /** Days of normal use before any incident (the learning period). */
  readonly learnDays?: number;
  readonly workloads?: number;
  /** Mean requests per hour per workload at the daily peak. */
  readonly workloadRate?: number;
  readonly people?: number;
  /** Incidents of each kind, spread over the days after learning. */
  readonly incidentsPerKind?: number;
  /** Only these kinds are injected (default: all). */
  readonly kinds?: readonly IncidentKind[];
  readonly startMs?: number;
}

/** A Monday, 00:00 UTC. */
export const SYNTHETIC_START_MS = Date.parse("2026-09-28T00:00:00Z");
const H = 3_600_000;
const M = 60_000;

/** Batch principals: the seasonal traps (tests check none of their normal runs alerts). */
export const BATCH_PRINCIPALS = [
  "spiffe://prod.internal/ns/etl/sa/nightly",
  "spiffe://prod.internal/ns/train/sa/weekly-retrain",
  "spiffe://prod.internal/ns/ops/sa/nightly-backup",
  "spiffe://prod.internal/ns/ops/sa/hourly-compactor",
  "spiffe://prod.internal/ns/bi/sa/weekly-report",
];

/** The monitor.yaml honeytokens the stream's honeytoken incidents hit. */
export const SYNTHETIC_HONEYTOKENS = { keys: ["prod/canary/*"], objects: ["*/decoy-*"], contexts: { dataset: ["payroll-archive"] } };

interface Ev {
  t: number;
  principal: string;
  operation: string;
  key: string | null;
  object: string | null;
  context: Record<string, string> | null;
  outcome: "ok" | "denied" | "error";
  errorCode: string | null;
  label?: LabelledIncident;
}

interface Actor {
  principal: string;
  key: string;
  dataset: string;
  stages: string[];
  tenants: string[];
  pool: number;
}

/** Lines and labels. `lines` is lazy: a 5M-record stream is never held in memory. */
export function syntheticAudit(o: SyntheticOptions): { lines: Generator<string>; incidents: LabelledIncident[]; learnUntilMs: number } {
  const rand = prng(o.seed);
  const days = o.days ?? 30;
  const learnDays = o.learnDays ?? 14;
  const start = o.startMs ?? SYNTHETIC_START_MS;
  const nW = o.workloads ?? 12;
  const wRate = o.workloadRate ?? 60;
  const nP = o.people ?? 8;
  const perKind = o.incidentsPerKind ?? 3;
  const kinds = o.kinds ?? INCIDENT_KINDS;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (a: number, b: number) => a + Math.floor(rand() * (b - a + 1));
  const poisson = (l: number) => {
    if (l <= 0) return 0;
    if (l > 30) return Math.max(0, Math.round(l + Math.sqrt(l) * gauss()));
    let k = 0;
    for (let p = rand(), e = Math.exp(-l); p > e; p *= rand()) k++;
    return k;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

  const datasets = ["clickstream", "customers", "transactions", "support-tickets", "embeddings", "features", "images", "reviews"];
  const workloads: Actor[] = Array.from({ length: nW }, (_, i) => ({
    principal: `spiffe://prod.internal/ns/ml/sa/${pick(["inference", "feature-store", "rag-retriever", "scorer"])}-${i}`,
    key: `prod/datasets/${datasets[i % datasets.length]}`,
    dataset: datasets[i % datasets.length]!,
    stages: ["serving"],
    tenants: ["acme", "globex", "initech", "umbrella"].slice(0, 1 + (i % 4)),
    pool: int(200, 800),
  }));
  const people: (Actor & { start: number; end: number; holiday: number })[] = Array.from({ length: nP }, (_, i) => ({
    principal: `${["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"][i % 10]}${i >= 10 ? i : ""}@corp.example`,
    key: `prod/datasets/${datasets[(i * 3) % datasets.length]}`,
    dataset: datasets[(i * 3) % datasets.length]!,
    stages: ["analysis", "training"],
    tenants: ["acme"],
    pool: int(50, 150),
    start: 8 + rand() * 1.5,
    end: 16.5 + rand() * 2,
    holiday: int(0, days - 5), // first day of five in a row off
  }));
  const etl = { principal: BATCH_PRINCIPALS[0]!, key: "prod/datasets/raw-events", dataset: "raw-events" };
  const retrain = { principal: BATCH_PRINCIPALS[1]!, key: "prod/datasets/features", dataset: "features" };
  const backup = { principal: BATCH_PRINCIPALS[2]!, key: "prod/datasets/customers", dataset: "customers" };
  const compactor = { principal: BATCH_PRINCIPALS[3]!, key: "prod/datasets/clickstream", dataset: "clickstream" };
  const report = { principal: BATCH_PRINCIPALS[4]!, key: "prod/datasets/transactions", dataset: "transactions" };
  const batch = (t: number, a: { principal: string; key: string; dataset: string }, object: number, stage: string): Ev => ({
    t,
    principal: a.principal,
    operation: "decrypt",
    key: a.key,
    object: objectOf(a.dataset, object),
    context: { dataset: a.dataset, stage },
    outcome: "ok",
    errorCode: null,
  });

  // incidents: one list, each at a chosen hour after learning, built when that hour is generated
  const incidents: LabelledIncident[] = [];
  const planned = new Map<number, { kind: IncidentKind; n: number }[]>();
  let counter = 0;
  for (const kind of kinds) {
    for (let n = 0; n < perKind; n++) {
      const day = learnDays + 1 + Math.floor(((n + rand() * 0.8) / perKind) * (days - learnDays - 2));
      const weekday = (new Date(start + day * 24 * H).getUTCDay() + 6) % 7 < 5;
      // off-hours at night; the rest in working hours on weekdays (so people are around) or any hour
      // off-hours in the night or late in the evening, past any late day; the rest from 10:00 to 15:00
      const hour = kind === "off-hours" ? (n % 2 === 0 ? int(0, 4) : int(22, 23)) : int(10, 15);
      void weekday;
      const at = Math.floor((start + day * 24 * H + hour * H) / H);
      const list = planned.get(at) ?? [];
      list.push({ kind, n: counter++ });
      planned.set(at, list);
    }
  }

  const objectOf = (dataset: string, n: number) => `/data/${dataset}/part-${String(n).padStart(5, "0")}.pseal`;
  const access = (t: number, a: Actor, extra: Partial<Ev> = {}): Ev => ({
    t,
    principal: a.principal,
    operation: "decrypt",
    key: a.key,
    object: objectOf(a.dataset, int(0, a.pool - 1)),
    context: { dataset: a.dataset, stage: pick(a.stages), tenant: pick(a.tenants) },
    outcome: "ok",
    errorCode: null,
    ...extra,
  });

  function hourEvents(h: number): Ev[] {
    const t0 = h * H;
    const hod = h % 24;
    const date = new Date(t0);
    const dow = date.getUTCDay();
    const weekend = dow === 0 || dow === 6;
    const day = Math.floor((t0 - start) / (24 * H));
    const out: Ev[] = [];
    const at = () => t0 + Math.floor(rand() * H);
    const growth = 1 + 0.01 * Math.min(day, 30); // traffic grows about 1% a day for a month, then holds
    for (const w of workloads) {
      const cycle = (1 + 0.6 * Math.sin(((hod - 8) / 24) * 2 * Math.PI)) / 1.6;
      const n = poisson(wRate * cycle * growth * (weekend ? 0.7 : 1));
      for (let i = 0; i < n; i++) out.push(access(at(), w));
    }
    for (const p of people) {
      if (weekend) continue;
      const r = prng(o.seed * 7919 + day * 131 + people.indexOf(p))(); // a day off is a property of the day, not of the hour
      if (r < 0.08 || (day >= p.holiday && day < p.holiday + 5)) continue;
      const s = p.start + (prng(o.seed + day * 17 + people.indexOf(p))() - 0.5);
      // one day in ten a late evening, up to an hour past the usual end
      const late = prng(o.seed + day * 29 + people.indexOf(p))();
      const e = p.end + (prng(o.seed + day * 23 + people.indexOf(p))() - 0.5) + (late < 0.1 ? late * 10 : 0);
      const from = Math.max(hod, s);
      const to = Math.min(hod + 1, e);
      if (to <= from) continue;
      const n = poisson(12 * (to - from));
      for (let i = 0; i < n; i++) out.push(access(t0 + Math.floor((from - hod + rand() * (to - from)) * H), p));
    }
    // nightly ETL at 02:00 (± 10 min): 1,500–2,500 objects over ~25 minutes
    if (hod === 2) {
      const begin = t0 + int(-10, 10) * M;
      const n = int(1500, 2500);
      for (let i = 0; i < n; i++) {
        out.push({
          t: begin + Math.floor((i / n) * 25 * M),
          principal: etl.principal,
          operation: "decrypt",
          key: etl.key,
          object: objectOf(etl.dataset, (day * 2500 + i) % 40000),
          context: { dataset: etl.dataset, stage: "landing" },
          outcome: "ok",
          errorCode: null,
        });
      }
    }
    // weekly retrain, Sunday 03:00: 3,000–4,000 objects over ~40 minutes
    if (dow === 0 && hod === 3) {
      const begin = t0 + int(-5, 5) * M;
      const n = int(3000, 4000);
      for (let i = 0; i < n; i++) {
        out.push({
          t: begin + Math.floor((i / n) * 40 * M),
          principal: retrain.principal,
          operation: "unwrap",
          key: retrain.key,
          object: objectOf(retrain.dataset, i),
          context: { dataset: retrain.dataset, stage: "training" },
          outcome: "ok",
          errorCode: null,
        });
      }
    }
    // nightly backup at 01:00: every object of a dataset, all distinct, in ~30 minutes
    if (hod === 1) {
      const begin = t0 + int(0, 5) * M;
      for (let i = 0; i < 3000; i++) out.push(batch(begin + Math.floor((i / 3000) * 30 * M), backup, i, "backup"));
    }
    // hourly compaction at :15, around the clock: 30–60 objects in a few minutes
    {
      const begin = t0 + 15 * M + int(-2, 2) * M;
      const n = int(30, 60);
      for (let i = 0; i < n; i++) out.push(batch(begin + i * 3000, compactor, (h * 60 + i) % 5000, "processing"));
    }
    // weekly report, Saturday 22:00: 800–1,200 objects over ~20 minutes
    if (dow === 6 && hod === 22) {
      const begin = t0 + int(0, 10) * M;
      const n = int(800, 1200);
      for (let i = 0; i < n; i++) out.push(batch(begin + Math.floor((i / n) * 20 * M), report, i, "reporting"));
    }
    // daily audit export at 06:00; key rotations on some weekday mornings; rare single denials
    if (hod === 6)
      out.push({
        t: t0 + int(0, 5) * M,
        principal: "auditor@corp.example",
        operation: "audit.export",
        key: null,
        object: null,
        context: null,
        outcome: "ok",
        errorCode: null,
      });
    if (!weekend && hod === 10 && (dow === 1 || rand() < 0.15))
      out.push({
        t: at(),
        principal: "keyadmin@corp.example",
        operation: "key.rotate",
        key: pick(workloads).key,
        object: null,
        context: null,
        outcome: "ok",
        errorCode: null,
      });
    if (rand() < 0.05) {
      const a = pick(workloads);
      const when = at();
      const denial = { outcome: "denied" as const, errorCode: pick(["KEY_BELOW_MIN_VERSION", "ACCESS_DENIED", "KEY_DISABLED"]) };
      out.push(access(when, a, denial));
      if (rand() < 0.3) out.push(access(when + int(1, 60) * 1000, a, denial)); // a retry
    }
    for (const inc of planned.get(h) ?? []) out.push(...inject(inc.kind, inc.n, t0 + int(5, 40) * M));
    return out.sort((a, b) => a.t - b.t);
  }

  function inject(kind: IncidentKind, n: number, t: number): Ev[] {
    const p = people[n % people.length]!;
    const w = workloads[n % workloads.length]!;
    const label: LabelledIncident = { kind, principal: "", key: null, startMs: t, seqs: [] };
    const evs: Ev[] = [];
    const set = (principal: string, key: string | null) => Object.assign(label, { principal, key });
    switch (kind) {
      case "new-principal": {
        if (n % 2 === 0) {
          const who = `spiffe://prod.internal/ns/unknown/sa/intruder-${n}`;
          set(who, w.key);
          for (let i = 0; i < int(5, 30); i++) evs.push(access(t + i * 20_000, { ...w, principal: who }));
        } else {
          // a known person on a key they never used
          const other = workloads[(n + 3) % workloads.length]!;
          const key = other.key === p.key ? "prod/datasets/finance" : other.key;
          set(p.principal, key);
          for (let i = 0; i < int(3, 10); i++) evs.push(access(t + i * 30_000, { ...other, principal: p.principal, key }));
        }
        break;
      }
      case "volume-spike": {
        // a workload (or a person's script) hammering its own key: far above its hour's baseline, over the same few objects (no enumeration)
        const a = n % 2 === 0 ? w : p;
        set(a.principal, a.key);
        const extra = a === w ? Math.round(wRate * 8) + 300 : int(300, 500);
        for (let i = 0; i < extra; i++) evs.push(access(t + Math.floor((i / extra) * 15 * M), { ...a, pool: 20 }));
        break;
      }
      case "off-hours": {
        set(p.principal, null);
        for (let i = 0; i < int(5, 15); i++) evs.push(access(t + i * 60_000, p));
        break;
      }
      case "new-context": {
        // a person reading a dataset they never read, or a workload serving a tenant it never served
        if (n % 2 === 0) {
          set(p.principal, p.key);
          for (let i = 0; i < int(1, 4); i++)
            evs.push(access(t + i * 45_000, p, { context: { dataset: "hr-salaries", stage: pick(p.stages), tenant: "acme" } }));
        } else {
          set(w.principal, w.key);
          for (let i = 0; i < int(2, 6); i++) evs.push(access(t + i * 30_000, w, { context: { dataset: w.dataset, stage: "serving", tenant: "hooli" } }));
        }
        break;
      }
      case "bulk-read": {
        // a person exporting a few hundred objects, or a workload enumerating thousands
        const a = n % 2 === 0 ? p : w;
        set(a.principal, a.key);
        const count = a === p ? int(300, 600) : int(1500, 2500);
        for (let i = 0; i < count; i++) evs.push(access(t + Math.floor((i / count) * 8 * M), a, { object: objectOf(a.dataset, 50_000 + n * 3000 + i) }));
        break;
      }
      case "denial-burst": {
        // a workload with a revoked grant retrying, or a person probing keys they may not use
        const a = n % 2 === 0 ? w : p;
        set(a.principal, null);
        const count = a === w ? int(20, 40) : int(12, 20);
        for (let i = 0; i < count; i++) evs.push(access(t + Math.floor((i / count) * 4 * M), a, { outcome: "denied", errorCode: "ACCESS_DENIED" }));
        break;
      }
      case "honeytoken": {
        const how = n % 3;
        set(p.principal, how === 0 ? "prod/canary/customers" : p.key);
        if (how === 0) evs.push(access(t, p, { key: "prod/canary/customers", object: "/data/canary/customers.csv.pseal" }));
        else if (how === 1) evs.push(access(t, p, { object: `/data/${p.dataset}/decoy-${String(n).padStart(4, "0")}.csv.pseal` }));
        else evs.push(access(t, p, { context: { dataset: "payroll-archive", stage: "analysis", tenant: "acme" } }));
        break;
      }
    }
    incidents.push(label);
    for (const e of evs) e.label = label;
    return evs;
  }

  function* lines(): Generator<string> {
    let seq = 0;
    const first = Math.floor(start / H);
    for (let h = first; h < first + days * 24; h++) {
      for (const e of hourEvents(h)) {
        seq++;
        e.label?.seqs.push(seq);
        yield JSON.stringify({
          schema: "pipeseal.audit.v1",
          seq,
          time: new Date(e.t).toISOString(),
          principal: e.principal,
          operation: e.operation,
          key: e.key,
          version: e.key === null ? null : 1,
          outcome: e.outcome,
          errorCode: e.errorCode,
          rule: null,
          object: e.object,
          headerHash: null,
          context: e.context,
          chainHash: "0".repeat(64),
        });
      }
    }
  }

  return { lines: lines(), incidents, learnUntilMs: start + learnDays * 24 * H };
}
