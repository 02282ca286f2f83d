/** JSON Web Tokens (RFC 7519 compact JWS/JWE): base64url parts whose header decodes to JSON with "alg". */
import type { Detector } from "../types.js";
import { patternDetector } from "./util.js";

function header(part: string): Record<string, unknown> | null {
  try {
    const json = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    return json !== null && typeof json === "object" && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function jwtDetector(): Detector {
  return patternDetector({
    id: "jwt",
    kind: "secret",
    label: "JWT",
    pattern:
      /(?<![A-Za-z0-9_.-])eyJ[A-Za-z0-9_-]{5,2048}\.[A-Za-z0-9_-]{4,16384}\.[A-Za-z0-9_-]{0,4096}(?:\.[A-Za-z0-9_-]{4,16384}\.[A-Za-z0-9_-]{4,1024})?(?![A-Za-z0-9_.-])/g,
    hint: (t) => t.includes("eyJ"),
    confidence: 0.95,
    explanation: "JWT: header decodes to JSON with an alg",
    validate(v) {
      const h = header(v.slice(0, v.indexOf(".")));
      if (!h || typeof h.alg !== "string") return null;
      if (h.alg === "none") return { confidence: 0.8, explanation: "unsigned JWT (alg none): still a bearer credential" };
      return { confidence: 0.97, explanation: `JWT (${h.alg}): header decodes to JSON with an alg` };
    },
  });
}
