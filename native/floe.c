/*
 * pipeseal's native FLOE engine: seals and opens batches of FLOE segments with the
 * system's OpenSSL libcrypto (EVP AES-256-GCM, HMAC-SHA-384 for HKDF-Expand), on the libuv
 * thread pool (async) or on the calling thread (sync, for small random reads). Also a
 * read/write loop over file descriptors so that the CLI moves whole batches per call.
 *
 * The reference is src/crypto/floe.ts (node:crypto); test/engine/agreement.test.ts checks
 * the two give identical bytes. Spec: FLOE (c2sp.org/FLOE, Snowflake floe-specification).
 *
 * Rules (issue 19): no state between calls besides what each call is handed; every key the
 * addon holds (message key copy, derived AEAD keys) is wiped with OPENSSL_cleanse; a batch
 * is opened whole and its output wiped unless every tag verified, so JavaScript never gets
 * plaintext from a batch that failed; errors carry a stable `code`.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MSG_KEY_LEN 48  /* HKDF-EXPAND-SHA-384 PRK: the FLOE message key */
#define FLOE_IV_LEN 32
#define AEAD_KEY_LEN 32
#define AEAD_IV_LEN 12
#define AEAD_TAG_LEN 16
#define SEG_OVERHEAD (4 + AEAD_IV_LEN + AEAD_TAG_LEN)
#define NON_FINAL 0xffffffffu
#define MAX_SEGMENTS (1ULL << 40) /* FLOE AEAD_MAX_SEGMENTS for AES-GCM-256 */


/*
 * libcrypto is opened with dlopen(RTLD_LOCAL | RTLD_DEEPBIND), not linked: the node binary
 * exports its own bundled OpenSSL's symbols, and a plain -lcrypto would bind every call
 * (and libcrypto's calls into itself) to those, the slow build this engine exists to avoid.
 * The table below is filled once at load; it holds function addresses only, never keys.
 */
#define CRYPTO_FUNCS(X) \
  X(EVP_MAC *, EVP_MAC_fetch, (OSSL_LIB_CTX *, const char *, const char *)) \
  X(void, EVP_MAC_free, (EVP_MAC *)) \
  X(EVP_MAC_CTX *, EVP_MAC_CTX_new, (EVP_MAC *)) \
  X(void, EVP_MAC_CTX_free, (EVP_MAC_CTX *)) \
  X(int, EVP_MAC_init, (EVP_MAC_CTX *, const unsigned char *, size_t, const OSSL_PARAM *)) \
  X(int, EVP_MAC_update, (EVP_MAC_CTX *, const unsigned char *, size_t)) \
  X(int, EVP_MAC_final, (EVP_MAC_CTX *, unsigned char *, size_t *, size_t)) \
  X(OSSL_PARAM, OSSL_PARAM_construct_utf8_string, (const char *, char *, size_t)) \
  X(OSSL_PARAM, OSSL_PARAM_construct_end, (void)) \
  X(EVP_CIPHER *, EVP_CIPHER_fetch, (OSSL_LIB_CTX *, const char *, const char *)) \
  X(void, EVP_CIPHER_free, (EVP_CIPHER *)) \
  X(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_new, (void)) \
  X(void, EVP_CIPHER_CTX_free, (EVP_CIPHER_CTX *)) \
  X(int, EVP_CipherInit_ex2, (EVP_CIPHER_CTX *, const EVP_CIPHER *, const unsigned char *, const unsigned char *, int, const OSSL_PARAM *)) \
  X(int, EVP_CipherUpdate, (EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int)) \
  X(int, EVP_CipherFinal_ex, (EVP_CIPHER_CTX *, unsigned char *, int *)) \
  X(int, EVP_CIPHER_CTX_ctrl, (EVP_CIPHER_CTX *, int, int, void *)) \
  X(void, OPENSSL_cleanse, (void *, size_t)) \
  X(const char *, OpenSSL_version, (int))

#define DECLARE(ret, name, args) static ret(*p_##name) args;
CRYPTO_FUNCS(DECLARE)

static const char *load_crypto(void) {
  void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!h) return "cannot open libcrypto.so.3 (install libssl3 / libssl-dev)";
#define RESOLVE(ret, name, args) if (!(p_##name = (ret(*) args)dlsym(h, #name))) return "libcrypto.so.3 lacks " #name " (OpenSSL 3 is needed)";
  CRYPTO_FUNCS(RESOLVE)
  return NULL;
}

/* Error codes handed to JavaScript (src/engine/native.ts maps them to typed errors). */
#define E_OK 0
#define E_DECRYPT 1   /* DECRYPT_FAILED: a length field, position, finality or tag did not verify */
#define E_RANGE 2     /* caller misuse: bad lengths or positions (a bug in the caller) */
#define E_OPENSSL 3   /* ENGINE_FAILED: libcrypto refused an operation */
#define E_NOMEM 4     /* ENGINE_FAILED: out of memory */
#define E_IO 5        /* errno in io_errno */

typedef struct {
  /* inputs, copied (keys) or referenced (data) */
  unsigned char msg_key[MSG_KEY_LEN];
  unsigned char floe_iv[FLOE_IV_LEN];
  unsigned char *aad; /* FLOE associated data (the header's fixed part), malloc'd copy */
  size_t aad_len;
  uint32_t enc_seg_len;
  uint32_t rotation_mask;
  uint64_t first;
  uint64_t count;
  int final;
  const unsigned char *in;
  size_t in_len;
  const unsigned char *ivs; /* seal: count * 12 random bytes drawn by node:crypto */
  unsigned char *out;
  size_t out_len;
  int seal;
  /* result */
  size_t written;
  int err;
  /* async plumbing */
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[3];
  int nrefs;
} floe_job;

static void job_free(napi_env env, floe_job *j) {
  if (!j) return;
  p_OPENSSL_cleanse(j->msg_key, sizeof j->msg_key);
  if (j->aad) {
    p_OPENSSL_cleanse(j->aad, j->aad_len);
    free(j->aad);
  }
  if (env) for (int i = 0; i < j->nrefs; i++) napi_delete_reference(env, j->refs[i]);
  free(j);
}

/* Spec PARAM_ENCODE: I2BE(AEAD_ID,1) || I2BE(KDF_ID,1) || I2BE(ENC_SEG_LEN,4) || I2BE(FLOE_IV_LEN,4). */
static void param_encode(unsigned char p[10], uint32_t enc_seg_len) {
  p[0] = 0; /* AES-GCM-256 */
  p[1] = 0; /* HKDF-EXPAND-SHA-384 */
  p[2] = (unsigned char)(enc_seg_len >> 24);
  p[3] = (unsigned char)(enc_seg_len >> 16);
  p[4] = (unsigned char)(enc_seg_len >> 8);
  p[5] = (unsigned char)enc_seg_len;
  p[6] = 0; p[7] = 0; p[8] = 0; p[9] = FLOE_IV_LEN;
}

static void be64(unsigned char *p, uint64_t v) {
  for (int i = 7; i >= 0; i--) { p[i] = (unsigned char)v; v >>= 8; }
}

/*
 * Spec DERIVE_KEY: FLOE_KDF(messageKey, iv, aad, "DEK:" || I2BE(masked, 8), 32), where
 * FLOE_KDF(k, iv, aad, purpose, len) = HKDF-Expand-SHA-384(k, PARAM_ENCODE || iv || purpose || aad, len).
 * 32 <= 48 bytes, so RFC 5869 §2.3 needs one block: T(1) = HMAC(PRK, info || 0x01).
 */
static int derive_key(const floe_job *j, uint64_t masked, unsigned char key[AEAD_KEY_LEN]) {
  unsigned char params[10], purpose[12], one = 1, t[64];
  size_t tlen = 0;
  int ok = 0;
  param_encode(params, j->enc_seg_len);
  memcpy(purpose, "DEK:", 4);
  be64(purpose + 4, masked);
  EVP_MAC *mac = p_EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? p_EVP_MAC_CTX_new(mac) : NULL;
  OSSL_PARAM p[2] = { p_OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA384", 0), p_OSSL_PARAM_construct_end() };
  if (ctx && p_EVP_MAC_init(ctx, j->msg_key, MSG_KEY_LEN, p) && p_EVP_MAC_update(ctx, params, sizeof params) &&
      p_EVP_MAC_update(ctx, j->floe_iv, FLOE_IV_LEN) && p_EVP_MAC_update(ctx, purpose, sizeof purpose) &&
      p_EVP_MAC_update(ctx, j->aad, j->aad_len) && p_EVP_MAC_update(ctx, &one, 1) && p_EVP_MAC_final(ctx, t, &tlen, sizeof t) && tlen == 48) {
    memcpy(key, t, AEAD_KEY_LEN);
    ok = 1;
  }
  p_OPENSSL_cleanse(t, sizeof t);
  p_EVP_MAC_CTX_free(ctx); /* frees (and cleanses) the HMAC key schedule */
  p_EVP_MAC_free(mac);
  return ok;
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16); p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Checks lengths and positions before any cryptography (the JS wrapper checks them too). */
static int check_job(const floe_job *j) {
  uint64_t plain = j->enc_seg_len - SEG_OVERHEAD;
  if (j->enc_seg_len <= SEG_OVERHEAD || j->rotation_mask > 40 || j->count == 0) return E_RANGE;
  if (j->first >= MAX_SEGMENTS || j->count > MAX_SEGMENTS - j->first) return E_RANGE;
  uint64_t last = j->first + j->count - 1;
  if (!j->final && last == MAX_SEGMENTS - 1) return E_RANGE; /* reserved for a final segment */
  if (j->seal) {
    uint64_t full = j->count - 1;
    if (j->in_len < full * plain || j->in_len - full * plain > plain) return E_RANGE;
    if (!j->final && j->in_len != j->count * plain) return E_RANGE;
    if (j->out_len < j->in_len + j->count * SEG_OVERHEAD) return E_RANGE;
  } else {
    uint64_t full = j->count - 1;
    /* a final segment shorter than the overhead is a truncated message, not misuse */
    if (j->in_len < full * j->enc_seg_len || j->in_len - full * j->enc_seg_len > j->enc_seg_len) return E_RANGE;
    if (!j->final && j->in_len != j->count * j->enc_seg_len) return E_RANGE;
    if (j->in_len - full * j->enc_seg_len < SEG_OVERHEAD) return E_DECRYPT;
    if (j->out_len < j->in_len - j->count * SEG_OVERHEAD) return E_RANGE;
  }
  return E_OK;
}

/* Spec encryptSegment / decryptSegment over a batch of consecutive positions. */
static void run_job(floe_job *j) {
  j->err = check_job(j);
  if (j->err) return;
  const uint64_t plain = j->enc_seg_len - SEG_OVERHEAD;
  EVP_CIPHER *gcm = p_EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  EVP_CIPHER_CTX *ctx = p_EVP_CIPHER_CTX_new();
  unsigned char key[AEAD_KEY_LEN];
  uint64_t key_index = UINT64_MAX;
  size_t o = 0;
  int err = (gcm && ctx) ? E_OK : E_OPENSSL;
  for (uint64_t i = 0; i < j->count && !err; i++) {
    const uint64_t pos = j->first + i;
    const int is_final = j->final && i == j->count - 1;
    const uint64_t masked = (pos >> j->rotation_mask) << j->rotation_mask;
    if (masked != key_index) {
      /* a new AEAD key every 2^rotation_mask segments (spec §Derived Parameters) */
      if (!derive_key(j, masked, key) || !p_EVP_CipherInit_ex2(ctx, gcm, key, NULL, j->seal, NULL)) { err = E_OPENSSL; break; }
      key_index = masked;
    }
    unsigned char aad[9];
    be64(aad, pos);
    aad[8] = (unsigned char)is_final;
    int n = 0, m = 0;
    if (j->seal) {
      const unsigned char *pt = j->in + i * plain;
      const size_t len = is_final ? j->in_len - i * plain : plain;
      unsigned char *seg = j->out + o;
      const unsigned char *iv = j->ivs + i * AEAD_IV_LEN;
      put32(seg, is_final ? (uint32_t)(len + SEG_OVERHEAD) : NON_FINAL);
      memcpy(seg + 4, iv, AEAD_IV_LEN);
      if (!p_EVP_CipherInit_ex2(ctx, NULL, NULL, iv, 1, NULL) || !p_EVP_CipherUpdate(ctx, NULL, &n, aad, sizeof aad) ||
          !p_EVP_CipherUpdate(ctx, seg + 4 + AEAD_IV_LEN, &n, pt, (int)len) || !p_EVP_CipherFinal_ex(ctx, seg + 4 + AEAD_IV_LEN + n, &m) ||
          !p_EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, seg + 4 + AEAD_IV_LEN + len)) { err = E_OPENSSL; break; }
      o += len + SEG_OVERHEAD;
    } else {
      const unsigned char *seg = j->in + i * j->enc_seg_len;
      const size_t seg_len = is_final ? j->in_len - i * j->enc_seg_len : j->enc_seg_len;
      /* spec decryptSegment: the length field must say final-with-this-length or non-final */
      if (seg_len < SEG_OVERHEAD || get32(seg) != (is_final ? (uint32_t)seg_len : NON_FINAL)) { err = E_DECRYPT; break; }
      const size_t len = seg_len - SEG_OVERHEAD;
      unsigned char tag[AEAD_TAG_LEN];
      memcpy(tag, seg + seg_len - AEAD_TAG_LEN, AEAD_TAG_LEN);
      if (!p_EVP_CipherInit_ex2(ctx, NULL, NULL, seg + 4, 0, NULL) || !p_EVP_CipherUpdate(ctx, NULL, &n, aad, sizeof aad) ||
          !p_EVP_CipherUpdate(ctx, j->out + o, &n, seg + 4 + AEAD_IV_LEN, (int)len) ||
          !p_EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN, tag)) { err = E_OPENSSL; break; }
      if (p_EVP_CipherFinal_ex(ctx, j->out + o + n, &m) <= 0) { err = E_DECRYPT; break; } /* tag mismatch */
      o += len;
    }
  }
  p_OPENSSL_cleanse(key, sizeof key);
  p_EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
  p_EVP_CIPHER_free(gcm);
  if (err && !j->seal) p_OPENSSL_cleanse(j->out, j->out_len); /* SP 800-38D §7.2: no plaintext from a batch that failed */
  j->err = err;
  j->written = err ? 0 : o;
}

/* ---------------------------------------------------------------- N-API glue */

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, "ENGINE_FAILED", "native engine: N-API call failed"); return NULL; } } while (0)

static int get_buffer(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  bool is;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) {
    if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
    napi_typedarray_type t; napi_value ab; size_t off;
    if (napi_get_typedarray_info(env, v, &t, len, (void **)data, &ab, &off) != napi_ok || t != napi_uint8_array) return 0;
    return 1;
  }
  return napi_get_buffer_info(env, v, (void **)data, len) == napi_ok;
}

static napi_value make_error(napi_env env, int err, int io_errno) {
  const char *code = err == E_DECRYPT ? "DECRYPT_FAILED" : err == E_RANGE ? "ERR_OUT_OF_RANGE" : err == E_IO ? "EIO" : "ENGINE_FAILED";
  const char *msg = err == E_DECRYPT ? "decrypt failed" : err == E_RANGE ? "segment lengths or positions out of range" : err == E_NOMEM ? "native engine: out of memory" : err == E_IO ? "i/o error" : "native engine: libcrypto refused an operation";
  napi_value c, m, e, n;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  if (err == E_RANGE) napi_create_range_error(env, c, m, &e);
  else napi_create_error(env, c, m, &e);
  if (err == E_IO) {
    napi_create_int32(env, io_errno, &n);
    napi_set_named_property(env, e, "errno", n);
  }
  return e;
}

/*
 * Arguments (both seal and open):
 *   messageKey(48), floeIv(32), aad, encSegLen, rotationMask, first, count, final, input, output[, ivs]
 * seal also takes ivs (count * 12 bytes). Returns the bytes written to output.
 */
static floe_job *parse_job(napi_env env, napi_callback_info info, int seal, napi_value *argv, size_t *argc_out) {
  size_t argc = 11;
  napi_value this_arg;
  if (napi_get_cb_info(env, info, &argc, argv, &this_arg, NULL) != napi_ok || argc < (size_t)(seal ? 11 : 10)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "native engine: wrong arguments");
    return NULL;
  }
  *argc_out = argc;
  floe_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENGINE_FAILED", "native engine: out of memory"); return NULL; }
  j->seal = seal;
  unsigned char *mk, *iv, *aad, *in, *out, *ivs = NULL;
  size_t mk_len, iv_len, aad_len, in_len, out_len, ivs_len = 0;
  double first, count;
  uint32_t seg, rot;
  bool fin;
  if (!get_buffer(env, argv[0], &mk, &mk_len) || mk_len != MSG_KEY_LEN || !get_buffer(env, argv[1], &iv, &iv_len) || iv_len != FLOE_IV_LEN ||
      !get_buffer(env, argv[2], &aad, &aad_len) || napi_get_value_uint32(env, argv[3], &seg) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &rot) != napi_ok || napi_get_value_double(env, argv[5], &first) != napi_ok ||
      napi_get_value_double(env, argv[6], &count) != napi_ok || napi_get_value_bool(env, argv[7], &fin) != napi_ok ||
      !get_buffer(env, argv[8], &in, &in_len) || !get_buffer(env, argv[9], &out, &out_len) ||
      (seal && !get_buffer(env, argv[10], &ivs, &ivs_len)) || first < 0 || count < 1 || first > 9007199254740991.0 || count > 9007199254740991.0) {
    job_free(NULL, j);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "native engine: wrong arguments");
    return NULL;
  }
  memcpy(j->msg_key, mk, MSG_KEY_LEN);
  memcpy(j->floe_iv, iv, FLOE_IV_LEN);
  j->aad = malloc(aad_len ? aad_len : 1);
  if (!j->aad) { job_free(NULL, j); napi_throw_error(env, "ENGINE_FAILED", "native engine: out of memory"); return NULL; }
  memcpy(j->aad, aad, aad_len);
  j->aad_len = aad_len;
  j->enc_seg_len = seg;
  j->rotation_mask = rot;
  j->first = (uint64_t)first;
  j->count = (uint64_t)count;
  j->final = fin;
  j->in = in; j->in_len = in_len; j->out = out; j->out_len = out_len; j->ivs = ivs;
  if (seal && ivs_len < j->count * AEAD_IV_LEN) {
    job_free(NULL, j);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "native engine: one 12-byte IV per segment is needed");
    return NULL;
  }
  return j;
}

static napi_value run_sync(napi_env env, napi_callback_info info, int seal) {
  napi_value argv[11], result;
  size_t argc;
  floe_job *j = parse_job(env, info, seal, argv, &argc);
  if (!j) return NULL;
  run_job(j);
  int err = j->err;
  size_t written = j->written;
  job_free(NULL, j);
  if (err) { napi_throw(env, make_error(env, err, 0)); return NULL; }
  CHECK(napi_create_double(env, (double)written, &result));
  return result;
}

static void exec_job(napi_env env, void *data) { (void)env; run_job((floe_job *)data); }

static void done_job(napi_env env, napi_status status, void *data) {
  floe_job *j = data;
  napi_value v;
  if (status != napi_ok) napi_reject_deferred(env, j->deferred, make_error(env, E_OPENSSL, 0));
  else if (j->err) napi_reject_deferred(env, j->deferred, make_error(env, j->err, 0));
  else { napi_create_double(env, (double)j->written, &v); napi_resolve_deferred(env, j->deferred, v); }
  napi_delete_async_work(env, j->work);
  job_free(env, j);
}

static napi_value run_async(napi_env env, napi_callback_info info, int seal) {
  napi_value argv[11], promise, name;
  size_t argc;
  floe_job *j = parse_job(env, info, seal, argv, &argc);
  if (!j) return NULL;
  /* the input, output and IV buffers stay alive until the work is done */
  int idx[3] = { 8, 9, 10 };
  for (int i = 0; i < (seal ? 3 : 2); i++) {
    if (napi_create_reference(env, argv[idx[i]], 1, &j->refs[i]) != napi_ok) { job_free(env, j); napi_throw_error(env, "ENGINE_FAILED", "native engine: N-API call failed"); return NULL; }
    j->nrefs++;
  }
  napi_create_string_utf8(env, seal ? "pipeseal.seal" : "pipeseal.open", NAPI_AUTO_LENGTH, &name);
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok || napi_create_async_work(env, NULL, name, exec_job, done_job, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    job_free(env, j);
    napi_throw_error(env, "ENGINE_FAILED", "native engine: could not queue work");
    return NULL;
  }
  return promise;
}

static napi_value seal_sync(napi_env env, napi_callback_info info) { return run_sync(env, info, 1); }
static napi_value open_sync(napi_env env, napi_callback_info info) { return run_sync(env, info, 0); }
static napi_value seal_async(napi_env env, napi_callback_info info) { return run_async(env, info, 1); }
static napi_value open_async(napi_env env, napi_callback_info info) { return run_async(env, info, 0); }

/* ---------------------------------------------------------------- whole-buffer fd I/O */

typedef struct {
  int fd;
  int write;
  unsigned char *buf;
  size_t len;
  double position; /* < 0: the fd's own offset (pipes, stdin, stdout) */
  size_t done;
  int io_errno;
  napi_async_work work;
  napi_deferred deferred;
  napi_ref ref;
} io_job;

/* Waits for a non-blocking fd (a pipe Node or a parent left in O_NONBLOCK mode). */
static int wait_fd(int fd, short events) {
  struct pollfd p = { fd, events, 0 };
  for (;;) {
    int r = poll(&p, 1, -1);
    if (r >= 0 || errno != EINTR) return r;
  }
}

/* Reads until `len` bytes or end of input; writes until all `len` bytes are down. */
static void exec_io(napi_env env, void *data) {
  (void)env;
  io_job *j = data;
  while (j->done < j->len) {
    size_t want = j->len - j->done;
    if (want > (1u << 30)) want = 1u << 30;
    ssize_t n;
    if (j->position >= 0) {
      off_t at = (off_t)j->position + (off_t)j->done;
      n = j->write ? pwrite(j->fd, j->buf + j->done, want, at) : pread(j->fd, j->buf + j->done, want, at);
    } else {
      n = j->write ? write(j->fd, j->buf + j->done, want) : read(j->fd, j->buf + j->done, want);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(j->fd, j->write ? POLLOUT : POLLIN) >= 0) continue;
      j->io_errno = errno;
      return;
    }
    if (n == 0 && !j->write) return; /* end of input */
    j->done += (size_t)n;
  }
}

static void done_io(napi_env env, napi_status status, void *data) {
  io_job *j = data;
  napi_value v;
  if (status != napi_ok) napi_reject_deferred(env, j->deferred, make_error(env, E_OPENSSL, 0));
  else if (j->io_errno) napi_reject_deferred(env, j->deferred, make_error(env, E_IO, j->io_errno));
  else { napi_create_double(env, (double)j->done, &v); napi_resolve_deferred(env, j->deferred, v); }
  napi_delete_reference(env, j->ref);
  napi_delete_async_work(env, j->work);
  free(j);
}

/* readFull(fd, buffer, position) / writeFull(fd, buffer, position): Promise<bytes>. */
static napi_value io_async(napi_env env, napi_callback_info info, int write) {
  size_t argc = 3;
  napi_value argv[3], promise, name;
  int32_t fd;
  double position;
  unsigned char *buf;
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      !get_buffer(env, argv[1], &buf, &len) || napi_get_value_double(env, argv[2], &position) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "native engine: wrong arguments");
    return NULL;
  }
  io_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENGINE_FAILED", "native engine: out of memory"); return NULL; }
  j->fd = fd; j->write = write; j->buf = buf; j->len = len; j->position = position;
  napi_create_string_utf8(env, write ? "pipeseal.write" : "pipeseal.read", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[1], 1, &j->ref) != napi_ok) { free(j); napi_throw_error(env, "ENGINE_FAILED", "native engine: N-API call failed"); return NULL; }
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok || napi_create_async_work(env, NULL, name, exec_io, done_io, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    napi_delete_reference(env, j->ref);
    free(j);
    napi_throw_error(env, "ENGINE_FAILED", "native engine: could not queue work");
    return NULL;
  }
  return promise;
}

static napi_value read_full(napi_env env, napi_callback_info info) { return io_async(env, info, 0); }
static napi_value write_full(napi_env env, napi_callback_info info) { return io_async(env, info, 1); }

/* Wipes a buffer with OPENSSL_cleanse (JavaScript's fill(0) may be elided by nothing, but this names the intent). */
static napi_value cleanse(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  unsigned char *buf;
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !get_buffer(env, argv[0], &buf, &len)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "native engine: wrong arguments");
    return NULL;
  }
  p_OPENSSL_cleanse(buf, len);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "sealSync", NULL, seal_sync, NULL, NULL, NULL, napi_enumerable, NULL },
    { "openSync", NULL, open_sync, NULL, NULL, NULL, napi_enumerable, NULL },
    { "seal", NULL, seal_async, NULL, NULL, NULL, napi_enumerable, NULL },
    { "open", NULL, open_async, NULL, NULL, NULL, napi_enumerable, NULL },
    { "readFull", NULL, read_full, NULL, NULL, NULL, napi_enumerable, NULL },
    { "writeFull", NULL, write_full, NULL, NULL, NULL, napi_enumerable, NULL },
    { "cleanse", NULL, cleanse, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_value version;
  const char *why = load_crypto();
  if (why) {
    napi_throw_error(env, "ENGINE_UNAVAILABLE", why);
    return NULL;
  }
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  napi_create_string_utf8(env, p_OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "openssl", version);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
