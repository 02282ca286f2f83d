/**
 * The sinks of `monitor run` against real endpoints on 127.0.0.1: a webhook over real mTLS
 * (down and coming back, across a monitor restart; an impostor server from our own CA is
 * refused; a full queue is an alert and exit 1, and nothing is lost), and syslog RFC 5424
 * over a real UDP and a real TCP socket.
 */
import { createSocket } from "node:dgram";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Server as HttpsServer } from "node:https";
import { createServer, type AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createMtlsServer, type MtlsServer } from "../../src/pki/mtls/index.js";
import { issueLeaf, makeCa, type TestCert } from "../helpers/certs.js";
import { tempDir } from "../helpers/keystore.js";
import { alertLines, keystoreHome, startMonitor, useKey, waitFor } from "./live-helpers.js";

const SINK_ID = "spiffe://acme/prod/alerts";
const MONITOR_ID = "spiffe://acme/prod/monitor";
let ca: TestCert;
let dir: string;
const servers: MtlsServer<HttpsServer>[] = [];

function certDir(name: string, leaf: TestCert): string {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, "cert.pem"), `${leaf.certPem}\n${ca.certPem}\n`);
  writeFileSync(path.join(d, "key.pem"), leaf.keyPem, { mode: 0o600 });
  writeFileSync(path.join(d, "ca.pem"), ca.certPem);
  return d;
}

/** An mTLS webhook receiver: collects the alerts POSTed by an allowed client. */
async function receiver(serverCerts: string, port = 0) {
  const got: { alert: Record<string, any>; peer: string }[] = [];
  const srv = createMtlsServer({ certDir: serverCerts, allow: [MONITOR_ID] }, (req, res, peer) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      got.push({ alert: JSON.parse(body), peer: peer.spiffeId });
      res.statusCode = 204;
      res.end();
    });
  }) as MtlsServer<HttpsServer>;
  const rejected: string[] = [];
  srv.on("peerRejected", (e) => rejected.push(e.reason));
  const addr = await srv.listen(port, "127.0.0.1");
  servers.push(srv);
  return {
    got,
    rejected,
    port: addr.port,
    down: async () => {
      srv.server.closeAllConnections();
      await srv.close();
    },
  };
}

let serverCerts: string;
let impostorCerts: string;
let clientCerts: string;

beforeAll(async () => {
  dir = tempDir("pipeseal-sinks-");
  ca = await makeCa("acme test root");
  serverCerts = certDir("server", await issueLeaf(ca, { spiffe: SINK_ID, ip: ["127.0.0.1"] }));
  impostorCerts = certDir("impostor", await issueLeaf(ca, { spiffe: "spiffe://acme/prod/not-the-alerts-service", ip: ["127.0.0.1"] }));
  clientCerts = certDir("client", await issueLeaf(ca, { spiffe: MONITOR_ID, client: true, server: false }));
});
afterAll(async () => {
  for (const s of servers) {
    s.server.closeAllConnections();
    await s.close().catch(() => undefined);
  }
});

const webhookYaml = (home: string, port: number, maxAlerts = 100) => {
  const file = path.join(home, "monitor.yaml");
  writeFileSync(
    file,
    `version: 1\nhoneytokens:\n  keys: ["prod/canary/*"]\nstate:\n  file: state.pseal\nsinks:\n  - kind: file\n    path: alerts.jsonl\n  - kind: webhook\n    url: https://127.0.0.1:${port}/alerts\n    certDir: ${clientCerts}\n    expect: ["${SINK_ID}"]\n    queue:\n      file: webhook-queue.pseal\n      maxAlerts: ${maxAlerts}\n`,
  );
  return file;
};

describe("webhook sink over real mTLS", { timeout: 240_000 }, () => {
  test("delivers; while the receiver is down alerts wait in the sealed queue, across a monitor restart, and arrive once it is back", async () => {
    const home = keystoreHome(["prod/canary/a"]);
    let rx = await receiver(serverCerts);
    const port = rx.port;
    const cfg = webhookYaml(home.dir, port);
    const mon = startMonitor(home, ["--config", cfg]);
    try {
      useKey(home, "prod/canary/a", "alice");
      await waitFor("alice at the webhook", () => rx.got.some((g) => g.alert.principal === "alice"));
      expect(rx.got[0]).toMatchObject({ peer: MONITOR_ID, alert: { schema: "pipeseal.alert.v1", detection: "honeytoken", severity: "critical" } });

      await rx.down();
      useKey(home, "prod/canary/a", "bob");
      await waitFor("bob in the file sink", () => alertLines(path.join(home.dir, "alerts.jsonl")).some((a) => a.principal === "bob"));
      const queue = path.join(home.dir, "webhook-queue.pseal");
      await waitFor("the queue file", () => existsSync(queue) && readFileSync(queue).length > 0);
      await waitFor("a retry notice", () => mon.stderr().includes("retrying"));
      const sealed = readFileSync(queue);
      for (const clear of ["bob", "honeytoken", "pipeseal.alert.v1"]) expect(sealed.includes(Buffer.from(clear))).toBe(false);
      expect(await mon.stop()).toBe(0); // stopped with the sink down: the queue stays on disk
    } finally {
      mon.child.kill("SIGKILL");
    }
    rx = await receiver(serverCerts, port);
    const again = startMonitor(home, ["--config", cfg]);
    try {
      await waitFor("bob at the webhook after the restart", () => rx.got.some((g) => g.alert.principal === "bob"), 30_000);
      useKey(home, "prod/canary/a", "carol");
      await waitFor("carol at the webhook", () => rx.got.some((g) => g.alert.principal === "carol"));
      expect(await again.stop()).toBe(0);
    } finally {
      again.child.kill("SIGKILL");
    }
    expect(
      rx.got
        .filter((g) => g.alert.state === "open")
        .map((g) => g.alert.principal)
        .sort(),
    ).toEqual(["bob", "carol"]);
    await rx.down();
  });

  test("an impostor server (our CA, another identity) gets nothing; a full queue is a sink-queue-full alert on the other sinks and exit 1; nothing is lost", async () => {
    const home = keystoreHome(["prod/canary/a"]);
    const impostor = await receiver(impostorCerts);
    const port = impostor.port;
    const cfg = webhookYaml(home.dir, port, 1);
    useKey(home, "prod/canary/a", "alice");
    useKey(home, "prod/canary/a", "bob");
    // spawned, not spawnSync: the receivers run in this process and must keep answering
    const first = startMonitor(home, ["--config", cfg, "--once"]);
    const r = { status: await first.exited, stderr: first.stderr() };
    expect(r.status).toBe(1);
    // the client refuses the impostor in the handshake (its SPIFFE ID is not `expect`): no alert reaches it
    expect(r.stderr).toContain("certificate rejected (identity-not-allowed, by us): server identity spiffe://acme/prod/not-the-alerts-service is not expected");
    expect(r.stderr).toMatch(
      /pipeseal: the webhook https:\/\/127\.0\.0\.1:\d+\/alerts is not taking alerts and its queue holds 1 \(queue\.maxAlerts\); alert al_[0-9a-f]{24} was not queued \[MONITOR_QUEUE_FULL\]\n$/,
    );
    expect(impostor.got).toEqual([]);
    const file = alertLines(path.join(home.dir, "alerts.jsonl"));
    const full = file.find((a) => a.detection === "sink-queue-full");
    expect(full).toMatchObject({ severity: "critical", principal: `webhook https://127.0.0.1:${port}/alerts` });
    expect(
      file
        .filter((a) => a.detection === "honeytoken")
        .map((a) => a.principal)
        .sort(),
    ).toEqual(["alice", "bob"]);
    await impostor.down();

    const rx = await receiver(serverCerts, port);
    const second = startMonitor(home, ["--config", cfg, "--once"]);
    expect(await second.exited).toBe(0);
    expect(second.stderr()).not.toContain("retrying");
    // the file sink had taken everything: the restart owes it nothing (per-sink watermarks)
    expect(alertLines(path.join(home.dir, "alerts.jsonl"))).toHaveLength(file.length);
    await waitFor("everything at the real webhook", () => rx.got.length >= 3);
    expect(rx.got.map((g) => `${g.alert.detection}:${g.alert.principal}`).sort()).toEqual([
      "honeytoken:alice",
      "honeytoken:bob",
      `sink-queue-full:webhook https://127.0.0.1:${port}/alerts`,
    ]);
    await rx.down();
  });
});

describe("syslog sink (RFC 5424)", { timeout: 120_000 }, () => {
  test("over a real UDP socket and a real TCP socket (octet counting); structured data escaped", async () => {
    const udp = createSocket("udp4");
    const datagrams: string[] = [];
    udp.on("message", (m) => datagrams.push(m.toString("utf8")));
    await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r));
    let tcpData = "";
    const tcp = createServer((s) => s.on("data", (d) => (tcpData += d.toString("utf8"))));
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    try {
      const home = keystoreHome(["prod/canary/a"]);
      const cfg = path.join(home.dir, "monitor.yaml");
      writeFileSync(
        cfg,
        `version: 1\nhoneytokens:\n  keys: ["prod/canary/*"]\nstate:\n  file: state.pseal\nsinks:\n  - kind: syslog\n    host: 127.0.0.1\n    port: ${udp.address().port}\n    protocol: udp\n  - kind: syslog\n    host: 127.0.0.1\n    port: ${(tcp.address() as AddressInfo).port}\n    protocol: tcp\n    appName: pipeseal-mon\n`,
      );
      const evil = 'eve"] [forged@1 x="y';
      useKey(home, "prod/canary/a", evil, "eve");
      const r = home.run(["monitor", "run", "--config", cfg, "--once"]);
      expect(r.status).toBe(0);
      await waitFor("a datagram", () => datagrams.length > 0);
      await waitFor("tcp data", () => tcpData.length > 0);
      const line =
        /^<106>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ (\S+) \d+ honeytoken \[pipeseal@32473 id="al_[0-9a-f]{24}" detection="honeytoken" severity="critical" state="open" principal="eve\\"\\] \[forged@1 x=\\"y" key="prod\/canary\/a" records="1" time="[^"]+"\] \ufeff.+$/;
      expect(datagrams[0]).toMatch(line);
      expect(line.exec(datagrams[0]!)![1]).toBe("pipeseal");
      const m = /^(\d+) (.*)$/s.exec(tcpData)!;
      expect(Buffer.byteLength(m[2]!, "utf8")).toBe(Number(m[1]));
      expect(m[2]).toMatch(line);
      expect(line.exec(m[2]!)![1]).toBe("pipeseal-mon");
    } finally {
      udp.close();
      tcp.close();
    }
  });
});
