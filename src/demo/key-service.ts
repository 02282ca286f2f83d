/**
 * `--service`: the pipeline's data keys live in a key service on 127.0.0.1 (SQLite store in
 * `keyservice/`, the demo's policy.yaml as its bootstrap policy), started in this process the
 * way `pipeseal serve --config keyservice.yaml` starts it. Every workload reaches it over mTLS
 * with its own certificate, so the service's policy decides each request and its audit chain
 * records each one under the caller's identity.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { RemoteKeyring } from "../client/remote-keyring.js";
import { initKeystore } from "../keys/index.js";
import { loadConfig } from "../server/config.js";
import { startKeyService } from "../server/server.js";
import { type Demo, type KeyServiceLink, spiffe } from "./context.js";

/** The service's own certificate folder (server and client EKUs are issued by the keys stage). */
export const KEY_SERVICE = "keys";

function configText(d: Demo): string {
  return `# The demo's key service: \`pipeseal serve --config keyservice.yaml\` runs the same (docs/keyservice.md).
listen: { host: 127.0.0.1, port: 0 }
certDir: ${d.dir.certs(KEY_SERVICE)}
allow: ["spiffe://${d.trustDomain}/prod/*"]
store: { kind: sqlite, home: ${d.dir.keyservice} }
policy: ${path.join(d.dir.root, "policy.yaml")}
tokenTtl: 15m
`;
}

/** Starts the key service (its folder, config and store made here) and registers it, and every client opened through it, for the runner to stop. */
export async function startDemoKeyService(d: Demo): Promise<KeyServiceLink> {
  await initKeystore(d.dir.keyservice);
  const file = path.join(d.dir.root, "keyservice.yaml");
  writeFileSync(file, configText(d));
  const svc = await startKeyService(loadConfig(file));
  const clients = new Map<string, Promise<RemoteKeyring>>();
  d.started({
    name: "key service",
    url: svc.url,
    stop: async () => {
      for (const c of clients.values())
        await c.then(
          (kr) => kr.close(),
          () => undefined,
        );
      await svc.close();
    },
  });
  const expect = [spiffe(d, KEY_SERVICE)];
  return {
    url: svc.url,
    as(service) {
      let kr = clients.get(service);
      if (!kr) {
        kr = RemoteKeyring.connect({ url: svc.url, certDir: d.dir.certs(service), expect });
        kr.catch(() => clients.delete(service));
        clients.set(service, kr);
      }
      return kr;
    },
  };
}
