/**
 * monitor.yaml → MonitorConfig: thresholds with sane defaults, honeytokens, suppressions,
 * state and sinks. One strict reader (unknown keys are errors, every error names its line);
 * docs/monitor.md is the schema.
 *
 * @example const config = parseMonitorConfig(readFileSync("monitor.yaml", "utf8"), "monitor.yaml", process.cwd());
 */
import path from "node:path";
import { LineCounter, type Node, isMap, isScalar, parseDocument } from "yaml";
import { yamlSyntaxError } from "../io/yaml.js";
import { KEY_NAME_PATTERN } from "../keys/names.js";
import { ConfigReader } from "./config-reader.js";
import { MonitorError } from "./errors.js";
import { DETECTIONS, SEVERITIES, type DetectionId, type Severity } from "./types.js";

export interface Suppression {
  readonly principal?: string;
  readonly key?: string;
  readonly detection?: DetectionId;
  readonly fromMs?: number;
  readonly untilMs?: number;
  /** Daily UTC hours [start, end): `22-06` spans midnight. */
  readonly hours?: readonly [number, number];
  readonly reason: string;
  /** 1-based position in the config, for the audit record of what it silenced. */
  readonly index: number;
}

/** Every sink has a rate limit (`perMinute` sends, default 60; critical alerts skip it). */
export type SinkConfig = { readonly perMinute: number } & (
  | { readonly kind: "stdout" }
  | { readonly kind: "file"; readonly path: string }
  | {
      readonly kind: "webhook";
      readonly url: string;
      readonly certDir: string;
      readonly queueFile: string;
      readonly queueMax: number;
      readonly expect: readonly string[];
    }
  | { readonly kind: "syslog"; readonly host: string; readonly port: number; readonly protocol: "udp" | "tcp"; readonly appName: string }
);

export interface MonitorConfig {
  readonly learnDays: number;
  /** Incident dedupe window (s): one growing alert per principal × key × detection while records keep coming within it. */
  readonly dedupeSeconds: number;
  readonly severity: Readonly<Record<DetectionId, Severity>>;
  readonly enabled: Readonly<Record<DetectionId, boolean>>;
  readonly volume: { readonly factor: number; readonly minCount: number };
  readonly offHours: { readonly minActiveDays: number; readonly maxActiveShare: number };
  readonly newContext: { readonly maxValues: number; readonly ignore: readonly string[] };
  readonly bulkRead: { readonly windowSeconds: number; readonly factor: number; readonly minObjects: number };
  readonly denialBurst: { readonly windowSeconds: number; readonly count: number };
  readonly honeytokens: {
    readonly keys: readonly string[];
    readonly objects: readonly string[];
    readonly contexts: Readonly<Record<string, readonly string[]>>;
  };
  readonly suppressions: readonly Suppression[];
  readonly maxSeqs: number;
  readonly state: { readonly file: string; readonly key: string };
  readonly sinks: readonly SinkConfig[];
  /** `monitor run` writes a signed audit anchor this often (s) into `dir`; null: no anchors. */
  readonly anchors: { readonly everySeconds: number; readonly dir: string } | null;
  readonly pollMs: number;
  /** Per sink and alert: updates of a growing alert are sent at most this often (s). */
  readonly updateEverySeconds: number;
}

const DEFAULT_SEVERITY: Record<DetectionId, Severity> = {
  "new-principal": "high",
  "volume-spike": "medium",
  "off-hours": "medium",
  "new-context": "medium",
  "bulk-read": "high",
  "denial-burst": "medium",
  honeytoken: "critical",
};

/** Every default, so a missing monitor.yaml section means these. */
export function defaultMonitorConfig(baseDir = process.cwd()): MonitorConfig {
  return {
    learnDays: 14,
    dedupeSeconds: 3600,
    severity: DEFAULT_SEVERITY,
    enabled: Object.fromEntries(DETECTIONS.map((d) => [d, true])) as Record<DetectionId, boolean>,
    volume: { factor: 4, minCount: 50 },
    offHours: { minActiveDays: 5, maxActiveShare: 0.75 },
    newContext: { maxValues: 256, ignore: [] },
    bulkRead: { windowSeconds: 600, factor: 5, minObjects: 100 },
    denialBurst: { windowSeconds: 300, count: 10 },
    honeytokens: { keys: [], objects: [], contexts: {} },
    suppressions: [],
    maxSeqs: 100_000,
    state: { file: path.resolve(baseDir, "monitor.state.pseal"), key: "monitor/state" },
    sinks: [{ kind: "stdout", perMinute: DEFAULT_PER_MINUTE }],
    anchors: null,
    pollMs: 250,
    updateEverySeconds: 60,
  };
}

const TOP = ["version", "learn", "dedupe", "detections", "honeytokens", "suppressions", "limits", "state", "sinks", "anchors", "poll"];
const DEFAULT_PER_MINUTE = 60;
const CONTEXT_KEY = /^[A-Za-z0-9_.:@-]{1,128}$/;

/**
 * @param baseDir relative paths (state file, file sinks, queues, cert folders) resolve against it.
 * @throws MonitorError(MONITOR_CONFIG_INVALID) "FILE:LINE: …" for the first problem ("FILE:LINE:COL: YAML: …" for a syntax error).
 */
export function parseMonitorConfig(text: string, file = "monitor.yaml", baseDir = process.cwd()): MonitorConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) throw new MonitorError("MONITOR_CONFIG_INVALID", yamlSyntaxError(doc.errors[0], lc, file));
  const d = defaultMonitorConfig(baseDir);
  const r = new ConfigReader(file, lc);
  const resolve = (p: string) => path.resolve(baseDir, p);
  if (doc.contents === null) return d;
  const root = r.map(doc.contents, "top-level", TOP);
  const version = r.get(root, "version");
  if (version !== undefined && !(isScalar(version) && version.value === 1)) r.fail(version, "version must be 1");

  const learn = r.map(r.get(root, "learn"), "learn", ["days"]);
  const dets = r.map(r.get(root, "detections"), "detections", DETECTIONS);
  const severity = { ...d.severity };
  const enabled = { ...d.enabled };
  const det = (id: DetectionId, extra: readonly string[]) => {
    const m = r.map(r.get(dets, id), `detections.${id}`, ["enabled", "severity", ...extra]);
    const sev = r.oneOf(m, "severity", `detections.${id}.severity`, SEVERITIES);
    if (sev !== undefined) {
      if (id === "honeytoken" && sev !== "critical") r.fail(r.get(m, "severity"), "a honeytoken alert is always critical");
      severity[id] = sev;
    }
    const on = r.bool(m, "enabled", `detections.${id}.enabled`);
    if (on !== undefined) {
      if (id === "honeytoken" && !on) r.fail(r.get(m, "enabled"), "the honeytoken detection cannot be turned off (remove the honeytokens instead)");
      enabled[id] = on;
    }
    return m;
  };
  det("new-principal", []);
  const vol = det("volume-spike", ["factor", "minCount"]);
  const off = det("off-hours", ["minActiveDays", "maxActiveShare"]);
  const ctx = det("new-context", ["maxValues", "ignore"]);
  const bulk = det("bulk-read", ["window", "factor", "minObjects"]);
  const den = det("denial-burst", ["window", "count"]);
  det("honeytoken", []);

  const ht = r.map(r.get(root, "honeytokens"), "honeytokens", ["keys", "objects", "contexts"]);
  const contexts: Record<string, string[]> = {};
  const rawCtx = r.get(ht, "contexts");
  if (rawCtx !== undefined) {
    if (!isMap(rawCtx)) return r.fail(rawCtx, "honeytokens.contexts must map a context key to a list of values");
    for (const item of rawCtx.items) {
      const raw = isScalar(item.key) ? item.key.value : undefined;
      const k = typeof raw === "string" && CONTEXT_KEY.test(raw) ? raw : r.fail(item.key, "a honeytokens.contexts key must be a context key");
      contexts[k] = r.seq(item.value as Node, `honeytokens.contexts.${k}`).map((n) => {
        const v = isScalar(n) ? n.value : undefined;
        if (typeof v !== "string" && typeof v !== "number") return r.fail(n, `honeytokens.contexts.${k} values must be strings`);
        return String(v);
      });
    }
  }

  const suppressions = r.seq(r.get(root, "suppressions"), "suppressions").map((n, i): Suppression => {
    const m = r.map(n, "suppression", ["principal", "key", "detection", "from", "until", "hours", "reason"])!;
    const detection = r.oneOf(m, "detection", "suppression detection", DETECTIONS);
    if (detection === "honeytoken") r.fail(r.get(m, "detection"), "a honeytoken alert cannot be suppressed (it is never normal)");
    const reason =
      r.str(m, "reason", "suppression reason") ?? r.fail(m, "a suppression needs a reason (it is recorded in the audit each time it silences an alert)");
    const hoursText = r.str(m, "hours", "suppression hours", /^([01]?\d|2[0-3])-([01]?\d|2[0-4])$/);
    const hours = hoursText ? (hoursText.split("-").map(Number) as [number, number]) : undefined;
    const s = {
      ...opt("principal", r.str(m, "principal", "suppression principal")),
      ...opt("key", r.str(m, "key", "suppression key")),
      ...opt("detection", detection),
      ...opt("fromMs", r.time(m, "from", "suppression from")),
      ...opt("untilMs", r.time(m, "until", "suppression until")),
      ...opt("hours", hours),
      reason,
      index: i + 1,
    };
    if (s.principal === undefined && s.key === undefined && s.detection === undefined)
      r.fail(m, "a suppression names at least a principal, a key or a detection");
    return s;
  });

  const limits = r.map(r.get(root, "limits"), "limits", ["maxSeqs"]);
  const state = r.map(r.get(root, "state"), "state", ["file", "key"]);
  const stateFile = r.str(state, "file", "state.file");
  const sinksNode = r.get(root, "sinks");
  const sinks = sinksNode === undefined ? d.sinks : r.seq(sinksNode, "sinks").map((n): SinkConfig => readSink(r, n, resolve));
  const queues = sinks.flatMap((k) => (k.kind === "webhook" ? [k.queueFile] : []));
  const shared = queues.find((q, i) => queues.indexOf(q) !== i);
  if (shared !== undefined) r.fail(sinksNode, `two webhook sinks share the queue file ${path.basename(shared)}: give each its own queue.file`);
  const poll = r.map(r.get(root, "poll"), "poll", ["intervalMs", "updateEvery"]);
  const anchorsNode = r.map(r.get(root, "anchors"), "anchors", ["every", "dir"]);
  const anchorEvery = r.duration(anchorsNode, "every", "anchors.every");
  const anchorDir = r.str(anchorsNode, "dir", "anchors.dir");
  if (anchorsNode !== undefined && (anchorEvery === undefined || anchorDir === undefined))
    r.fail(anchorsNode, "anchors needs every (e.g. 1h) and dir (a folder outside the keystore)");
  return {
    learnDays: r.num(learn, "days", "learn.days", 1, 366, true) ?? d.learnDays,
    dedupeSeconds: r.duration(root, "dedupe", "dedupe") ?? d.dedupeSeconds,
    severity,
    enabled,
    volume: {
      factor: r.num(vol, "factor", "volume-spike.factor", 1.5, 1000) ?? d.volume.factor,
      minCount: r.num(vol, "minCount", "volume-spike.minCount", 1, 1e9, true) ?? d.volume.minCount,
    },
    offHours: {
      minActiveDays: r.num(off, "minActiveDays", "off-hours.minActiveDays", 1, 366, true) ?? d.offHours.minActiveDays,
      maxActiveShare: r.num(off, "maxActiveShare", "off-hours.maxActiveShare", 0.05, 1) ?? d.offHours.maxActiveShare,
    },
    newContext: {
      maxValues: r.num(ctx, "maxValues", "new-context.maxValues", 1, 100_000, true) ?? d.newContext.maxValues,
      ignore: r.strList(ctx, "ignore", "new-context.ignore"),
    },
    bulkRead: {
      windowSeconds: r.duration(bulk, "window", "bulk-read.window") ?? d.bulkRead.windowSeconds,
      factor: r.num(bulk, "factor", "bulk-read.factor", 1.5, 1000) ?? d.bulkRead.factor,
      minObjects: r.num(bulk, "minObjects", "bulk-read.minObjects", 2, 1e7, true) ?? d.bulkRead.minObjects,
    },
    denialBurst: {
      windowSeconds: r.duration(den, "window", "denial-burst.window") ?? d.denialBurst.windowSeconds,
      count: r.num(den, "count", "denial-burst.count", 2, 1e6, true) ?? d.denialBurst.count,
    },
    honeytokens: { keys: r.strList(ht, "keys", "honeytokens.keys"), objects: r.strList(ht, "objects", "honeytokens.objects"), contexts },
    suppressions,
    maxSeqs: r.num(limits, "maxSeqs", "limits.maxSeqs", 10, 10_000_000, true) ?? d.maxSeqs,
    state: { file: stateFile ? resolve(stateFile) : d.state.file, key: r.str(state, "key", "state.key", KEY_NAME_PATTERN) ?? d.state.key },
    sinks,
    anchors: anchorEvery !== undefined && anchorDir !== undefined ? { everySeconds: anchorEvery, dir: resolve(anchorDir) } : null,
    pollMs: r.num(poll, "intervalMs", "poll.intervalMs", 20, 60_000, true) ?? d.pollMs,
    updateEverySeconds: r.duration(poll, "updateEvery", "poll.updateEvery") ?? d.updateEverySeconds,
  };
}

function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

function readSink(r: ConfigReader, n: Node, resolve: (p: string) => string): SinkConfig {
  const m = r.map(n, "sink", ["kind", "path", "url", "certDir", "expect", "queue", "host", "port", "protocol", "appName", "perMinute"])!;
  const kind =
    r.oneOf(m, "kind", "sink kind", ["stdout", "file", "webhook", "syslog"] as const) ?? r.fail(m, "a sink needs a kind: stdout, file, webhook or syslog");
  const perMinute = r.num(m, "perMinute", "sink perMinute", 1, 100_000, true) ?? DEFAULT_PER_MINUTE;
  if (kind === "stdout") return { kind, perMinute };
  if (kind === "file") return { kind, perMinute, path: resolve(r.str(m, "path", "file sink path") ?? r.fail(m, "a file sink needs a path")) };
  if (kind === "syslog") {
    return {
      kind,
      perMinute,
      host: r.str(m, "host", "syslog host") ?? "127.0.0.1",
      port: r.num(m, "port", "syslog port", 1, 65535, true) ?? 514,
      protocol: r.oneOf(m, "protocol", "syslog protocol", ["udp", "tcp"] as const) ?? "udp",
      appName: r.str(m, "appName", "syslog appName", /^[!-~]{1,48}$/) ?? "pipeseal",
    };
  }
  // no user:password@ in the URL: it would travel in alerts about the sink and in notices
  const url = r.str(m, "url", "webhook url") ?? r.fail(m, "a webhook sink needs an https:// url");
  // the URL is not echoed: it may hold a password, which must reach neither this message nor alerts
  if (!/^https:\/\/[^/@\s]+(\/\S*)?$/.test(url))
    r.fail(r.get(m, "url"), "webhook url must be https://host[:port]/path, without user:password@ (the client certificate authenticates)");
  const certDir = r.str(m, "certDir", "webhook certDir") ?? r.fail(m, "a webhook sink needs certDir (cert.pem, key.pem, ca.pem: it speaks mTLS)");
  const q = r.map(r.get(m, "queue"), "webhook queue", ["file", "maxAlerts"]);
  const expect = r.strList(m, "expect", "webhook expect");
  if (expect.length === 0) r.fail(m, "a webhook sink needs expect: [spiffe://<trust-domain>/<env>/<service>] (the identity its server certificate must carry)");
  return {
    kind,
    perMinute,
    url,
    certDir: resolve(certDir),
    queueFile: resolve(r.str(q, "file", "webhook queue file") ?? "monitor.webhook-queue.pseal"),
    queueMax: r.num(q, "maxAlerts", "webhook queue maxAlerts", 1, 1_000_000, true) ?? 10_000,
    expect,
  };
}
