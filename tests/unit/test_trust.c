/* SPDX-License-Identifier: GPL-2.0-or-later */
/* trust/: keyrings, signature files, sign and verify (real Ed25519 through
 * libcrypto, fresh keys every run), the refusals with their messages, key
 * rotation, and verification before parse of a profile file and its
 * include (trust_profile_load_file) and of file:// URLs (trust_fetch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/sha256.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "target/target.h"
#include "trust/trust-profile.h"
#include "trust/trust.h"

#define NOW 1796688000ull /* 2026-12-08T00:00:00Z */
static const char DOC[] = "version: 1\nhostname: web01\ndisk: { partitions: [ { size: rest, mount: / } ] }\n";

typedef struct Fixture {
        TrustSigner *a, *b;
        char *line_a, *line_b;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        assert_non_null(f);
        assert_int_equal(trust_signer_generate(&f->a, NULL), 0);
        assert_int_equal(trust_signer_generate(&f->b, NULL), 0);
        assert_int_equal(trust_signer_keyring_line(f->a, "site-2025", NULL, &f->line_a), 0);
        assert_int_equal(trust_signer_keyring_line(f->b, "site-2026", NULL, &f->line_b), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        trust_signer_free(f->a);
        trust_signer_free(f->b);
        free(f->line_a);
        free(f->line_b);
        free(f);
        return 0;
}

static TrustKeyring *keyring(const char *text) {
        TrustKeyring *kr = NULL;
        char *err = NULL;
        int r = trust_keyring_parse("trusted.keys", text, strlen(text), &kr, &err);
        if (r < 0)
                fail_msg("keyring: %s", err ? err : "?");
        assert_null(err);
        return kr;
}

static char *sign(TrustSigner *s, const char *doc, uint64_t at) {
        char *sig = NULL;
        size_t n = 0;
        assert_int_equal(trust_sign(s, doc, strlen(doc), at, &sig, &n, NULL), 0);
        assert_int_equal(n, strlen(sig));
        return sig;
}

/* trust_verify, expecting r; the message must contain want (r != 0). */
static void verify_expect(const TrustKeyring *kr, const char *doc, size_t size, const char *sig, uint64_t now, int r,
                          const char *want) {
        char *err = NULL;
        int got = trust_verify(kr, "http://h/p.yaml", doc, size, sig, strlen(sig), now, &err);
        if (got != r)
                fail_msg("expected %d, got %d: %s", r, got, err ? err : "(no message)");
        if (r == 0)
                assert_null(err);
        else {
                assert_non_null(err);
                assert_true(trust_is_refusal(got));
                assert_non_null(strstr(err, "http://h/p.yaml: "));
                if (!strstr(err, want))
                        fail_msg("message '%s' lacks '%s'", err, want);
                assert_null(strchr(err, '\n')); /* one line */
        }
        free(err);
}

static void test_key_id(void **state) {
        /* RFC 8032, test 1: the public key, and sha256 of it by sha256sum. */
        const char *line = "ed25519 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo= name=rfc8032\n";
        TrustKeyring *kr = keyring(line);
        assert_int_equal(kr->n, 1);
        assert_string_equal(kr->keys[0].id, "21fe31dfa154a261");
        assert_string_equal(kr->keys[0].name, "rfc8032");
        assert_false(kr->keys[0].revoked);
        assert_int_equal(kr->keys[0].end, 0);
        trust_keyring_free(kr);
}

static void test_round_trip(void **state) {
        Fixture *f = *state;
        TrustKeyring *kr = keyring(f->line_a);
        char *sig = sign(f->a, DOC, NOW - 3600);
        const TrustKey *k = NULL;

        assert_non_null(strstr(sig, "installer-signature 1\nkey-id: "));
        assert_non_null(strstr(sig, "\nsigned-at: 2026-12-07T23:00:00Z\n"));
        assert_int_equal(trust_verify_key(kr, "p", DOC, strlen(DOC), sig, strlen(sig), NOW, &k, NULL), 0);
        assert_ptr_equal(k, &kr->keys[0]);
        assert_string_equal(k->id, trust_signer_key_id(f->a));
        /* Ed25519 is deterministic: the same time, the same file. */
        char *again = sign(f->a, DOC, NOW - 3600);
        assert_string_equal(sig, again);
        /* An empty document can be signed too. */
        char *empty = sign(f->a, "", NOW);
        verify_expect(kr, "", 0, empty, NOW, 0, NULL);
        free(empty);
        free(again);
        free(sig);
        trust_keyring_free(kr);
}

static void test_flipped_byte(void **state) {
        Fixture *f = *state;
        TrustKeyring *kr = keyring(f->line_a);
        char *sig = sign(f->a, DOC, NOW);
        char doc[sizeof DOC];

        /* Every byte of the document, one bit each: refused every time. */
        for (size_t i = 0; i < strlen(DOC); i++) {
                memcpy(doc, DOC, sizeof DOC);
                doc[i] ^= 0x01;
                verify_expect(kr, doc, strlen(DOC), sig, NOW, -EUCLEAN, "sha256 differs");
        }
        /* One byte more or less. */
        verify_expect(kr, DOC, strlen(DOC) - 1, sig, NOW, -EUCLEAN, "is 77 bytes, key ");
        free(sig);
        trust_keyring_free(kr);
}

static void test_tampered_signature(void **state) {
        Fixture *f = *state;
        TrustKeyring *kr = keyring(f->line_a);
        char *sig = sign(f->a, DOC, NOW);
        char *p;

        /* The signed header changed (a later time): the signature no longer holds. */
        p = strstr(sig, "signed-at: 2026");
        p[14] = '7';
        verify_expect(kr, DOC, strlen(DOC), sig, NOW, -EKEYREJECTED, "is not valid");
        free(sig);

        /* A size and sha256 made to match a changed document, signature kept. */
        const char *evil = "version: 1\nhostname: evil\n";
        char *good = sign(f->a, DOC, NOW), *other = sign(f->b, evil, NOW);
        char *sigline = strstr(good, "signature: ");
        _cleanup_free_ char *forged = strprintf("%.*s%s", (int) (strstr(other, "signature: ") - other), other, sigline);
        /* other's header names b's key id: put a's there. */
        memcpy(strstr(forged, "key-id: ") + 8, trust_signer_key_id(f->a), TRUST_KEY_ID_LEN);
        verify_expect(kr, evil, strlen(evil), forged, NOW, -EKEYREJECTED, "is not valid");

        /* b's signature claimed as a's (key id swapped). */
        memcpy(strstr(other, "key-id: ") + 8, trust_signer_key_id(f->a), TRUST_KEY_ID_LEN);
        verify_expect(kr, evil, strlen(evil), other, NOW, -EKEYREJECTED, "made with another key");
        free(good);
        free(other);
        trust_keyring_free(kr);
}

static void test_wrong_key(void **state) {
        Fixture *f = *state;
        TrustKeyring *kr = keyring(f->line_a);
        char *sig = sign(f->b, DOC, NOW);
        _cleanup_free_ char *want = strprintf("signed by key %s, which is not a trusted key", trust_signer_key_id(f->b));

        verify_expect(kr, DOC, strlen(DOC), sig, NOW, -ENOKEY, want);
        /* No keys at all: nothing can be good. */
        TrustKeyring *none = keyring("# no keys yet\n\n");
        assert_int_equal(none->n, 0);
        verify_expect(none, DOC, strlen(DOC), sig, NOW, -ENOKEY, "no trusted keys");
        trust_keyring_free(none);
        free(sig);
        trust_keyring_free(kr);
}

static void test_malformed(void **state) {
        Fixture *f = *state;
        TrustKeyring *kr = keyring(f->line_a);
        char *sig = sign(f->a, DOC, NOW);
        const char *s1 = strstr(sig, "\nkey-id"), *s2 = strstr(sig, "\nsigned-at"), *s3 = strstr(sig, "\nsize"),
                   *s4 = strstr(sig, "\nsha256"), *s5 = strstr(sig, "\nsignature");
        const char *id = trust_signer_key_id(f->a);
        struct {
                char *text;
                const char *want;
        } cases[] = {
                { strdup(""), "line 1: missing" },
                { strprintf("installer-signature 2%s", s1), "line 1: expected 'installer-signature 1'" },
                { strprintf("installer-signature 1\r%s", s1), "line 1: expected 'installer-signature 1'" },
                { strprintf("installer-signature 1\nkey-id: %.15s%s", id, s2), "line 2: expected 'key-id:" },
                { strprintf("installer-signature 1\nkey-id: %.15sA%s", id, s2), "line 2: expected 'key-id:" },
                { strprintf("installer-signature 1\nkey-id:  %s%s", id, s2), "line 2: expected 'key-id:" },
                { strprintf("%.*s\nsigned-at: 2026-02-30T00:00:00Z%s", (int) (s2 - sig), sig, s3),
                  "line 3: expected 'signed-at:" },
                { strprintf("%.*s\nsigned-at: 2026-12-08 00:00:00Z%s", (int) (s2 - sig), sig, s3),
                  "line 3: expected 'signed-at:" },
                { strprintf("%.*s\nsize: 076%s", (int) (s3 - sig), sig, s4), "line 4: expected 'size:" },
                { strprintf("%.*s\nsize: -76%s", (int) (s3 - sig), sig, s4), "line 4: expected 'size:" },
                { strprintf("%.*s\nsize: 99999999999999999999%s", (int) (s3 - sig), sig, s4), "line 4: size out of range" },
                { strprintf("%.*s\nsha256: %.63s%s", (int) (s4 - sig), sig, s4 + 9, s5), "line 5: expected 'sha256:" },
                { strprintf("%.*s\nsignature: AAAA\n", (int) (s5 - sig), sig), "line 6: expected 'signature:" },
                { strprintf("%.*s", (int) strlen(sig) - 1, sig), "line 6: no LF at the end" },
                { strprintf("%.*s", (int) (s5 - sig) + 1, sig), "line 6: missing" },
                { strprintf("%s\n", sig), "line 7: unexpected text after the signature line" },
                { strprintf("%scomment: x\n", sig), "line 7: unexpected text" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_non_null(cases[i].text);
                verify_expect(kr, DOC, strlen(DOC), cases[i].text, NOW, -EBADE, cases[i].want);
                free(cases[i].text);
        }
        /* The signature's base64 with a character changed (still base64). */
        char *p = strstr(sig, "\nsignature: ") + 12;
        p[5] = p[5] == 'A' ? 'B' : 'A';
        verify_expect(kr, DOC, strlen(DOC), sig, NOW, -EKEYREJECTED, "is not valid");
        free(sig);
        trust_keyring_free(kr);
}

static void test_revoked(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *text = strprintf("%.*s revoked\n%s", (int) strlen(f->line_a) - 1, f->line_a, f->line_b);
        TrustKeyring *kr = keyring(text);
        char *sa = sign(f->a, DOC, NOW), *sb = sign(f->b, DOC, NOW);

        assert_true(kr->keys[0].revoked);
        verify_expect(kr, DOC, strlen(DOC), sa, NOW, -EKEYREVOKED, "(site-2025), which is revoked");
        verify_expect(kr, DOC, strlen(DOC), sb, NOW, 0, NULL);
        free(sa);
        free(sb);
        trust_keyring_free(kr);
}

static void test_not_after(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *text = strprintf("%.*s not-after=2026-12-07\n", (int) strlen(f->line_a) - 1, f->line_a);
        TrustKeyring *kr = keyring(text);
        char *sig = sign(f->a, DOC, NOW - 86400);

        assert_string_equal(kr->keys[0].not_after, "2026-12-07");
        /* Good through the last second of the day (UTC), refused after it. */
        verify_expect(kr, DOC, strlen(DOC), sig, NOW - 1, 0, NULL);
        verify_expect(kr, DOC, strlen(DOC), sig, NOW, -EKEYEXPIRED, "which was good until 2026-12-07 (today is 2026-12-08)");
        free(sig);
        trust_keyring_free(kr);
}

static void test_rotation(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *both = strprintf("# old and new during the rotation\n%s\n%s", f->line_a, f->line_b);
        TrustKeyring *kr2 = keyring(both), *kr_new = keyring(f->line_b);
        char *sa = sign(f->a, DOC, NOW), *sb = sign(f->b, DOC, NOW);

        assert_int_equal(kr2->n, 2);
        assert_int_equal(kr2->keys[1].line, 4);
        /* Both keys trusted: documents of either are good. */
        verify_expect(kr2, DOC, strlen(DOC), sa, NOW, 0, NULL);
        verify_expect(kr2, DOC, strlen(DOC), sb, NOW, 0, NULL);
        /* The old key removed: its documents are refused, the new key's good. */
        verify_expect(kr_new, DOC, strlen(DOC), sa, NOW, -ENOKEY, "which is not a trusted key");
        verify_expect(kr_new, DOC, strlen(DOC), sb, NOW, 0, NULL);
        free(sa);
        free(sb);
        trust_keyring_free(kr2);
        trust_keyring_free(kr_new);
}

static void test_keyring_errors(void **state) {
        Fixture *f = *state;
        const char *k = strchr(f->line_a, ' ') + 1; /* "BASE64 name=site-2025\n" */
        int n64 = (int) (strchr(k, ' ') - k);
        struct {
                char *text;
                const char *want;
        } cases[] = {
                { strprintf("rsa %.*s name=x\n", n64, k), "trusted.keys:1:1: unknown key type 'rsa'" },
                { strprintf("# c\n  ed25519 %.*s\n", n64, k), "trusted.keys:2:55: the key has no name=" },
                { strprintf("ed25519 %.*sx name=x\n", n64, k), "trusted.keys:1:9: not the base64 of a 32-byte" },
                { strprintf("ed25519 AAAA name=x\n"), "trusted.keys:1:9: not the base64" },
                { strprintf("ed25519 %.*s name=a/b\n", n64, k), "trusted.keys:1:54: name= must be" },
                { strprintf("ed25519 %.*s name=x name=y\n", n64, k), "trusted.keys:1:61: name= given twice" },
                { strprintf("ed25519 %.*s name=x not-after=2026-13-01\n", n64, k), "trusted.keys:1:61: not-after= must be a date" },
                { strprintf("ed25519 %.*s name=x expired\n", n64, k), "trusted.keys:1:61: unknown option 'expired'" },
                { strprintf("ed25519 %.*s name=x\r\n", n64, k), "trusted.keys:1:60: a CR" },
                { strprintf("ed25519\n"), "trusted.keys:1:8: a key line is" },
                { strprintf("%s%s", f->line_a, f->line_a), "trusted.keys:2:1: key " },
                { strprintf("%s%.*s name=site-2025\n", f->line_a, (int) (strchr(f->line_b, ' ') - f->line_b) + 1 + n64,
                            f->line_b),
                  "trusted.keys:2:1: name=site-2025 is already on line 1" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                TrustKeyring *kr = NULL;
                char *err = NULL;
                assert_non_null(cases[i].text);
                assert_int_equal(trust_keyring_parse("trusted.keys", cases[i].text, strlen(cases[i].text), &kr, &err),
                                 -EINVAL);
                assert_null(kr);
                assert_non_null(err);
                if (!strstr(err, cases[i].want))
                        fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
                free(err);
                free(cases[i].text);
        }
        /* A line without a final LF is fine; an empty file has no keys. */
        TrustKeyring *kr = keyring("");
        assert_int_equal(kr->n, 0);
        trust_keyring_free(kr);
        _cleanup_free_ char *nolf = strndup(f->line_a, strlen(f->line_a) - 1);
        kr = keyring(nolf);
        assert_int_equal(kr->n, 1);
        trust_keyring_free(kr);
}

static void test_sig_url(void **state) {
        const struct {
                const char *in, *out;
        } cases[] = {
                { "http://h/p.yaml", "http://h/p.yaml.sig" },
                { "http://h/p.yaml?t=1", "http://h/p.yaml.sig?t=1" },
                { "https://u:pw@h/a/b.yaml?t=1#x", "https://u:pw@h/a/b.yaml.sig?t=1#x" },
                { "file:///run/p.yaml", "file:///run/p.yaml.sig" },
                { "profiles/web.yaml", "profiles/web.yaml.sig" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = trust_sig_url(cases[i].in);
                assert_string_equal(s, cases[i].out);
        }
}

static void put(const char *dir, const char *name, const char *data) {
        _cleanup_free_ char *p = strprintf("%s/%s", dir, name);
        assert_int_equal(write_file_atomic(p, data, strlen(data), 0644), 0);
}

static void put_signed(TrustSigner *s, const char *dir, const char *name, const char *data) {
        _cleanup_free_ char *sn = strprintf("%s.sig", name), *sig = sign(s, data, NOW);
        put(dir, name, data);
        put(dir, sn, sig);
}

static void test_fetch_and_files(void **state) {
        Fixture *f = *state;
        char dir[] = "/tmp/test-trust-XXXXXX";
        TrustKeyring *kr = keyring(f->line_a);
        _cleanup_free_ char *url = NULL, *url_unsigned = NULL, *url_none = NULL, *frag = NULL, *prof = NULL,
                            *bad_frag = NULL;
        char *data = NULL, *err = NULL;
        size_t size = 0, n = 0;
        Profile *p = NULL;
        ProfileErrors errors = {};

        assert_non_null(mkdtemp(dir));
        put_signed(f->a, dir, "p.yaml", DOC);
        put(dir, "unsigned.yaml", DOC);
        url = strprintf("file://%s/p.yaml", dir);
        url_unsigned = strprintf("file://%s/unsigned.yaml", dir);
        url_none = strprintf("file://%s/none.yaml", dir);

        /* No process keyring: plain fetch_to_buffer. */
        assert_false(trust_required());
        assert_int_equal(trust_fetch(url_unsigned, NULL, &data, &size, &err), 0);
        assert_int_equal(size, strlen(DOC));
        free(data);
        /* With keys: signed good, unsigned refused, absent is absent. */
        trust_set_keyring(kr);
        assert_true(trust_required());
        assert_int_equal(trust_fetch(url, NULL, &data, &size, &err), 0);
        assert_memory_equal(data, DOC, size);
        free(data);
        data = NULL;
        assert_int_equal(trust_fetch(url_unsigned, NULL, &data, &size, &err), -ENOMSG);
        assert_null(data);
        assert_non_null(strstr(err, "unsigned.yaml: signature refused: no signature (file://"));
        assert_non_null(strstr(err, "unsigned.yaml.sig: not found)"));
        free(err);
        err = NULL;
        assert_int_equal(trust_fetch(url_none, NULL, &data, &size, &err), -ENOENT);
        free(err);
        err = NULL;

        /* A profile file and its include, each verified before it is parsed. */
        frag = strprintf("%s/base.yaml", dir);
        prof = strprintf("%s/web.yaml", dir);
        put_signed(f->a, dir, "base.yaml", "disk: { partitions: [ { size: rest, mount: / } ] }\n"
                                           "image: { url: http://h/i.tar.zst, sha256: "
                                           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef }\n");
        put_signed(f->a, dir, "web.yaml", "version: 1\ninclude: [base.yaml]\nhostname: web01\n");
        assert_int_equal(trust_profile_load_file(kr, prof, &p, &errors, &n, &err), 0);
        assert_null(err);
        assert_int_equal(n, 2);
        assert_string_equal(p->hostname, "web01");
        profile_free(p);
        p = NULL;

        /* The fragment changed after signing: refused, named, nothing loaded. */
        put(dir, "base.yaml", "disk: { partitions: [ { size: rest, mount: / } ] }\n"
                              "image: { url: http://evil/i.tar.zst, sha256: "
                              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef }\n");
        assert_int_equal(trust_profile_load_file(kr, prof, &p, &errors, &n, &err), -EUCLEAN);
        assert_null(p);
        assert_non_null(strstr(err, "base.yaml: signature refused: the document is "));
        assert_true(errors.n >= 1);
        assert_non_null(strstr(errors.v[0].message, "cannot include 'base.yaml': its signature was refused"));
        profile_errors_done(&errors);
        free(err);
        err = NULL;

        /* An unsigned profile is not even parsed: invalid YAML gives the refusal, not a syntax error. */
        put(dir, "web.yaml", "version: [\n");
        assert_int_equal(trust_profile_load_file(kr, prof, &p, &errors, &n, &err), -EUCLEAN);
        assert_int_equal(errors.n, 0);
        free(err);
        err = NULL;
        bad_frag = strprintf("%s/web.yaml.sig", dir);
        assert_int_equal(unlink(bad_frag), 0);
        assert_int_equal(trust_profile_load_file(kr, prof, &p, &errors, &n, &err), -ENOMSG);
        assert_int_equal(errors.n, 0);
        assert_non_null(strstr(err, "web.yaml.sig does not exist"));
        free(err);

        trust_set_keyring(NULL);
        assert_false(trust_required());
        _cleanup_free_ char *cmd = strprintf("rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_sign_load_save(void **state) {
        Fixture *f = *state;
        char dir[] = "/tmp/test-trust-XXXXXX";
        TrustSigner *s = NULL;
        char *err = NULL;

        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *key = strprintf("%s/site.key", dir), *notkey = strprintf("%s/doc", dir);
        assert_int_equal(trust_signer_save(f->a, key, NULL), 0);
        assert_int_equal(trust_signer_save(f->a, key, &err), -EEXIST); /* never over a file */
        free(err);
        err = NULL;
        struct stat st;
        assert_int_equal(stat(key, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(trust_signer_load(key, &s, NULL), 0);
        assert_string_equal(trust_signer_key_id(s), trust_signer_key_id(f->a));
        trust_signer_free(s);
        put(dir, "doc", "not a key\n");
        assert_int_equal(trust_signer_load(notkey, &s, &err), -EINVAL);
        assert_non_null(strstr(err, "not a PEM private key"));
        free(err);
        assert_int_equal(trust_signer_keyring_line(f->a, "bad name", NULL, &err), -EINVAL);
        assert_int_equal(trust_signer_keyring_line(f->a, "ok", "2026-02-29", &err), -EINVAL);
        _cleanup_free_ char *cmd = strprintf("rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

/* files: entries fetched by URL: with trusted keys, URL.sig must be good
 * too, and nothing is written into the target otherwise. */
static void test_target_files(void **state) {
        Fixture *f = *state;
        char dir[] = "/tmp/test-trust-XXXXXX";
        const char *payload = "hello from the site\n";
        char hex[65];
        Profile *p = NULL;
        ProfileErrors errors = {};

        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *root = strprintf("%s/root", dir), *motd = strprintf("%s/root/etc/motd", dir),
                            *sig = strprintf("%s/payload.sig", dir);
        assert_int_equal(mkdir_p(root, 0755), 0);
        put(dir, "payload", payload);
        assert_int_equal(sha256_hex(payload, strlen(payload), hex), 0);
        _cleanup_free_ char *yaml = strprintf("version: 1\nhostname: h\n"
                                              "disk: { partitions: [ { size: rest, mount: / } ] }\n"
                                              "image: { url: http://h/i.tar.zst, sha256: %s }\n"
                                              "files:\n  - { path: /etc/motd, url: \"file://%s/payload\", sha256: %s }\n",
                                              hex, dir, hex);
        if (profile_load_string("p.yaml", yaml, strlen(yaml), &p, &errors) < 0) {
                for (size_t i = 0; i < errors.n; i++)
                        print_message("%u:%u: %s\n", errors.v[i].line, errors.v[i].column, errors.v[i].message);
                fail();
        }
        trust_set_keyring(keyring(f->line_a));
        /* Unsigned: refused, nothing written. */
        assert_int_equal(target_write_files(root, p), -EKEYREJECTED);
        assert_int_equal(access(motd, F_OK), -1);
        /* Signed by a key not trusted: refused. */
        _cleanup_free_ char *sb = sign(f->b, payload, NOW);
        put(dir, "payload.sig", sb);
        assert_int_equal(target_write_files(root, p), -EKEYREJECTED);
        assert_int_equal(access(motd, F_OK), -1);
        /* Signed: written. */
        put_signed(f->a, dir, "payload", payload);
        assert_int_equal(target_write_files(root, p), 0);
        _cleanup_free_ char *got = NULL;
        size_t n = 0;
        assert_int_equal(read_full_file(motd, &got, &n), 0);
        assert_memory_equal(got, payload, n);
        /* Without keys: the sha256 alone, as before. */
        trust_set_keyring(NULL);
        assert_int_equal(unlink(sig), 0);
        assert_int_equal(target_write_files(root, p), 0);
        profile_free(p);
        _cleanup_free_ char *cmd = strprintf("rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_key_id),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_flipped_byte),
                cmocka_unit_test(test_tampered_signature),
                cmocka_unit_test(test_wrong_key),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_revoked),
                cmocka_unit_test(test_not_after),
                cmocka_unit_test(test_rotation),
                cmocka_unit_test(test_keyring_errors),
                cmocka_unit_test(test_sig_url),
                cmocka_unit_test(test_fetch_and_files),
                cmocka_unit_test(test_sign_load_save),
                cmocka_unit_test(test_target_files),
        };
        assert_int_equal(fetch_global_init(), 0);
        int r = cmocka_run_group_tests(tests, setup, teardown);
        fetch_global_done();
        return r;
}
