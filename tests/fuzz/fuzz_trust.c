/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the three text formats of the trust chain
 * (docs/trust.md, docs/manifest.md), all read from the network or the boot
 * image before anything else looks at them.
 *
 * The first byte of an input picks the parser, the rest is its document:
 *   'm'  manifest_parse(): on success, chunk_size is a power of two in
 *        [MIN, MAX], n_chunks = ceil(size / chunk_size), every chunk's
 *        offset + length stays inside size and the last one ends at it;
 *        on failure a message that starts with the document's name.
 *   'k'  trust_keyring_parse(): on success every key has a 16-digit hex
 *        id that is its own (trust_key_id()), a name of 1..64 characters,
 *        and can be found by its id; on failure "NAME:LINE:COL: ...".
 *   's'  trust_verify_key() of a signature file against a fixed document
 *        ("doc") and a keyring of one fixed key (its private half is not
 *        kept: no input can be a good signature): every result is a
 *        refusal (trust_is_refusal()) with a message naming "doc", never 0.
 * Anything else: nothing.
 *
 * Built and run by `make fuzz` (FUZZ_TARGETS=trust; docs/testing.md).
 * Replay one input: build/fuzz/fuzz_trust FILE */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "image/manifest.h"
#include "trust/trust.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static TrustKeyring *keyring;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        _cleanup_(trust_signer_freep) TrustSigner *s = NULL;
        _cleanup_free_ char *line = NULL, *err = NULL;

        if (!getenv("FUZZ_VERBOSE"))
                log_set_max_level((LogLevel) (LOG_ERR - 1));
        /* One real key; its private half is dropped here. */
        if (trust_signer_generate(&s, &err) < 0 || trust_signer_keyring_line(s, "fuzz", NULL, &line) < 0 ||
            trust_keyring_parse("fuzz.keys", line, strlen(line), &keyring, &err) < 0 || keyring->n != 1)
                abort();
        return 0;
}

static void check_manifest(const uint8_t *data, size_t size) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *err = NULL;
        int r = manifest_parse("m", data, size, &m, &err);

        if (r < 0) {
                if (m || (r != -ENOMEM && (!err || !startswith(err, "m"))))
                        abort();
                return;
        }
        if (!m || err)
                abort();
        if (m->chunk_size < MANIFEST_CHUNK_SIZE_MIN || m->chunk_size > MANIFEST_CHUNK_SIZE_MAX ||
            (m->chunk_size & (m->chunk_size - 1)) != 0 || m->size == 0)
                abort();
        if (m->n_chunks != m->size / m->chunk_size + (m->size % m->chunk_size != 0))
                abort();
        uint64_t end = 0;
        for (uint64_t i = 0; i < m->n_chunks; i++) {
                uint64_t off = manifest_chunk_offset(m, i), len = manifest_chunk_length(m, i);
                if (off != end || len == 0 || len > m->chunk_size || len > m->size - off)
                        abort();
                end = off + len;
        }
        if (end != m->size)
                abort();
}

static void check_keyring(const uint8_t *data, size_t size) {
        _cleanup_(trust_keyring_freep) TrustKeyring *kr = NULL;
        _cleanup_free_ char *err = NULL;
        int r = trust_keyring_parse("k", (const char *) data, size, &kr, &err);

        if (r < 0) {
                if (kr || (r != -ENOMEM && (!err || !startswith(err, "k:"))))
                        abort();
                return;
        }
        if (!kr || err)
                abort();
        for (size_t i = 0; i < kr->n; i++) {
                const TrustKey *k = &kr->keys[i];
                char id[TRUST_KEY_ID_LEN + 1];
                size_t n = k->name ? strlen(k->name) : 0;

                if (trust_key_id(k->pub, id) < 0 || !streq(id, k->id) || strlen(k->id) != TRUST_KEY_ID_LEN)
                        abort();
                if (n == 0 || n > TRUST_NAME_MAX || trust_keyring_find(kr, k->id) != k)
                        abort();
        }
}

static void check_signature(const uint8_t *data, size_t size) {
        static const char doc[] = "version: 1\nhostname: fuzz\n";
        _cleanup_free_ char *err = NULL;
        const TrustKey *key = NULL;
        int r = trust_verify_key(keyring, "doc", doc, sizeof doc - 1, (const char *) data, size, 1800000000, &key,
                                 &err);

        if (r == -ENOMEM)
                return;
        if (r >= 0 || !trust_is_refusal(r) || key || !err || !startswith(err, "doc"))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size == 0)
                return 0;
        switch (data[0]) {
        case 'm':
                check_manifest(data + 1, size - 1);
                break;
        case 'k':
                check_keyring(data + 1, size - 1);
                break;
        case 's':
                check_signature(data + 1, size - 1);
                break;
        }
        return 0;
}
