// Typed lint for src/ (rules that need the type checker: floating promises, unsafe any),
// plain recommended rules for tests, benches and scripts.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Node's globals for plain JavaScript (benches, scripts, test fixtures); TypeScript files get theirs from @types/node.
// tsc's own convention: `_x` is kept for its position (a parameter, `for (const _ of …)`), and `{ secret: _s, ...shown }` drops a field from a copy.
const UNUSED = { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true };

const NODE_GLOBALS = Object.fromEntries(
  [
    "process",
    "Buffer",
    "console",
    "URL",
    "URLSearchParams",
    "TextEncoder",
    "TextDecoder",
    "AbortController",
    "AbortSignal",
    "fetch",
    "performance",
    "structuredClone",
    "queueMicrotask",
    "setTimeout",
    "clearTimeout",
    "setInterval",
    "clearInterval",
    "setImmediate",
    "clearImmediate",
    "crypto",
    "WebAssembly",
    "globalThis",
  ].map((g) => [g, "readonly"]),
);

export default tseslint.config(
  // test/corpus/redact/src/: generated fixture files full of fake secrets (test/corpus/generate.mjs), data rather than code
  { ignores: ["dist/", "build/", "node_modules/", "docs/", "**/*.d.ts", "test/corpus/redact/src/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked.map((c) => ({ ...c, files: ["src/**/*.ts"] })),
  ...tseslint.configs.recommended.map((c) => ({ ...c, files: ["test/**/*.ts", "bench/**/*.ts"] })),
  {
    rules: {
      // escaping and detecting control characters is this codebase's job (printable text, scanners, terminal-injection tests): such patterns are deliberate.
      "no-control-regex": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    languageOptions: { globals: NODE_GLOBALS },
    rules: { "no-unused-vars": ["error", UNUSED] },
  },
  {
    files: ["**/*.ts"],
    rules: { "@typescript-eslint/no-unused-vars": ["error", UNUSED] },
  },
  {
    files: ["test/**/*.ts"],
    rules: {
      // tests read JSON responses and reports ad hoc; the typed rules on src/ keep `any` out of shipped code.
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    files: ["src/**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Promise-shaped APIs (Keyring, stores, sinks) have synchronous implementations (better-sqlite3); `async` keeps their throws rejections, which Promise.resolve() would not.
      "@typescript-eslint/require-await": "off",
      // as only-throw-error does by default: a caught value passed on unchanged (reject(e) in a catch) is allowed.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
    },
  },
);
