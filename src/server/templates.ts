/**
 * Starting files for a key service, printed by `pipeseal serve init` and `pipeseal policy
 * init`: a commented keyservice.yaml and a policy that binds the four built-in roles with
 * separation of duties (a workload unwraps, a key admin manages keys but never unwraps, two
 * policy admins change the policy, an auditor reads and exports the audit). Both parse as
 * they are (a test keeps them so); the identities are examples to replace.
 */

export interface TemplateOptions {
  /** SPIFFE trust domain of the identities (`ca init --trust-domain`). */
  readonly trustDomain: string;
  /** The environment this service serves (the `<env>` part of identities and key names). */
  readonly env: string;
}

const id = (o: TemplateOptions, service: string) => `spiffe://${o.trustDomain}/${o.env}/${service}`;

export function keyServiceTemplate(o: TemplateOptions): string {
  return `# keyservice.yaml for \`pipeseal serve --config keyservice.yaml\` (docs/keyservice.md).
# Certificates first:  pipeseal ca init --trust-domain ${o.trustDomain}
#                      pipeseal ca issue keys --env ${o.env} --dns keys.internal --ip 127.0.0.1 --out certs/keys/
listen: { host: 127.0.0.1, port: 8443 }     # 0.0.0.0 to serve other machines
certDir: certs/keys                         # cert.pem, key.pem, ca.pem; reloaded on renewal (pipeseal ca renew --watch)
allow: ["spiffe://${o.trustDomain}/*/*"]     # identities let through the TLS gate; the policy decides the rest
keyringId: ks:keys.${o.env}                    # recorded in every sealed file's header: set it once, never change it
store: { kind: sqlite, home: .pipeseal }    # a keystore folder (pipeseal init); or:
# store: { kind: postgres, url: "postgresql://pipeseal@db.internal/keys", home: .pipeseal, create: true }
policy: policy.yaml                         # the bootstrap policy (pipeseal policy init > policy.yaml), until one is approved through the API
tokenTtl: 15m                               # longest bearer-token lifetime (at most 15m)
tokensWithoutCertificate: false             # true: a caller with no client certificate may present a bearer token alone
# tls:
#   crl: crl.pem                            # pipeseal ca crl -o crl.pem: revoked client certificates get no answer
audit:
  anchorEvery: 1h                           # signed anchors of the audit head (detect a restored older database)
  anchorDir: anchors                        # best on other storage than the database
# root:                                     # the root key in an HSM instead of master.key (docs/hsm.md)
#   pkcs11: { module: /usr/lib/softhsm/libsofthsm2.so, token: pipeseal, pinFile: /etc/pipeseal/pkcs11.pin }
`;
}

export function policyTemplate(o: TemplateOptions): string {
  return `# A starting key-service policy (docs/policy.md). Replace the example identities with yours.
# Built-in rules apply whatever this says: a key admin never unwraps, a workload never
# manages keys or policy, a proposer never approves their own change, nobody grants themselves.
version: 1
environments: [${o.env}]

groups:
  workloads: ["${id(o, "trainer")}", "${id(o, "feature-store")}"]
  key-admins: ["${id(o, "ops-alice")}"]
  policy-admins: ["${id(o, "pa-carol")}", "${id(o, "pa-dave")}"]   # two: one proposes, the other approves

bindings:
  - { group: workloads, role: workload }
  - { group: key-admins, role: key-admin }
  - { group: policy-admins, role: policy-admin }
  - { identity: "${id(o, "auditor")}", role: auditor }

rules:
  - id: workloads-use-keys
    group: workloads
    operations: [datakey.generate, unwrap, rewrap, encrypt, decrypt, sign, verify, hmac, key.show]
    keys: ["${o.env}/**"]
  - id: workloads-list
    group: workloads
    operations: [key.list, token.mint]
  - id: key-admins-manage
    group: key-admins
    operations: "*"                         # every operation of the key-admin role (never unwrap)
    keys: ["**"]
  - id: key-admins-list
    group: key-admins
    operations: [key.list, token.mint]
  - id: policy-admins
    group: policy-admins
    operations: [policy.propose, policy.approve, key.list, token.mint]
  - id: auditor
    identity: "${id(o, "auditor")}"
    operations: [audit.read, audit.export, key.list]
`;
}
