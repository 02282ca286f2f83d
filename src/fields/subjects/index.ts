/** Per-subject keys and erasure by crypto-shredding (docs/rag.md §Subjects). */
export { SubjectKeys, subjectKey, subjectKeys } from "./subject-keys.js";
export type { EraseResult, SubjectKeysOptions } from "./subject-keys.js";
export { isErased, namespaceKeyName, NAMESPACE_PATTERN, MAX_SUBJECT_ID_BYTES, MAX_PURPOSE_BYTES } from "./types.js";
export type { ErasedSubject, NamespaceSummary, SubjectKey, SubjectKeyResult, SubjectKeyring, SubjectStatus } from "./types.js";
export { parseKeyId as parseSubjectKeyId } from "./derive.js";
