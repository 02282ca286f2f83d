#!/usr/bin/env node
// Deterministic generator of the labelled redaction corpus (test/corpus/redact/).
// Every value is synthetic (seeded PRNG): none was ever a real credential or person.
// Usage: node test/corpus/generate.mjs [--seed N] [--out DIR] [--scale K]
// Output: app.log, events.jsonl, source files, and labels.json with the exact UTF-16 span
// [start, end) of every planted PII/secret per file. Look-alikes (UUIDs, hashes, versions,
// random ids, documented test cards, base64 images, timestamps …) are planted unlabelled:
// any finding on them is a false positive.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const SEED = Number(opt("--seed", 20240601));
const OUT = opt("--out", join(HERE, "redact"));
const SCALE = Number(opt("--scale", 1));

// ---------------------------------------------------------------- PRNG (mulberry32)
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export function makeRandom(seed) {
  const r = prng(seed);
  const int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const str = (n, alphabet) => Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join("");
  return { r, int, pick, str };
}
const R = makeRandom(SEED);
const { int, pick, str } = R;
const DIG = "0123456789";
const LOW = "abcdefghijklmnopqrstuvwxyz";
const UP = LOW.toUpperCase();
const ALNUM = LOW + UP + DIG;
const HEX = "0123456789abcdef";
const B64 = ALNUM + "+/";
const B32 = UP + "234567";

/** A random string over `alphabet` that holds at least one lower, upper and digit. */
function mixed(n, alphabet = ALNUM) {
  const needDigit = /\d/.test(alphabet);
  for (;;) {
    const s = str(n, alphabet);
    if (/[a-z]/.test(s) && /[A-Z]/.test(s) && (!needDigit || /\d/.test(s))) return s;
  }
}

// ---------------------------------------------------------------- valid values
function luhnDigit(body) {
  let sum = 0;
  let dbl = true;
  for (let i = body.length - 1; i >= 0; i--) {
    let d = body.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return String((10 - (sum % 10)) % 10);
}
const FIRST = ["alice", "bob", "carol", "dmitri", "eve", "farah", "gustavo", "hana", "ivan", "jun", "kofi", "lena", "mateo", "nia", "oskar", "priya"];
const LAST = ["smith", "garcia", "nguyen", "okafor", "muller", "rossi", "tanaka", "kowalski", "silva", "haddad", "johansson", "patel"];
const DOMAINS = ["example.org", "mail.example.com", "corp.example.net", "uni.example.edu", "example.co.uk", "acme-labs.example.io"];
const gen = {
  email: () => `${pick(FIRST)}${pick([".", "_", "", "+ml."])}${pick(LAST)}${pick(["", String(int(1, 99))])}@${pick(DOMAINS)}`,
  phone: () => {
    const nxx = () => `${int(2, 9)}${str(2, DIG)}`;
    return pick([
      () => `+1 ${nxx()}-${nxx()}-${str(4, DIG)}`,
      () => `+1${nxx()}${nxx()}${str(4, DIG)}`,
      () => `(${nxx()}) ${nxx()}-${str(4, DIG)}`,
      () => `${nxx()}-${nxx()}-${str(4, DIG)}`,
      () => `+44 7700 ${str(6, DIG)}`,
      () => `+49 30 ${str(8, DIG)}`,
      () => `+33 6 ${str(2, DIG)} ${str(2, DIG)} ${str(2, DIG)} ${str(2, DIG)}`,
    ])();
  },
  card: () => {
    const [prefix, len] = pick([
      ["4", 16],
      ["51", 16],
      ["55", 16],
      ["2221", 16],
      ["34", 15],
      ["37", 15],
      ["6011", 16],
      ["3530", 16],
      ["4", 19],
    ]);
    let body = prefix + str(len - prefix.length - 1, DIG);
    const d = body + luhnDigit(body);
    if (len === 16 && R.r() < 0.5) return d.match(/.{4}/g).join(pick([" ", "-"]));
    if (len === 15 && R.r() < 0.5) return `${d.slice(0, 4)} ${d.slice(4, 10)} ${d.slice(10)}`;
    return d;
  },
  iban: () => {
    const [cc, bban] = pick([
      ["DE", () => str(18, DIG)],
      ["GB", () => str(4, UP) + str(14, DIG)],
      ["FR", () => str(23, DIG)],
      ["NL", () => str(4, UP) + str(10, DIG)],
      ["ES", () => str(20, DIG)],
    ]);
    const b = bban();
    const num = (b + cc + "00").replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
    let rem = 0;
    for (const ch of num) rem = (rem * 10 + Number(ch)) % 97;
    const iban = cc + String(98 - rem).padStart(2, "0") + b;
    return R.r() < 0.5 ? iban.match(/.{1,4}/g).join(" ") : iban;
  },
  ssn: () => {
    let area;
    do area = int(1, 899);
    while (area === 666);
    return `${String(area).padStart(3, "0")}-${String(int(1, 99)).padStart(2, "0")}-${String(int(1, 9999)).padStart(4, "0")}`;
  },
  ipv4: () =>
    pick([
      () => `${int(11, 99)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`,
      () => `10.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`,
      () => `192.168.${int(0, 255)}.${int(1, 254)}`,
      () => `${int(100, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`,
    ])(),
  ipv6: () =>
    pick([
      () => `2001:db8:${str(4, HEX)}:${str(3, HEX)}::${str(4, HEX)}`,
      () => `2a02:${str(4, HEX)}:${str(4, HEX)}:${str(4, HEX)}:${str(4, HEX)}:${str(4, HEX)}:${str(4, HEX)}:${str(4, HEX)}`,
    ])(),
  dob: () => {
    const y = int(1940, 2005),
      m = int(1, 12),
      d = int(1, 28);
    const M = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"][m - 1];
    return pick([
      `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`,
      `${String(d).padStart(2, "0")}/${String(m).padStart(2, "0")}/${y}`,
      `${M} ${d}, ${y}`,
      `${d} ${M.slice(0, 3)} ${y}`,
    ]);
  },
  awsId: () => pick(["AKIA", "ASIA"]) + str(16, B32),
  awsSecret: () => mixed(40, B64),
  github: () => (R.r() < 0.8 ? `${pick(["ghp", "gho", "ghu", "ghs", "ghr"])}_${mixed(36)}` : `github_pat_${mixed(22)}_${mixed(59)}`),
  gitlab: () => `glpat-${mixed(20, ALNUM + "_-")}`,
  slack: () => `xox${pick(["b", "p", "a", "r"])}-${str(12, DIG)}-${str(13, DIG)}-${mixed(24)}`,
  slackHook: () => `https://hooks.slack.com/services/T${str(8, UP + DIG)}/B${str(8, UP + DIG)}/${mixed(24)}`,
  stripe: () => `${pick(["sk", "rk"])}_live_${mixed(int(24, 99))}`,
  google: () => `AIza${mixed(35, ALNUM + "_-")}`,
  openai: () => (R.r() < 0.5 ? `sk-proj-${mixed(int(48, 120), ALNUM + "_-")}` : `sk-${mixed(20)}T3BlbkFJ${mixed(20)}`),
  anthropic: () => `sk-ant-api03-${mixed(93, ALNUM + "_-")}AA`,
  hf: () => `hf_${mixed(34, LOW + UP)}`,
  jwt: () => {
    const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
    return `${enc({ alg: pick(["HS256", "RS256", "ES256"]), typ: "JWT" })}.${enc({ sub: str(10, DIG), iat: int(1.6e9, 1.8e9), scope: pick(["read", "write admin"]) })}.${str(43, ALNUM + "_-")}`;
  },
  pem: (nl = "\n") => {
    const label = pick(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"]);
    const body = Array.from({ length: int(3, 6) }, () => str(64, B64)).join(nl);
    return `-----BEGIN ${label}-----${nl}${body}${nl}-----END ${label}-----`;
  },
  /** URL user-info passwords: RFC 3986 unreserved and sub-delims that need no escaping. */
  password: () => mixed(int(10, 18), ALNUM + "!*_-~."),
  kvPassword: () => mixed(int(10, 18), ALNUM + "!#%&*_-"),
  apiKey: () => mixed(int(24, 40)),
};

// ---------------------------------------------------------------- look-alikes (never labelled)
const look = {
  uuid: () => `${str(8, HEX)}-${str(4, HEX)}-4${str(3, HEX)}-${pick(["8", "9", "a", "b"])}${str(3, HEX)}-${str(12, HEX)}`,
  sha1: () => str(40, HEX),
  sha256: () => str(64, HEX),
  version: () =>
    pick([
      `version: ${int(1, 9)}.${int(0, 20)}.${int(0, 9)}.${int(0, 99)}`,
      `v${int(1, 3)}.${int(0, 30)}.${int(0, 9)}`,
      `"version":"${int(1, 4)}.${int(0, 9)}.${int(0, 9)}.${int(0, 9)}"`,
      `torch==${int(1, 2)}.${int(0, 9)}.${int(0, 9)}`,
    ]),
  id: () =>
    pick([`req_${mixed(22)}`, `order ${str(10, DIG)}`, `trace_id=${str(32, HEX)}`, `span=${str(16, HEX)}`, `job-${str(6, DIG)}`, `run_${int(1000, 99999)}`]),
  testCard: () => pick(["4242 4242 4242 4242", "4111 1111 1111 1111", "5555555555554444", "378282246310005", "4000056655665556"]),
  image: () => `data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA${Buffer.from(Array.from({ length: 120 }, () => int(0, 255))).toString("base64")}`,
  timestamp: () =>
    `2024-${String(int(1, 12)).padStart(2, "0")}-${String(int(1, 28)).padStart(2, "0")}T${String(int(0, 23)).padStart(2, "0")}:${String(int(0, 59)).padStart(2, "0")}:${String(int(0, 59)).padStart(2, "0")}.${str(3, DIG)}Z`,
  docsKey: () =>
    pick(["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "sk_test_xxxxxxxxxxxxxxxxxxxxxxxx", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]),
  loopback: () => pick(["127.0.0.1", "0.0.0.0", "::1"]),
  duration: () => `${int(1, 999)}ms p99=${int(1, 99)}.${str(2, DIG)}s`,
  placeholder: () =>
    pick(["password=${DB_PASSWORD}", 'api_key = os.environ["API_KEY"]', "postgres://app:****@db:5432/x", "token: <your-token-here>", "secret: changeme"]),
  mac: () => Array.from({ length: 6 }, () => str(2, HEX)).join(":"),
  semver: () => `${pick(["react", "numpy", "@types/node"])}@${int(0, 20)}.${int(0, 20)}.${int(0, 20)}`,
  numbers: () => `epoch=${int(1, 999)} loss=${int(0, 9)}.${str(4, DIG)} step=${int(1, 99999)} lr=${int(1, 9)}e-${int(3, 6)}`,
  hexKey: () => `cache_key=${str(32, HEX)}`,
  tokenCount: () => `max_tokens=${int(16, 8192)} tokens_used: ${int(10, 99999)}`,
};

// ---------------------------------------------------------------- file builder with spans
class Doc {
  constructor() {
    this.parts = [];
    this.len = 0;
    this.labels = [];
  }
  text(s) {
    this.parts.push(s);
    this.len += s.length;
    return this;
  }
  /** A planted value; `raw` is how it appears (escaped/encoded) when it differs from `value`. */
  pii(detector, raw) {
    this.labels.push({ detector, start: this.len, end: this.len + raw.length });
    return this.text(raw);
  }
  toString() {
    return this.parts.join("");
  }
}
/** Planted value: [detector, raw text]. */
const P = (detector, raw) => ({ detector, raw });
function line(doc, ...parts) {
  for (const p of parts) typeof p === "string" ? doc.text(p) : doc.pii(p.detector, p.raw);
  doc.text("\n");
}
/** JSON string contents: plain parts escaped as JSON.stringify would, planted parts escaped too (span = escaped form). */
const jesc = (s) => JSON.stringify(s).slice(1, -1);
function jsonLine(doc, fields) {
  doc.text("{");
  fields.forEach(([k, v], i) => {
    if (i > 0) doc.text(",");
    doc.text(`${JSON.stringify(k)}:`);
    if (typeof v === "number") return doc.text(String(v));
    doc.text('"');
    for (const p of Array.isArray(v) ? v : [v])
      typeof p === "string" ? doc.text(jesc(p)) : p.escaped ? doc.pii(p.detector, p.raw) : doc.pii(p.detector, jesc(p.raw));
    doc.text('"');
  });
  doc.text("}\n");
}

// One planted value per detector id, with the text around it that a log would have.
const PLANTS = {
  email: () => ["user ", P("email", gen.email()), " signed in"],
  phone: () =>
    pick([
      ["callback requested to ", P("phone", gen.phone())],
      ["phone: ", P("phone", gen.phone())],
      ["sms sent to ", P("phone", gen.phone())],
    ]),
  "credit-card": () => ["charge failed for card ", P("credit-card", gen.card()), " (declined)"],
  iban: () => ["payout to ", P("iban", gen.iban()), " queued"],
  "us-ssn": () =>
    pick([
      ["ssn=", P("us-ssn", gen.ssn())],
      ["applicant SSN ", P("us-ssn", gen.ssn()), " verified"],
    ]),
  "ip-address": () =>
    pick([
      ["client ", P("ip-address", gen.ipv4()), " connected"],
      ["peer ", P("ip-address", gen.ipv6()), " handshake ok"],
      ["remote_addr=", P("ip-address", gen.ipv4())],
    ]),
  "date-of-birth": () =>
    pick([
      ["dob: ", P("date-of-birth", gen.dob())],
      ["date of birth ", P("date-of-birth", gen.dob()), " on file"],
      ["patient born ", P("date-of-birth", gen.dob())],
    ]),
  "aws-access-key-id": () => ["using access key ", P("aws-access-key-id", gen.awsId())],
  "aws-secret-access-key": () =>
    pick([
      ["aws_secret_access_key=", P("aws-secret-access-key", gen.awsSecret())],
      ["AWS secret ", P("aws-secret-access-key", gen.awsSecret())],
    ]),
  "github-token": () => ["push with token ", P("github-token", gen.github())],
  "gitlab-token": () => ["clone https://oauth2:", P("gitlab-token", gen.gitlab()), "@gitlab.example.com/ml/repo.git"],
  "slack-token": () => ["slack client init ", P("slack-token", gen.slack())],
  "slack-webhook": () => ["alert posted to ", P("slack-webhook", gen.slackHook())],
  "stripe-key": () => ["stripe.api_key set: ", P("stripe-key", gen.stripe())],
  "google-api-key": () => ["maps request key=", P("google-api-key", gen.google()), " status=200"],
  "openai-key": () => ["llm provider=openai key ", P("openai-key", gen.openai())],
  "anthropic-key": () => ["llm provider=anthropic key ", P("anthropic-key", gen.anthropic())],
  "huggingface-token": () => ["hub login ", P("huggingface-token", gen.hf())],
  jwt: () => ["Authorization: Bearer ", P("jwt", gen.jwt())],
  "connection-string-password": () => {
    const user = pick(["app", "etl", "ml_reader", "admin"]);
    return pick([
      [`connecting to postgres://${user}:`, P("connection-string-password", gen.password()), `@db-${int(1, 9)}.internal:5432/features`],
      [`mongodb+srv://${user}:`, P("connection-string-password", gen.password()), "@cluster0.example.net/train"],
      [`conn="Server=sql.internal;User Id=${user};Password=`, P("connection-string-password", gen.kvPassword()), ';Database=ml"'],
    ]);
  },
  "generic-secret": () =>
    pick([
      ["config loaded api_key=", P("generic-secret", gen.apiKey())],
      ['client_secret: "', P("generic-secret", gen.apiKey()), '"'],
      ["DB_PASSWORD=", P("generic-secret", gen.password())],
      ["webhook_secret=", P("generic-secret", gen.apiKey())],
    ]),
};
const LOOKS = Object.values(look);
const LEVELS = ["INFO", "WARN", "DEBUG", "ERROR"];
const SERVICES = ["ingest", "featurizer", "trainer", "registry", "gateway", "retriever"];

function logFile(n) {
  const doc = new Doc();
  const ids = Object.keys(PLANTS);
  for (let i = 0; i < n; i++) {
    const head = `${look.timestamp()} ${pick(LEVELS)} [${pick(SERVICES)}] `;
    const k = i % 3;
    if (k === 0) line(doc, head, ...PLANTS[ids[((i / 3) % ids.length) | 0]](), " ", pick(LOOKS)());
    else if (k === 1) line(doc, head, pick(LOOKS)(), " ", pick(LOOKS)(), " ", pick(LOOKS)());
    else {
      // encodings: URL-encoded e-mail, base64 of a secret-bearing string, a plain second plant
      const e = int(0, 3);
      if (e === 0) {
        const v = gen.email();
        line(doc, head, "GET /api/users?email=", P("email", encodeURIComponent(v)), "&page=2 200");
      } else if (e === 1) {
        const v = `password: ${gen.password()}`;
        line(
          doc,
          head,
          "basic-auth blob ",
          P("connection-string-password", Buffer.from(`postgres://svc:${gen.password()}@db:5432/x`).toString("base64")),
          " ",
          pick(LOOKS)(),
        );
        void v;
      } else if (e === 2) line(doc, head, "payload=", P("email", Buffer.from(`{"email":"${gen.email()}"}`).toString("base64")), " ", look.uuid());
      else line(doc, head, ...PLANTS[pick(ids)](), " id=", look.uuid());
    }
  }
  return doc;
}

function jsonFile(n) {
  const doc = new Doc();
  const ids = Object.keys(PLANTS);
  for (let i = 0; i < n; i++) {
    const base = [
      ["ts", look.timestamp()],
      ["level", pick(["info", "warn", "error"])],
      ["svc", pick(SERVICES)],
    ];
    const k = i % 4;
    const plant = PLANTS[ids[((i / 4) % ids.length) | 0]]();
    if (k === 0) jsonLine(doc, [...base, ["msg", plant], ["req", look.uuid()], ["latency_ms", int(1, 900)]]);
    else if (k === 1)
      jsonLine(doc, [...base, ["msg", pick(LOOKS)()], ["commit", look.sha1()], ["model", `resnet-${int(18, 152)}`], ["digest", `sha256:${look.sha256()}`]]);
    else if (k === 2) {
      // escaped quotes around a planted value, and \u0040 inside an address
      const e = gen.email();
      jsonLine(doc, [
        ...base,
        ["msg", ['prompt: "my email is ', P("email", e), '" please reset']],
        ["user_email", { detector: "email", raw: e.replace("@", "\\u0040"), escaped: true }],
      ]);
    } else
      jsonLine(doc, [
        ...base,
        ["event", "completion"],
        ["output", ["model said: ", ...plant]],
        ["tokens", int(10, 4000)],
        ["card_last4", String(int(1000, 9999))],
      ]);
  }
  // a private key pasted into a JSON log message (escaped newlines)
  for (let i = 0; i < 4 * SCALE; i++)
    jsonLine(doc, [
      ["ts", look.timestamp()],
      ["level", "error"],
      ["msg", ["bad key file: ", P("private-key", gen.pem())]],
    ]);
  return doc;
}

function pythonFile() {
  const doc = new Doc();
  line(doc, "import os");
  line(doc, "from transformers import AutoTokenizer");
  line(doc, "");
  line(doc, 'MODEL_ID = "org/model-', look.sha1().slice(0, 7), '"  # pinned at ', look.sha1());
  line(doc, 'OPENAI_API_KEY = "', P("openai-key", gen.openai()), '"');
  line(doc, 'HF_TOKEN = "', P("huggingface-token", gen.hf()), '"');
  line(doc, 'api_key = "', P("generic-secret", gen.apiKey()), '"');
  line(doc, 'fallback_key = os.environ.get("API_KEY")');
  line(doc, "tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)");
  line(doc, 'DB_URL = "postgresql://trainer:', P("connection-string-password", gen.password()), '@10.0.0.12:5432/features"');
  line(doc, 'RUN_ID = "', look.uuid(), '"');
  line(doc, 'NOTIFY = "', P("email", gen.email()), '"');
  line(doc, `# docs: test with card ${look.testCard()} and key AKIAIOSFODNN7EXAMPLE`);
  line(doc, 'PRIVATE_KEY = """', P("private-key", gen.pem()), '"""');
  line(doc, `__version__ = "${int(0, 3)}.${int(0, 20)}.${int(0, 9)}"`);
  return doc;
}

function tsFile() {
  const doc = new Doc();
  line(doc, 'import Stripe from "stripe";');
  line(doc, 'const stripe = new Stripe("', P("stripe-key", gen.stripe()), '");');
  line(doc, 'const slack = new WebClient("', P("slack-token", gen.slack()), '");');
  line(doc, 'const GOOGLE_KEY = "', P("google-api-key", gen.google()), '";');
  line(doc, 'export const anthropic = new Anthropic({ apiKey: "', P("anthropic-key", gen.anthropic()), '" });');
  line(doc, "const token = process.env.GITHUB_TOKEN;");
  line(doc, 'const gh = "', P("github-token", gen.github()), '";');
  line(doc, `const buildId = "${look.uuid()}"; // ${look.version()}`);
  line(doc, 'const headers = { authorization: "Bearer ', P("jwt", gen.jwt()), '" };');
  line(doc, `const sample = "${look.image()}";`);
  return doc;
}

function envFile() {
  const doc = new Doc();
  line(doc, "# service configuration");
  line(doc, "AWS_ACCESS_KEY_ID=", P("aws-access-key-id", gen.awsId()));
  line(doc, "AWS_SECRET_ACCESS_KEY=", P("aws-secret-access-key", gen.awsSecret()));
  line(doc, "GITLAB_TOKEN=", P("gitlab-token", gen.gitlab()));
  line(doc, "SLACK_WEBHOOK_URL=", P("slack-webhook", gen.slackHook()));
  line(doc, "SESSION_SECRET=", P("generic-secret", gen.apiKey()));
  line(doc, "DATABASE_URL=mysql://root:", P("connection-string-password", gen.password()), "@127.0.0.1:3306/app");
  line(doc, "LOG_LEVEL=info");
  line(doc, "MAX_TOKENS=4096");
  line(doc, "FEATURE_FLAGS_SHA=", look.sha256());
  line(doc, "SUPPORT_PHONE=", P("phone", `+1 ${int(2, 9)}${str(2, DIG)}-${int(2, 9)}${str(2, DIG)}-${str(4, DIG)}`));
  line(doc, "API_KEY=${VAULT_API_KEY}");
  return doc;
}

function yamlFile() {
  const doc = new Doc();
  line(doc, "pipeline:");
  line(doc, `  version: ${int(1, 9)}.${int(0, 9)}.${int(0, 9)}.${int(0, 9)}`);
  line(doc, `  image: registry.example.com/trainer@sha256:${look.sha256()}`);
  line(doc, "  owner: ", P("email", gen.email()));
  line(doc, "  db:");
  line(doc, "    host: ", P("ip-address", gen.ipv4()));
  line(doc, "    password: ", P("generic-secret", gen.password()));
  line(doc, "  payouts:");
  line(doc, "    iban: ", P("iban", gen.iban()));
  line(doc, "  tokens:");
  line(doc, "    max_tokens: 2048");
  line(doc, "    hf_token: ", P("huggingface-token", gen.hf()));
  line(doc, `  run_id: ${look.uuid()}`);
  return doc;
}

const docs = {};
docs["app.log"] = logFile(Math.round(1200 * SCALE));
docs["events.jsonl"] = jsonFile(Math.round(1000 * SCALE));
for (let i = 0; i < 6 * SCALE; i++) {
  docs[`src/train_${i}.py`] = pythonFile();
  docs[`src/client_${i}.ts`] = tsFile();
  docs[`config/service_${i}.env`] = envFile();
  docs[`config/pipeline_${i}.yaml`] = yamlFile();
}

mkdirSync(OUT, { recursive: true });
const labels = { seed: SEED, generator: "test/corpus/generate.mjs", files: {} };
for (const [name, doc] of Object.entries(docs)) {
  const text = doc.toString();
  for (const l of doc.labels) if (l.end > text.length) throw new Error("label out of range");
  mkdirSync(dirname(join(OUT, name)), { recursive: true });
  writeFileSync(join(OUT, name), text);
  labels.files[name] = doc.labels;
}
writeFileSync(join(OUT, "labels.json"), JSON.stringify(labels, null, 1) + "\n");
const counts = {};
for (const ls of Object.values(labels.files)) for (const l of ls) counts[l.detector] = (counts[l.detector] ?? 0) + 1;
process.stderr.write(
  `corpus: ${Object.keys(docs).length} files, ${Object.values(counts).reduce((a, b) => a + b, 0)} labels -> ${OUT}\n${JSON.stringify(counts)}\n`,
);
