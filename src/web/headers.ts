/**
 * Response headers of every dashboard answer. The CSP allows only this server's own files:
 * no inline script or style, no other origin, no plugin, no <base>; forms post only here; the
 * site cannot be framed (the posture report alone may be framed by the site itself).
 */
export const SITE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin", // not no-referrer: then a form post carries "Origin: null", and the Origin check could not tell the site from a sandboxed attacker
  "cache-control": "no-store",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
};

/** The posture report page carries its own hash-based CSP; framed only by the dashboard. */
export function reportCsp(reportCspText: string): string {
  return `${reportCspText}; frame-ancestors 'self'`;
}
