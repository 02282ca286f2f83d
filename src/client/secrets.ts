/**
 * The secret store of the key service (docs/secrets.md "Through the key service"): the same
 * operations as the local `SecretStore`, over the API. A value read is a fresh Buffer the
 * caller owns and wipes; the base64 text it arrived in cannot be wiped (a JavaScript string),
 * which is why `pipeseal run` reads each value once, hands it to the child and wipes it.
 */
import type { SecretInfo } from "../secrets/info.js";
import type { ReadOptions, SecretSource, SecretValue } from "../secrets/store.js";
import type { KeyServiceClient } from "./http.js";

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");

export class RemoteSecrets implements SecretSource {
  constructor(private readonly client: KeyServiceClient) {}

  /** A new primary version (`rotate`: of an existing secret). Needs `secret.write`. */
  set(name: string, value: Uint8Array, mode: "set" | "rotate" = "set"): Promise<SecretInfo> {
    return this.client.call("POST", "/v1/secrets/set", { name, value: b64(value), mode });
  }

  /** Needs `secret.read` (never held by a key administrator); audited with `options.for` and this process's pid, as a local read is. */
  async read(name: string, options: ReadOptions): Promise<SecretValue> {
    const r = await this.client.call<{ name: string; version: number; value: string }>("POST", "/v1/secrets/read", {
      name,
      ...(options.version !== undefined ? { version: options.version } : {}),
      for: options.for.slice(0, 200) || "unspecified",
      pid: process.pid,
    });
    return { name: r.name, version: r.version, value: Buffer.from(r.value, "base64") };
  }

  /** Metadata of the secrets in namespaces the caller may read or write. Needs `secret.list`. */
  async list(): Promise<SecretInfo[]> {
    return (await this.client.call<{ secrets: SecretInfo[] }>("GET", "/v1/secrets")).secrets;
  }

  /** Disables, enables or destroys (crypto-shreds) a version; `"all"` destroys every version. Needs `secret.write`. */
  change(name: string, change: "disable" | "enable" | "destroy", version: number | "all"): Promise<SecretInfo> {
    return this.client.call("POST", "/v1/secrets/state", { name, change, ...(version === "all" ? { all: true } : { version }) });
  }

  show(name: string): Promise<SecretInfo> {
    return this.client.call("POST", "/v1/secrets/show", { name });
  }
}
