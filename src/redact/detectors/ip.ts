/**
 * IP addresses. IPv4: four decimal octets 0–255 without leading zeros. IPv6: validated by
 * node:net, at least three groups (so `a::b` in code does not match). Decisions:
 * - a dotted quad right after a version label (`version: 1.2.3.4`, `"ver":"1.2.3.4"`,
 *   `v1.2.3.4`, `pkg@1.2.3.4`) is a version string, not an address;
 * - longer dotted runs (OIDs such as 1.3.6.1.4.1) do not match;
 * - loopback and unspecified addresses (127.0.0.0/8, 0.0.0.0, ::1, ::) score 0.3, below the
 *   default threshold; private ranges score 0.7; public addresses 0.9.
 */
import { isIPv6 } from "node:net";
import type { Detector, Finding } from "../types.js";
import { contextBefore, merge, patternDetector } from "./util.js";

const VERSION =
  /(?:version|\bver|release|build|\btag|firmware|\bfw|\bsdk|\bapi[_-]?v)[A-Za-z_]{0,12}\\?["']?(?:\s{0,3}[:=]{1,2}\s{0,3}|\s{1,3})\\?["']?$|\bv$/i;
const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";

function v4(): Detector {
  return patternDetector({
    id: "ip-address",
    kind: "pii",
    label: "IP_ADDRESS",
    pattern: new RegExp(`(?<![\\w.@-])${OCTET}(?:\\.${OCTET}){3}(?![\\w]|\\.\\d)`, "g"),
    hint: (t) => /\d\.\d{1,3}\.\d{1,3}\.\d/.test(t),
    confidence: 0.9,
    explanation: "IPv4 address",
    validate(value, text, start) {
      if (contextBefore(text, start, VERSION, 32)) return null;
      const [a, b] = value.split(".").map(Number) as [number, number];
      if (a === 127 || value === "0.0.0.0") return { confidence: 0.3, explanation: "IPv4 loopback/unspecified address" };
      if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return { confidence: 0.7, explanation: "private IPv4 address" };
      return { confidence: 0.9 };
    },
  });
}

function v6(): Detector {
  return patternDetector({
    id: "ip-address",
    kind: "pii",
    label: "IP_ADDRESS",
    pattern: /(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?![\w:]|\.\d)/g,
    hint: (t) => /:[0-9A-Fa-f]{0,4}:/.test(t), // starts with a literal: V8 scans for ':' quickly
    confidence: 0.9,
    explanation: "IPv6 address",
    validate(value) {
      if (!isIPv6(value)) return null;
      const groups = value.split(":").filter((g) => g.length > 0).length;
      if (value === "::1" || value === "::") return { confidence: 0.3, explanation: "IPv6 loopback/unspecified address" };
      if (groups < 3) return null;
      if (!/[0-9]/.test(value) || (!value.includes("::") && groups < 8)) return null;
      if (/^fe80:|^f[cd]/i.test(value)) return { confidence: 0.7, explanation: "link-local or unique-local IPv6 address" };
      return { confidence: 0.9 };
    },
  });
}

export function ipDetector(): Detector {
  const parts = [v4(), v6()];
  return {
    id: "ip-address",
    kind: "pii",
    label: "IP_ADDRESS",
    find: (text: string): Finding[] => merge(parts[0].find(text), parts[1].find(text)),
  };
}
