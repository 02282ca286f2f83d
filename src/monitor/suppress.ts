/** Does a suppression rule of monitor.yaml silence this incident (judged on its first record)? */
import type { Suppression } from "./config.js";
import { globToRegExp } from "./glob.js";
import type { DetectionId } from "./types.js";

export type SuppressionCheck = (detection: DetectionId, principal: string, key: string | null, timeMs: number) => Suppression | null;

export function suppressionCheck(rules: readonly Suppression[]): SuppressionCheck {
  const compiled = rules.map((s) => ({ s, principal: s.principal ? globToRegExp(s.principal) : null, key: s.key ? globToRegExp(s.key) : null }));
  return (detection, principal, key, timeMs) => {
    if (detection === "honeytoken") return null; // never silenced (the config reader refuses it too)
    for (const { s, principal: p, key: k } of compiled) {
      if (s.detection !== undefined && s.detection !== detection) continue;
      if (p && !p.test(principal)) continue;
      if (k && (key === null || !k.test(key))) continue;
      if (s.fromMs !== undefined && timeMs < s.fromMs) continue;
      if (s.untilMs !== undefined && timeMs >= s.untilMs) continue;
      if (s.hours) {
        const h = new Date(timeMs).getUTCHours();
        const [a, b] = s.hours;
        if (!(a <= b ? h >= a && h < b : h >= a || h < b)) continue;
      }
      return s;
    }
    return null;
  };
}
