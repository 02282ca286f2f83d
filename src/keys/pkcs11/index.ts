/** The HSM (PKCS#11) root key of a keystore. See docs/hsm.md. */
export { DEFAULT_KEY_LABEL, Pkcs11RootKey, type Pkcs11Location, type Pkcs11Login, type Pkcs11RootInfo } from "./root-key.js";
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
