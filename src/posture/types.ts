/**
 * Posture: the pipeline map (`pipeline.yaml`), the findings checks produce, and the report
 * that answers the four questions of a security review. Shared by the map parser, every
 * check module, the engine and the renderers (terminal, JSON, SARIF, HTML).
 *
 * Nothing in a report may hold key material, plaintext or a secret value: evidence names
 * files, keys, versions, principals, counts and masked hints only.
 */
import type { AuditRecord } from "../audit/types.js";
import type { KeyInfo } from "../keys/key-info.js";

/** The eight stages of an AI pipeline, in data-flow order (the diagram draws them in this order). */
export const STAGES = ["ingestion", "landing", "processing", "features", "training", "registry", "inference", "monitoring"] as const;
export type StageId = (typeof STAGES)[number];

/** Data classifications, least to most sensitive except `secret` (credentials, keys). */
export const CLASSIFICATIONS = ["public", "internal", "confidential", "pii", "phi", "financial", "secret"] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/** Where a stage keeps data. */
export type StoreKind = "folder" | "glob" | "s3" | "postgres" | "logs";

export interface StoreSpec {
  /** Unique within the map, `[a-z0-9][a-z0-9._-]*` (finding subjects and fingerprints use it). */
  readonly id: string;
  readonly kind: StoreKind;
  /** folder / logs: a directory; glob: a pattern such as `data/**\/*.csv` (relative paths resolve against the map's folder). */
  readonly path?: string;
  /** s3: `s3://bucket/prefix`; postgres: a connection URL. */
  readonly url?: string;
  /** postgres: the table, and the columns expected to hold pipeseal field tokens. */
  readonly table?: string;
  readonly columns?: readonly string[];
  readonly classification: Classification;
  /** The pipeseal key expected to protect it; absent means the map declares it unencrypted. */
  readonly key?: string;
  /** Encryption-context entries every sealed file here must carry. */
  readonly context?: Readonly<Record<string, string>>;
  /** Retention in seconds (the YAML takes a duration such as `90d`); absent: kept indefinitely. */
  readonly retentionSeconds?: number;
}

/** A connection data crosses, probed as a real TLS endpoint. */
export interface ConnectionSpec {
  readonly id: string;
  readonly from: StageId;
  readonly to: StageId;
  /** `https://host:port`, `tls://host:port`, or `http://…` (plaintext, always a finding). */
  readonly url: string;
  /** The server must require a client certificate. */
  readonly mtls: boolean;
  readonly classification: Classification;
  /** PEM file of the CA that should have issued the server certificate. */
  readonly ca?: string;
  /** Folder with cert.pem / key.pem used to try the handshake with a client certificate. */
  readonly certDir?: string;
}

/** Where data is processed: jobs, notebooks, services; their folders are scanned for leaks. */
export interface ComputeSpec {
  readonly id: string;
  readonly kind: "job" | "notebook" | "service";
  /** Folder (or file) holding the code, notebooks and CI output to scan. */
  readonly path?: string;
  /** The identity it runs as (SPIFFE URI or keystore principal). */
  readonly principal?: string;
}

export interface StageSpec {
  readonly id: StageId;
  readonly description?: string;
  readonly stores: readonly StoreSpec[];
  readonly compute: readonly ComputeSpec[];
}

export interface PipelineMap {
  readonly version: 1;
  readonly name: string;
  /** Absolute folder of the map file: relative paths in it resolve here. */
  readonly baseDir: string;
  /** Where the keys live: a local keystore home (default: PIPESEAL_HOME / ~/.pipeseal), or a key service. */
  readonly keys: { readonly home?: string; readonly server?: string; readonly certDir?: string };
  readonly stages: readonly StageSpec[];
  readonly connections: readonly ConnectionSpec[];
  /** Decrypted outputs (`*.dec`, …) older than this are findings; default 24 h. */
  readonly plaintextMaxAgeSeconds: number;
}

export type Severity = "critical" | "high" | "medium" | "low" | "info";
export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low", "info"];

/** Which of the four review questions a check answers. */
export type Question = "keys" | "access" | "plaintext" | "retention";

/** A check, as `posture explain <id>` prints it. */
export interface CheckDefinition {
  /** Stable id, e.g. `REST-PLAINTEXT`; never reused for another meaning. */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly question: Question;
  /** What the check does and what evidence it reads (plain words). */
  readonly description: string;
  /** How to fix a finding. */
  readonly fix: string;
}

export interface Finding {
  readonly checkId: string;
  readonly severity: Severity;
  /** The stage it belongs to; null for map-wide findings (keys, audit). */
  readonly stage: StageId | null;
  /** The store, connection, compute or key id the finding is about. */
  readonly subject: string;
  /** A file path (relative to the map folder), URL, key name or table. */
  readonly location: string;
  /** One line, no secrets. */
  readonly message: string;
  /** Facts that support it (names, versions, counts, ages, masked hints): never key material or plaintext. */
  readonly evidence: Readonly<Record<string, string | number | boolean | null>>;
  /** sha256 hex of checkId + subject + location: stable across runs (SARIF, baselines). */
  readonly fingerprint: string;
}

/** What a check module sees: the map, a clock, and a place to note what it examined. */
export interface CheckContext {
  readonly map: PipelineMap;
  readonly now: Date;
  /** Called as work progresses (files examined), for progress output on long runs. */
  readonly progress?: (examined: number) => void;
  /** The keys the map names, read-only (local keystore or key service); null when none could be opened. */
  readonly keys?: KeySource | null;
  /** One shared read per name per run (e.g. the file inventory several modules use). */
  readonly memo?: <T>(name: string, make: () => Promise<T>) => Promise<T>;
}

/**
 * What posture reads about keys. Read-only: nothing here creates, rotates or unwraps.
 * The local keystore and the key service client both back it (src/posture/keys/source.ts).
 */
export interface KeySource {
  readonly kind: "keystore" | "service";
  /** The keystore folder or service URL, for evidence. */
  readonly location: string;
  listKeys(): Promise<readonly KeyInfo[]>;
  /** Audit records at or after `sinceMs`, oldest first. */
  listAudit(sinceMs?: number): Promise<readonly AuditRecord[]>;
  verifyAudit(): Promise<{ readonly ok: boolean; readonly records: number; readonly problems: readonly { seq: number; kind: string; detail: string }[] }>;
  /** The active key-service policy (YAML), or null (local keystore: no policy). */
  activePolicy(): Promise<string | null>;
  /** The monitor's unacknowledged alerts per key (the local keystore's alert ledger); absent where the source has none. */
  openAlerts?(): Promise<ReadonlyMap<string, readonly OpenAlert[]>>;
}

/** A group of related checks: their definitions and one run over the map. */
export interface CheckModule {
  readonly definitions: readonly CheckDefinition[];
  /** Returns findings plus the facts the report's answers and diagram need. Never throws for a finding; throws only for a broken map or environment. */
  run(ctx: CheckContext): Promise<ModuleResult>;
}

export interface ModuleResult {
  readonly findings: readonly Finding[];
  /** Subjects (store / connection / compute / key ids) examined, so a clean subject shows as passing. */
  readonly examined: readonly string[];
  readonly facts?: Partial<Answers>;
  readonly stats?: { readonly filesExamined?: number; readonly bytesRead?: number };
}

/** A monitor alert on a key that nobody acknowledged yet (`pipeseal monitor alerts --open`). */
export interface OpenAlert {
  readonly id: string;
  readonly detection: string;
  readonly severity: string;
  readonly principal: string;
  readonly time: string;
}

/** The four answers, as data (the renderers put them in plain words). */
export interface Answers {
  /** Which keys protect each store: what the map expects and what the files show. */
  readonly keys: readonly {
    store: string;
    stage: StageId;
    expectedKey: string | null;
    /** `files` counts files for folder stores, values for sampled table columns. */
    keysSeen: readonly { key: string; version: number; files: number }[];
    plaintextFiles: number;
    sealedFiles: number;
    /** How the row was established: files read (the default), sampled table values, or not verified at all (S3). */
    verification?: "files" | "sampled-values" | "unverified";
  }[];
  /** Who can decrypt each key, and what is logged. */
  readonly access: readonly {
    key: string;
    principals: readonly string[];
    source: "keystore" | "policy";
    decrypts: number;
    denied: number;
    decryptsByPrincipal: Readonly<Record<string, number>>;
    auditVerified: boolean | null;
    openAlerts?: readonly OpenAlert[];
  }[];
  /** Where plaintext exists and for how long. */
  readonly plaintext: readonly {
    stage: StageId | null;
    location: string;
    kind: "plaintext-file" | "decrypted-output" | "temp-file" | "unencrypted-store" | "plaintext-connection" | "leak";
    ageSeconds: number | null;
    /** For a leak: what was found, in plain words, worded by where (one row per file however many findings). */
    detail?: string;
  }[];
  /** What is retained, and for how long. */
  readonly retention: readonly { store: string; stage: StageId; retentionSeconds: number | null; oldestSeconds: number | null; expiredFiles: number }[];
}

export type Status = "pass" | "fail" | "warn";

export interface PostureReport {
  readonly tool: { readonly name: "pipeseal"; readonly version: string };
  readonly map: { readonly name: string; readonly path: string };
  readonly generatedAt: string;
  readonly durationMs: number;
  /** Each stage's status (fail if any critical/high finding, warn for medium/low) and counts. */
  readonly stages: readonly { id: StageId; status: Status; stores: number; findings: number }[];
  readonly connections: readonly { id: string; from: StageId; to: StageId; url: string; status: Status }[];
  /** Worst first (severity, then check id, then location). */
  readonly findings: readonly Finding[];
  readonly checks: readonly (CheckDefinition & { failed: number })[];
  readonly answers: Answers;
  readonly stats: { readonly filesExamined: number; readonly bytesRead: number };
  /** Present with `--baseline`: fingerprints new since, and fixed since, the baseline. */
  readonly baseline?: { readonly path: string; readonly added: readonly string[]; readonly fixed: readonly string[] };
}
