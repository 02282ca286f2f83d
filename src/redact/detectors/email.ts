/** E-mail addresses (RFC 5321 dot-atom local part, dotted domain with an alphabetic TLD). */
import type { Detector } from "../types.js";
import { patternDetector } from "./util.js";

/**
 * Not reported: `git@host:org/repo` (an SSH remote, not a mailbox) and the `pass@host` tail
 * of `scheme://user:pass@host` (the connection-string detector owns that password).
 */
export function emailDetector(): Detector {
  return patternDetector({
    id: "email",
    kind: "pii",
    label: "EMAIL",
    pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
    hint: (t) => t.includes("@"),
    confidence: 0.95,
    explanation: "e-mail address: local part @ dotted domain",
    validate(value, text, start, end) {
      const at = value.indexOf("@");
      const local = value.slice(0, at);
      if (local === "git" && text.charCodeAt(end) === 58 /* : */) return null;
      if (local.includes("..") || local.endsWith(".")) return null;
      // `scheme://user:pass@host`: the password, not an address
      if (/:\/\/[^\s/@]*:[^\s/@]*$/.test(text.slice(Math.max(0, start - 300), start))) return null;
      return { confidence: 0.95 };
    },
  });
}
