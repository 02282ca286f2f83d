/**
 * Passwords in connection strings and URLs: the password of `scheme://user:password@host`
 * and `Password=…;` / `Pwd=…;` in key-value connection strings (ADO.NET, JDBC, ODBC).
 * Only the password is reported; user and host stay readable. Placeholders (`***`,
 * `${DB_PASSWORD}`, `<password>`, `%s`) are skipped.
 */
import type { Detector, Finding } from "../types.js";
import { merge, patternDetector } from "./util.js";

const PLACEHOLDER =
  /^(?:\*+|x+|X+|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|\$[A-Z_][A-Z0-9_]*|%s|%\(\w+\)s|:?password|pass|passwd|pwd|secret|changeme|redacted|\[redacted\]|\[[A-Z_]+\]|\.\.\.)$/i;

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
    pattern: /(?<![A-Za-z0-9_])(?:password|pwd)[^\S\n]{0,2}=[^\S\n]{0,2}([^;\s"'{}]{1,256})(?=;|[^\S\n]*["']?[^\S\n]*(?:\n|$)|["'])/dgi,
    group: 1,
    confidence: 0.9,
    explanation: "Password= in a key-value connection string",
    validate(v, text, start) {
      if (PLACEHOLDER.test(v)) return null;
      // same line only, within 200 characters before and 300 after
      const from = text.lastIndexOf("\n", start - 1) + 1;
      let to = text.indexOf("\n", start);
      if (to < 0) to = text.length;
      const line = text.slice(Math.max(from, start - 200), Math.min(to, start + 300));
      if (!line.includes(";")) return null;
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
    find: (text: string): Finding[] => merge(parts[0].find(text), parts[1].find(text)),
  };
}
