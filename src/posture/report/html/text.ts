/** Text helpers for the HTML report: escaping (everything from a report is untrusted) and plain-word numbers. */
import type { Finding, StageId } from "../../types.js";

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escapes text for HTML content and quoted attribute values. File names, messages, URLs and
 * evidence come from scanned systems and are attacker-controlled: every one goes through here.
 */
export function esc(value: string | number | bigint | boolean | null | undefined): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** An anchor id for a finding: its fingerprint when it looks like one, else its position (never raw report text). */
export function findingAnchor(f: Finding, index: number): string {
  return /^[0-9a-f]{16,64}$/.test(f.fingerprint) ? `f-${f.fingerprint.slice(0, 16)}` : `f-n${index}`;
}

export const STAGE_TITLES: Readonly<Record<StageId, string>> = {
  ingestion: "Ingestion",
  landing: "Landing",
  processing: "Processing",
  features: "Features & embeddings",
  training: "Training",
  registry: "Registry",
  inference: "Inference",
  monitoring: "Monitoring",
};

export const stageTitle = (s: StageId | null): string => (s ? (STAGE_TITLES[s] ?? s) : "Map-wide");

/** "45 s", "12 min", "5 h", "30 days". */
export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "unknown";
  const s = Math.max(0, seconds);
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Escaped text whose `code spans` (as check fixes and descriptions write commands) become <code>. */
export function escWithCode(value: string): string {
  return esc(value).replace(/`([^`]+)`/g, "<code>$1</code>");
}
