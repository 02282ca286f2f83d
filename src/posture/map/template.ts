/** The commented starting map `pipeseal posture init` prints: every stage, every store kind. */
export const MAP_TEMPLATE = `# pipeline.yaml: where data is stored, where it moves, where it is processed.
# \`pipeseal posture check pipeline.yaml\` verifies it against the real systems (docs/posture.md).
# Relative paths resolve against this file's folder. Durations: 30m, 24h, 90d, 2w.
version: 1
name: my-pipeline

# Where the keys live: a local keystore folder, or a key service (server + certDir).
keys:
  home: ./.pipeseal
  # server: https://keys.internal:8443
  # certDir: ./certs/posture      # cert.pem, key.pem, ca.pem

# Decrypted outputs (file.csv next to file.csv.pseal, *.dec) older than this are findings.
plaintextMaxAge: 24h

# classification: public | internal | confidential | pii | phi | financial | secret
# A store with \`key\` must hold only files sealed under that key (with \`context\`, if given);
# a store without \`key\` is declared unencrypted.
stages:
  ingestion:
    description: raw data arriving from sources
    compute:
      - { id: collector, kind: service, path: ./services/collector, principal: "spiffe://acme.ml/prod/collector" }
  landing:
    stores:
      - id: landing-raw
        kind: folder                  # folder | glob | s3 | postgres | logs
        path: ./data/landing
        classification: pii
        key: datasets/raw
        context: { stage: landing }
        retention: 30d
  processing:
    compute:
      - { id: etl, kind: job, path: ./jobs/etl }
  features:
    stores:
      - id: feature-table
        kind: postgres
        url: postgres://features@db.internal/features
        table: public.customer_features
        columns: [email, phone]       # must hold pipeseal field tokens (pse1:…)
        classification: pii
        key: features/customers
        retention: 180d
  training:
    stores:
      - id: training-sets
        kind: glob
        path: ./data/training/**/*.parquet.pseal
        classification: pii
        key: datasets/training
        retention: 365d
    compute:
      - { id: notebooks, kind: notebook, path: ./notebooks }
  registry:
    stores:
      - id: models
        kind: s3
        url: s3://acme-models/churn/
        classification: confidential
        key: models/churn
  inference:
    compute:
      - { id: scoring-api, kind: service, path: ./services/scoring }
  monitoring:
    stores:
      - id: inference-logs
        kind: logs
        path: ./logs/inference
        classification: pii
        key: logs/inference
        retention: 30d

# Connections data crosses: probed as real TLS endpoints (http:// is always a finding).
connections:
  - id: collector-to-landing
    from: ingestion
    to: landing
    url: https://landing.internal:8443
    mtls: true
    classification: pii
    # ca: ./certs/ca.pem
    # certDir: ./certs/collector
`;
