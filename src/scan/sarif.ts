/**
 * SARIF 2.1.0 output (OASIS SARIF v2.1.0, schema in test/vectors/sarif/). One run; one rule per
 * detector; one result per finding with a `partialFingerprints` entry so code-scanning
 * dashboards de-duplicate across runs (fingerprint.ts says what goes in it). Pure: data in, log out.
 */
import type { Detector } from "../redact/types.js";
import type { ScanFinding } from "./types.js";

export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";
/** The `partialFingerprints` key; bump the version if fingerprint.ts ever changes what it hashes. */
export const FINGERPRINT_NAME = "pipesealSecretHash/v1";

type Level = "error" | "warning" | "note";

/** Secrets are errors when the detector is sure, PII warnings; anything unsure is a note. */
export function levelOf(kind: string, confidence: number): Level {
  if (confidence < 0.6) return "note";
  if (kind === "secret") return confidence >= 0.8 ? "error" : "warning";
  return "warning";
}

/** A `/`-separated relative path as a SARIF artifact URI. */
export function sarifUri(rel: string): string {
  return rel.split("/").map(encodeURIComponent).join("/");
}

/** A folder URI as a SARIF `originalUriBaseIds` entry (a base must end in "/"). */
export function sarifBase(folderUri: string): { uri: string } {
  return { uri: folderUri.endsWith("/") ? folderUri : folderUri + "/" };
}

/** A SARIF 2.1.0 log with one run of pipeseal: its rules and the rest of the run (results, bases, …). */
export function sarifLog(toolVersion: string, rules: readonly object[], run: Record<string, unknown>, informationUri?: string): object {
  const driver = { name: "pipeseal", semanticVersion: toolVersion, ...(informationUri ? { informationUri } : {}), rules };
  return { $schema: SARIF_SCHEMA_URI, version: "2.1.0", runs: [{ tool: { driver }, ...run }] };
}

export interface SarifOptions {
  readonly toolVersion: string;
  /** file:// URI of the folder paths are relative to, for `originalUriBaseIds`. */
  readonly rootUri?: string;
}

/** The SARIF log for `findings`; `detectors` become the rules (findings of unknown detectors add rules too). */
export function toSarif(findings: readonly ScanFinding[], detectors: readonly Pick<Detector, "id" | "kind" | "label">[], options: SarifOptions): object {
  const rules = new Map<string, { id: string; kind: string; label: string }>();
  for (const d of detectors) if (!rules.has(d.id)) rules.set(d.id, { id: d.id, kind: d.kind, label: d.label });
  for (const f of findings) if (!rules.has(f.detector)) rules.set(f.detector, { id: f.detector, kind: f.kind, label: f.label });
  const index = new Map([...rules.keys()].map((id, i) => [id, i]));
  const sarifRules = [...rules.values()].map((r) => ({
    id: r.id,
    name: r.label,
    shortDescription: { text: `${r.kind === "secret" ? "Secret" : "Personal data"}: ${r.label.toLowerCase().replace(/_/g, " ")} (${r.id})` },
    defaultConfiguration: { level: r.kind === "secret" ? "error" : "warning" },
    properties: { tags: ["security", r.kind] },
  }));
  return sarifLog(options.toolVersion, sarifRules, {
    ...(options.rootUri ? { originalUriBaseIds: { SRCROOT: sarifBase(options.rootUri) } } : {}),
    columnKind: "utf16CodeUnits",
    results: findings.map((f) => ({
      ruleId: f.detector,
      ruleIndex: index.get(f.detector),
      level: levelOf(f.kind, f.confidence),
      message: { text: `${f.label} (${f.detector}, confidence ${f.confidence.toFixed(2)}): ${f.explanation}; value ${f.hint}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: sarifUri(f.path), ...(options.rootUri ? { uriBaseId: "SRCROOT" } : {}) },
            region: { startLine: f.line, startColumn: f.column },
          },
          ...(f.notebook
            ? {
                logicalLocations: [
                  {
                    name: f.notebook.output === undefined ? `cell ${f.notebook.cell}` : `cell ${f.notebook.cell} output ${f.notebook.output}`,
                    fullyQualifiedName: `cells[${f.notebook.cell}]${f.notebook.output === undefined ? ".source" : `.outputs[${f.notebook.output}]`}:${f.notebook.line}:${f.notebook.column}`,
                    kind: "element",
                  },
                ],
              }
            : {}),
        },
      ],
      partialFingerprints: { [FINGERPRINT_NAME]: f.fingerprint },
      baselineState: f.baselined ? "unchanged" : "new",
      ...(f.baselined ? { suppressions: [{ kind: "external", status: "accepted", justification: "listed in the pipeseal scan baseline" }] } : {}),
      properties: { confidence: f.confidence, kind: f.kind, ...(f.notebook ? { notebook: f.notebook } : {}) },
    })),
  });
}
