/** monitor.yaml's `sinks` → live sinks (the webhook's sealed queue is opened here, under the state key). */
import type { LocalKeystore } from "../../keys/keystore.js";
import type { SinkConfig } from "../config.js";
import { fileSink, stdoutSink } from "./lines.js";
import type { AlertSink } from "./sink.js";
import { syslogSink } from "./syslog.js";
import { webhookSink } from "./webhook.js";

export async function buildSinks(configs: readonly SinkConfig[], ks: LocalKeystore, stateKey: string, onNotice: (m: string) => void): Promise<AlertSink[]> {
  const sinks: AlertSink[] = [];
  try {
    for (const c of configs) {
      if (c.kind === "stdout") sinks.push(stdoutSink());
      else if (c.kind === "file") sinks.push(fileSink(c.path));
      else if (c.kind === "syslog") sinks.push(syslogSink(c));
      else
        sinks.push(
          await webhookSink({
            url: c.url,
            certDir: c.certDir,
            expect: c.expect,
            queueFile: c.queueFile,
            queueMax: c.queueMax,
            keyring: ks,
            stateKey,
            onRetry: (why, queued) => onNotice(`webhook ${c.url}: ${why}; ${queued} alert(s) queued, retrying`),
          }),
        );
    }
  } catch (e) {
    await Promise.all(sinks.map((s) => s.close().catch(() => undefined)));
    throw e;
  }
  return sinks;
}
