/**
 * Fake customer-like rows for a decoy: plausible names, e-mails, countries, dates and
 * balances, so the decoy reads like the data it sits next to. Randomness from node:crypto.
 */
import { randomInt } from "node:crypto";

const FIRST = [
  "Amelia",
  "Noah",
  "Olivia",
  "Liam",
  "Emma",
  "Lucas",
  "Mia",
  "Mateo",
  "Sofia",
  "Elias",
  "Hannah",
  "Leon",
  "Chloe",
  "Arjun",
  "Yuki",
  "Fatima",
  "Omar",
  "Ines",
  "Jonas",
  "Priya",
];
const LAST = [
  "Smith",
  "Garcia",
  "Müller",
  "Rossi",
  "Dubois",
  "Tanaka",
  "Kowalski",
  "Silva",
  "Novak",
  "Jensen",
  "Khan",
  "Nguyen",
  "Brown",
  "Lopez",
  "Schmidt",
  "Martin",
  "Costa",
  "Ivanova",
  "Ahmed",
  "Wilson",
];
const COUNTRIES = ["US", "DE", "FR", "GB", "ES", "IT", "JP", "IN", "BR", "NL", "PL", "SE"];
const DOMAINS = ["example.com", "mail.example", "corp.example", "example.org"];
const COLUMNS = ["customer_id", "first_name", "last_name", "email", "country", "signup_date", "lifetime_value"] as const;

const pick = <T>(xs: readonly T[]): T => xs[randomInt(xs.length)];

function row(i: number): (string | number)[] {
  const first = pick(FIRST);
  const last = pick(LAST);
  const day = new Date(Date.UTC(2019, 0, 1) + randomInt(6 * 365) * 86_400_000).toISOString().slice(0, 10);
  return [
    100_000 + i * 7 + randomInt(7),
    first,
    last,
    `${first}.${last}${randomInt(100)}@${pick(DOMAINS)}`.toLowerCase(),
    pick(COUNTRIES),
    day,
    (randomInt(2_000_000) / 100).toFixed(2),
  ];
}

const csvCell = (v: string | number) => (typeof v === "string" && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));

/** `rows` rows (plus a header line for CSV), ~1,000 rows per chunk. */
export async function* fakeRows(rows: number, format: "csv" | "jsonl"): AsyncGenerator<Buffer> {
  let out = format === "csv" ? COLUMNS.join(",") + "\n" : "";
  for (let i = 0; i < rows; i++) {
    const r = row(i);
    out +=
      format === "csv"
        ? r.map(csvCell).join(",") + "\n"
        : JSON.stringify(Object.fromEntries(COLUMNS.map((c, j) => [c, c === "customer_id" ? r[j] : String(r[j])]))) + "\n";
    if ((i + 1) % 1000 === 0) {
      yield Buffer.from(out, "utf8");
      out = "";
    }
  }
  if (out) yield Buffer.from(out, "utf8");
}
