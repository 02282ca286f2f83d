/**
 * SARIF 2.1.0 for a posture report: one rule per check, one result per finding, the finding's
 * fingerprint as `partialFingerprints` so dashboards de-duplicate across runs. Pure.
 */
import { sarifBase, sarifLog, sarifUri } from "../../scan/sarif.js";
import type { Finding, PostureReport, Severity } from "../types.js";

/** The `partialFingerprints` key; bump if finding.ts ever changes what it hashes. */
export const POSTURE_FINGERPRINT_NAME = "pipesealPosture/v1";

const LEVEL: Record<Severity, "error" | "warning" | "note"> = { critical: "error", high: "error", medium: "warning", low: "note", info: "note" };

/** A location: file paths become artifact locations, anything else (URLs, keys, tables) a logical location. */
function locationOf(f: Finding): object {
  const isPath = !/^[a-z][a-z0-9+.-]*:\/\//i.test(f.location) && /[/.]/.test(f.location) && !f.location.includes("@v") && !f.location.startsWith("policy:");
  return isPath
    ? {
        physicalLocation: {
          artifactLocation: { uri: sarifUri(f.location), uriBaseId: "MAPROOT" },
          ...(typeof f.evidence.line === "number" ? { region: { startLine: f.evidence.line } } : {}),
        },
        logicalLocations: [{ name: f.subject, kind: "resource" }],
      }
    : { logicalLocations: [{ name: f.location, fullyQualifiedName: `${f.subject}/${f.location}`, kind: "resource" }] };
}

export function toPostureSarif(report: PostureReport, mapRootUri: string): object {
  const index = new Map(report.checks.map((c, i) => [c.id, i]));
  const rules = report.checks.map((c) => ({
    id: c.id,
    name: c.title,
    shortDescription: { text: c.title },
    fullDescription: { text: c.description },
    help: { text: c.fix },
    defaultConfiguration: { level: LEVEL[c.severity] },
    properties: { tags: ["security", "posture", c.question], severity: c.severity },
  }));
  const run = {
    originalUriBaseIds: { MAPROOT: sarifBase(mapRootUri) },
    results: report.findings.map((f) => ({
      ruleId: f.checkId,
      ruleIndex: index.get(f.checkId),
      level: LEVEL[f.severity],
      message: { text: f.message },
      locations: [locationOf(f)],
      partialFingerprints: { [POSTURE_FINGERPRINT_NAME]: f.fingerprint },
      ...(report.baseline ? { baselineState: report.baseline.added.includes(f.fingerprint) ? "new" : "unchanged" } : {}),
      properties: { severity: f.severity, stage: f.stage, subject: f.subject, evidence: f.evidence },
    })),
  };
  return sarifLog(report.tool.version, rules, run, "https://github.com/pipeseal/pipeseal/blob/main/docs/posture.md");
}
