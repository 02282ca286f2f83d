/** Tokens of SaaS APIs with documented prefixes: Slack, Stripe, Google, OpenAI, Anthropic, Hugging Face. */
import type { Detector } from "../types.js";
import { charClasses, looksLikePlaceholder, patternDetector } from "./util.js";

const real =
  (conf: number, minClasses = 2) =>
  (v: string) =>
    looksLikePlaceholder(v) || charClasses(v) < minClasses ? null : { confidence: conf };

export function slackTokenDetector(): Detector {
  return patternDetector({
    id: "slack-token",
    kind: "secret",
    label: "SLACK_TOKEN",
    pattern: /(?<![A-Za-z0-9_-])xox(?:[abpros]|e\.xox[bp]|c|e)-[0-9A-Za-z-]{10,250}(?![A-Za-z0-9_-])/g,
    hint: (t) => t.includes("xox"),
    confidence: 0.97,
    explanation: "Slack token (xox…- prefix)",
    validate: (v) => (looksLikePlaceholder(v.slice(5)) || !/\d/.test(v) ? null : { confidence: 0.97 }),
  });
}

export function slackWebhookDetector(): Detector {
  return patternDetector({
    id: "slack-webhook",
    kind: "secret",
    label: "SLACK_WEBHOOK",
    pattern: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_]{8,12}\/[A-Za-z0-9_]{8,12}\/[A-Za-z0-9_]{16,48}(?![A-Za-z0-9_])/g,
    hint: (t) => t.includes("hooks.slack.com"),
    confidence: 0.98,
    explanation: "Slack incoming-webhook URL (holds its own secret)",
    validate: (v) => (looksLikePlaceholder(v.slice(v.lastIndexOf("/") + 1)) ? null : { confidence: 0.98 }),
  });
}

export function stripeKeyDetector(): Detector {
  return patternDetector({
    id: "stripe-key",
    kind: "secret",
    label: "STRIPE_KEY",
    pattern: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{20,247}(?![A-Za-z0-9_])/g,
    hint: (t) => t.includes("k_live_") || t.includes("k_test_"),
    confidence: 0.98,
    explanation: "Stripe secret or restricted key (live)",
    validate(v) {
      if (looksLikePlaceholder(v.slice(8)) || charClasses(v.slice(8)) < 2) return null;
      return v.includes("_test_") ? { confidence: 0.6, explanation: "Stripe test-mode secret key (no live money, still a credential)" } : { confidence: 0.98 };
    },
  });
}

export function googleApiKeyDetector(): Detector {
  return patternDetector({
    id: "google-api-key",
    kind: "secret",
    label: "GOOGLE_API_KEY",
    pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g,
    hint: (t) => t.includes("AIza"),
    confidence: 0.97,
    explanation: "Google API key (AIza + 35 characters)",
    validate: real(0.97),
  });
}

export function anthropicKeyDetector(): Detector {
  return patternDetector({
    id: "anthropic-key",
    kind: "secret",
    label: "ANTHROPIC_KEY",
    pattern: /(?<![A-Za-z0-9_-])sk-ant-[a-z]{3,8}\d{2}-[A-Za-z0-9_-]{32,200}(?![A-Za-z0-9_-])/g,
    hint: (t) => t.includes("sk-ant-"),
    confidence: 0.99,
    explanation: "Anthropic API key (sk-ant- prefix)",
    validate: real(0.99, 3),
  });
}

export function openaiKeyDetector(): Detector {
  return patternDetector({
    id: "openai-key",
    kind: "secret",
    label: "OPENAI_KEY",
    pattern:
      /(?<![A-Za-z0-9_-])sk-(?!ant-)(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{48})(?![A-Za-z0-9_-])/g,
    hint: (t) => t.includes("sk-"),
    confidence: 0.95,
    explanation: "OpenAI API key (sk- / sk-proj- prefix)",
    validate(v) {
      if (looksLikePlaceholder(v.slice(3)) || charClasses(v) < 3) return null;
      return { confidence: v.includes("T3BlbkFJ") ? 0.99 : 0.95 };
    },
  });
}

export function huggingFaceTokenDetector(): Detector {
  return patternDetector({
    id: "huggingface-token",
    kind: "secret",
    label: "HUGGINGFACE_TOKEN",
    pattern: /(?<![A-Za-z0-9_])(?:hf_|api_org_)[A-Za-z0-9]{34}(?![A-Za-z0-9_])/g,
    hint: (t) => t.includes("hf_") || t.includes("api_org_"),
    confidence: 0.95,
    explanation: "Hugging Face access token (hf_ + 34 characters)",
    validate: real(0.95),
  });
}
