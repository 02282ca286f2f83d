/** Source-host tokens: GitHub (classic ghp_/gho_/ghu_/ghs_/ghr_, fine-grained github_pat_) and GitLab (glpat-). */
import type { Detector } from "../types.js";
import { looksLikePlaceholder, patternDetector } from "./util.js";

const placeholder = (conf: number) => (v: string) => (looksLikePlaceholder(v.slice(4)) ? null : { confidence: conf });

export function githubTokenDetector(): Detector {
  return patternDetector({
    id: "github-token",
    kind: "secret",
    label: "GITHUB_TOKEN",
    pattern: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{60,251})(?![A-Za-z0-9_])/g,
    hint: (t) => t.includes("gh") || t.includes("github_pat_"),
    confidence: 0.98,
    explanation: "GitHub token (documented prefix and length)",
    validate: placeholder(0.98),
  });
}

export function gitlabTokenDetector(): Detector {
  return patternDetector({
    id: "gitlab-token",
    kind: "secret",
    label: "GITLAB_TOKEN",
    pattern: /(?<![A-Za-z0-9_-])(?:glpat|gldt|glrt|glptt|glcbt|glft|glimt|glagent|gloas)-[A-Za-z0-9_-]{20,64}(?:\.[0-9a-z]{2}\.[0-9a-z]{9})?(?![A-Za-z0-9_-])/g,
    hint: (t) => t.includes("gl"),
    confidence: 0.97,
    explanation: "GitLab token (documented prefix)",
    validate: placeholder(0.97),
  });
}
