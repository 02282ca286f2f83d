/**
 * The one place that loads @peculiar/x509: it needs the reflect-metadata polyfill first and
 * a WebCrypto provider (node's, i.e. OpenSSL).
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
