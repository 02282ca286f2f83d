/**
 * Passwords in connection strings and URLs: the password of `scheme://user:password@host`
 * and `Password=…;` / `Pwd=…;` in key-value connection strings (ADO.NET, JDBC, ODBC).
 * Only the password is reported; user and host stay readable. Placeholders (`***`,
 * `${DB_PASSWORD}`, `<password>`, `%s`) are skipped.
 */
import type { Detector, Finding } from "../types.js";
import { patternDetector } from "./util.js";

const PLACEHOLDER = /^(?:\*+|x+|X+|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|\$[A-Z_][A-Z0-9_]*|%s|%\(\w+\)s|:?password|pass|passwd|pwd|secret|changeme|redacted|\[redacted\]|\[[A-Z_]+\]|\.\.\.)$/i;

function urlPassword(): Detector {
  return patternDetector({
    id: "connection-string-password",
    kind: "secret",
    label: "PASSWORD",
    pattern: /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,30}:\/\/[^\s:/?#@"'<>]{0,128}:([^\s/?#@"'<>]{1,256})@[A-Za-z0-9[]/dg,
    group: 1,
    hint: (t) => t.includes("://"),
    confidence: 0.95,
    explanation: "password in the user-info part of a URL",
    validate: (v) => (PLACEHOLDER.test(v) ? null : { confidence: 0.95 }),
  });
}

function kvPassword(): Detector {
  return patternDetector({
    id: "connection-string-password",
    kind: "secret",
    label: "PASSWORD",
    pattern: /(?<![A-Za-z0-9_])(?:password|pwd)\s{0,2}=\s{0,2}([^;\s"'{}]{1,256})(?=;|\s*["']?\s*$|["'])/dgi,
    group: 1,
    hint: (t) => t.includes(";"),
    confidence: 0.9,
    explanation: "Password= in a key-value connection string",
    validate(v, text, start) {
      if (PLACEHOLDER.test(v)) return null;
      const line = text.slice(Math.max(0, start - 200), Math.min(text.length, start + 300));
      if (!/(?:server|host|data source|uid|user id|username|user|database|initial catalog)\s{0,2}=/i.test(line)) return null;
      return { confidence: 0.9 };
    },
  });
}

export function connectionStringPasswordDetector(): Detector {
  const parts = [urlPassword(), kvPassword()];
  return {
    id: "connection-string-password",
    kind: "secret",
    label: "PASSWORD",
    find: (text: string): Finding[] => parts.flatMap((p) => p.find(text)).sort((a, b) => a.start - b.start),
  };
}
