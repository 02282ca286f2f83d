/** E-mail addresses (RFC 5321 dot-atom local part, dotted domain with an alphabetic TLD). */
import type { Detector, Finding } from "../types.js";

/** The domain after `@`; the local part is found by walking back from the `@` (much faster than a regex that starts at every letter). */
const DOMAIN = /@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

function isLocalChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}
function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Not reported: `git@host:org/repo` (an SSH remote, not a mailbox) and the `pass@host` tail
 * of `scheme://user:pass@host` (the connection-string detector owns that password).
 */
export function emailDetector(): Detector {
  return {
    id: "email",
    kind: "pii",
    label: "EMAIL",
    find(text: string): Finding[] {
      const out: Finding[] = [];
      if (!text.includes("@")) return out;
      DOMAIN.lastIndex = 0;
      for (let m = DOMAIN.exec(text); m !== null; m = DOMAIN.exec(text)) {
        const at = m.index;
        let start = at;
        while (start > 0 && at - start < 64 && isLocalChar(text.charCodeAt(start - 1))) start--;
        if (start > 0 && isLocalChar(text.charCodeAt(start - 1))) continue; // local part longer than 64
        while (start < at && !isAlnum(text.charCodeAt(start))) start++;
        if (start === at) continue;
        const end = at + m[0].length;
        const local = text.slice(start, at);
        if (local === "git" && text.charCodeAt(end) === 58 /* : */) continue;
        if (local.includes("..") || local.endsWith(".")) continue;
        // `scheme://user:pass@host`: the password, not an address
        if (/:\/\/[^\s/@]*:[^\s/@]*$/.test(text.slice(Math.max(0, start - 300), start))) continue;
        out.push({ detector: "email", kind: "pii", label: "EMAIL", start, end, confidence: 0.95, explanation: "e-mail address: local part @ dotted domain" });
      }
      return out;
    },
  };
}
