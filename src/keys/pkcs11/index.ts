/** The HSM (PKCS#11) root key of a keystore. See docs/hsm.md. */
export { Pkcs11RootKey, type Pkcs11RootInfo } from "./root-key.js";
export { DEFAULT_KEY_LABEL, type Pkcs11Location, type Pkcs11Login } from "./session.js";
export {
  PKCS11_META,
  type Pkcs11OpenOptions,
  describeKeystoreRoot,
  openPkcs11Root,
  parsePkcs11Meta,
  parseSlot,
  pkcs11LocationFromEnv,
  readPkcs11Pin,
} from "./config.js";
