/** The key service API over real mTLS on the SQLite store. */
import { apiSuite } from "./api-suite.js";
import { startHarness } from "./api-harness.js";

apiSuite("sqlite", () => startHarness());
