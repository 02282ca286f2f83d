/**
 * The synthetic customer events the producer sends: e-mails, card numbers, free support text,
 * and a churn label the model learns. Deterministic (a seeded generator, not randomness), so
 * every run trains on the same data. The planted MARKERS are values that must never be found
 * in plaintext anywhere under the demo folder (the end-to-end test searches every file).
 */
import { createHash } from "node:crypto";

/** Values planted in the events; none may appear in any file the demo leaves. */
export const MARKERS = {
  email: "marker.customer7@example.com",
  card: "4111111111111111",
  text: "ZEBRA-MARKER-7731 my account",
} as const;

export interface CustomerEvent {
  readonly id: string;
  readonly email: string;
  readonly card: string;
  readonly country: string;
  readonly visits: number;
  readonly spend: number;
  readonly tickets: number;
  readonly text: string;
  readonly churned: 0 | 1;
}

const COUNTRIES = ["DE", "FR", "US", "JP"] as const;
const TOPICS = ["cannot log in", "invoice is wrong", "cancel my plan", "app crashes on start", "how do I export data", "refund please"] as const;

/** A small deterministic generator (splitmix32) from a seed: reproducible data, not security. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

/** A card number with a valid Luhn check digit (so detectors and FF1 treat it as a card). */
function card(next: () => number): string {
  const digits = [4, ...Array.from({ length: 14 }, () => Math.floor(next() * 10))];
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits[digits.length - 1 - i];
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return digits.join("") + String((10 - (sum % 10)) % 10);
}

/** `count` events; event 7 carries every marker. */
export function customerEvents(count: number, seed = 21): CustomerEvent[] {
  const next = seeded(seed);
  const out: CustomerEvent[] = [];
  for (let i = 1; i <= count; i++) {
    const visits = Math.floor(next() * 30);
    const tickets = Math.floor(next() * 6);
    const spend = Math.round(next() * 50000) / 100;
    const topic = TOPICS[Math.floor(next() * TOPICS.length)];
    // churn is more likely with few visits and many tickets: a signal a small model can learn
    const risk = 1.5 - visits / 10 + tickets * 0.6 - spend / 400 + (next() - 0.5);
    const marked = i === 7;
    const email = marked ? MARKERS.email : `user${i}.${createHash("sha256").update(String(i)).digest("hex").slice(0, 6)}@example.com`;
    out.push({
      id: `c${String(i).padStart(5, "0")}`,
      email,
      card: marked ? MARKERS.card : card(next),
      country: COUNTRIES[i % COUNTRIES.length],
      visits,
      spend,
      tickets,
      text: marked ? `${MARKERS.text} ${topic}, write to ${email} or call +49 30 1234567` : `${topic}; reach me at ${email}`,
      churned: risk > 0 ? 1 : 0,
    });
  }
  return out;
}
