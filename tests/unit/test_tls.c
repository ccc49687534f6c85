/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the TLS trust (docs/tls.md): the clock check and its test
 * seam (basic/clock.c), CA certificates as a profile pins them
 * (fetch_tls_parse_ca), the site CA file failing closed, and the profile's
 * tls: section. The handshakes themselves: tests/cli/tls.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/clock.h"
#include "basic/macro.h"
#include "basic/sha256.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "profile/profile.h"

static void test_clock_check(void **state) {
        _cleanup_free_ char *err = NULL;
        uint64_t b = clock_build_time();

        /* The build time is a real date (after 2025-01-01) and not after now. */
        assert_true(b > 1735689600ull);
        assert_true(b <= clock_now());
        assert_int_equal(clock_check(b, NULL), 0);
        assert_int_equal(clock_check(b + 86400, NULL), 0);
        assert_int_equal(clock_check(b - 1, &err), -ETIME);
        free(TAKE_PTR(err));
        assert_int_equal(clock_check(0, &err), -ETIME);
        assert_non_null(strstr(err, "this machine's clock says 1970-01-01T00:00:00Z, before this installer was built"));
        assert_non_null(strstr(err, "set the clock"));
}

static void test_clock_seam(void **state) {
        char buf[32];

        setenv("INSTALLER_PROC_CMDLINE", "inst.profile=http://h/p.yaml", 1);
        setenv("INSTALLER_TEST_NOW", "86400", 1);
        assert_int_equal(clock_now(), 86400);
        assert_string_equal(clock_format(86400, buf, sizeof buf), "1970-01-02T00:00:00Z");
        setenv("INSTALLER_TEST_NOW", "garbage", 1);
        assert_true(clock_now() > 86400);
        /* Never from the kernel command line. */
        setenv("INSTALLER_TEST_NOW", "86400", 1);
        setenv("INSTALLER_PROC_CMDLINE", "quiet INSTALLER_TEST_NOW=86400", 1);
        assert_true(clock_now() > 86400);
        assert_null(test_seam_getenv("INSTALLER_TEST_NOW"));
        setenv("INSTALLER_PROC_CMDLINE", "inst.x=MY_INSTALLER_Y", 1);
        assert_string_equal(test_seam_getenv("INSTALLER_TEST_NOW"), "86400");
        unsetenv("INSTALLER_TEST_NOW");
        unsetenv("INSTALLER_PROC_CMDLINE");
}

/* A self-signed certificate, a CA or not, as PEM. */
static char *make_cert(bool ca, const char *cn) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        X509 *x = X509_new();
        X509V3_CTX ctx;
        X509_EXTENSION *ext;
        BIO *b = BIO_new(BIO_s_mem());
        char *data = NULL, *pem;
        long n;

        assert_non_null(k);
        assert_non_null(x);
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 86400);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *) cn, -1, -1, 0);
        X509_set_issuer_name(x, X509_get_subject_name(x));
        X509_set_pubkey(x, k);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        assert_non_null(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        assert_true(X509_sign(x, k, EVP_sha256()) > 0);
        assert_int_equal(PEM_write_bio_X509(b, x), 1);
        n = BIO_get_mem_data(b, &data);
        pem = strndup(data, (size_t) n);
        BIO_free(b);
        X509_free(x);
        EVP_PKEY_free(k);
        return pem;
}

static void test_parse_ca(void **state) {
        _cleanup_free_ char *pem = make_cert(true, "Unit CA"), *leaf = make_cert(false, "leaf"), *two = NULL,
                            *err = NULL;
        FetchCa ca = {}, ca2 = {};
        char digest[65];

        assert_int_equal(fetch_tls_parse_ca(pem, strlen(pem), &ca, &err), 0);
        assert_string_equal(ca.subject, "CN = Unit CA");
        assert_int_equal(sha256_hex(ca.der, ca.der_size, digest), 0);
        assert_string_equal(digest, ca.sha256);
        /* The same certificate as DER: the same pin. */
        assert_int_equal(fetch_tls_parse_ca(ca.der, ca.der_size, &ca2, &err), 0);
        assert_string_equal(ca2.sha256, ca.sha256);
        fetch_ca_done(&ca2);

        /* Text around the PEM block is ignored. */
        two = strprintf("# the site's second CA\n%s", pem);
        assert_int_equal(fetch_tls_parse_ca(two, strlen(two), &ca2, &err), 0);
        assert_string_equal(ca2.sha256, ca.sha256);
        fetch_ca_done(&ca2);
        free(two);

        /* Refused: two certificates, not a CA, not a certificate, a damaged one. */
        two = strprintf("%s%s", pem, pem);
        assert_int_equal(fetch_tls_parse_ca(two, strlen(two), &ca2, &err), -EINVAL);
        assert_non_null(strstr(err, "more than one certificate"));
        free(TAKE_PTR(err));
        assert_int_equal(fetch_tls_parse_ca(leaf, strlen(leaf), &ca2, &err), -EINVAL);
        assert_non_null(strstr(err, "'CN = leaf' is not a CA certificate"));
        free(TAKE_PTR(err));
        assert_int_equal(fetch_tls_parse_ca("hello", 5, &ca2, &err), -EINVAL);
        assert_non_null(strstr(err, "no PEM certificate"));
        free(TAKE_PTR(err));
        char *mid = strstr(pem, "\n") + 10;
        *mid = *mid == 'A' ? 'B' : 'A';
        assert_int_equal(fetch_tls_parse_ca(pem, strlen(pem), &ca2, &err), -EINVAL);
        free(TAKE_PTR(err));
        unsigned char bad[8] = { 0x30, 0x82, 0x01 };
        assert_int_equal(fetch_tls_parse_ca(bad, sizeof bad, &ca2, &err), -EINVAL);
        assert_non_null(strstr(err, "not a DER or PEM certificate"));
        fetch_ca_done(&ca);
}

static void test_site_ca_file(void **state) {
        char path[] = "/tmp/test-tls-XXXXXX";
        _cleanup_free_ char *pem = make_cert(true, "Site CA"), *leaf = make_cert(false, "leaf"), *d = NULL, *err = NULL;
        int fd = mkstemp(path);
        FetchCa ca = {};

        assert_true(fd >= 0);
        assert_int_equal(write(fd, pem, strlen(pem)), (ssize_t) strlen(pem));
        close(fd);
        setenv("INSTALLER_SITE_CA", path, 1);
        fetch_tls_reset();
        assert_int_equal(fetch_tls_describe(&d, &err), 0);
        assert_non_null(strstr(d, "verified against the site CA 'CN = Site CA'"));
        assert_non_null(strstr(d, "only, not the public CA bundle"));
        free(TAKE_PTR(d));
        /* At most FETCH_TLS_MAX_EXTRA_CAS added CAs. */
        assert_int_equal(fetch_tls_parse_ca(pem, strlen(pem), &ca, &err), 0);
        for (unsigned i = 0; i < FETCH_TLS_MAX_EXTRA_CAS; i++)
                assert_int_equal(fetch_tls_add_ca(&ca), 0);
        assert_int_equal(fetch_tls_add_ca(&ca), -E2BIG);
        fetch_ca_done(&ca);

        /* A file that is there but unusable: every https request fails. */
        fd = open(path, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, leaf, strlen(leaf)), (ssize_t) strlen(leaf));
        close(fd);
        fetch_tls_reset();
        assert_int_equal(fetch_tls_describe(&d, &err), -EPROTO);
        assert_non_null(strstr(err, "is not a CA certificate"));
        assert_int_equal(fetch_tls_parse_ca(pem, strlen(pem), &ca, NULL), 0);
        assert_int_equal(fetch_tls_add_ca(&ca), -EPROTO);
        fetch_ca_done(&ca);
        free(TAKE_PTR(err));

        /* No file: the system bundle. */
        unlink(path);
        fetch_tls_reset();
        assert_int_equal(fetch_tls_describe(&d, &err), 0);
        assert_non_null(strstr(d, "no site CA in this boot image"));
        fetch_tls_reset();
        unsetenv("INSTALLER_SITE_CA");
}

#define HEAD "version: 1\nhostname: h\ndisk:\n  select: { path: /dev/vda }\n  partitions: [ { size: rest, mount: / } ]\n" \
             "image: { url: http://h/i.tar.zst, sha256: " SHA " }\n"
#define SHA2 "f123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_profile_tls(void **state) {
        static const char good[] = HEAD "tls:\n  ca:\n    - url: ca/site2.pem\n      sha256: " SHA "\n"
                                        "    - { url: \"https://u:p@h/ca.pem?t=1\", sha256: \"" SHA2 "\" }\n";
        static const char bad[] = HEAD "tls:\n  ca:\n    - url: ftp://h/ca.pem\n      sha256: 12\n"
                                       "    - { sha256: " SHA " }\n  pin: x\n";
        Profile *p = NULL;
        ProfileErrors e = {};

        assert_int_equal(profile_load_string("p.yaml", good, strlen(good), &p, &e), 0);
        assert_int_equal(p->tls.n_cas, 2);
        assert_string_equal(p->tls.cas[0].url, "ca/site2.pem");
        assert_string_equal(p->tls.cas[0].document, "p.yaml");
        assert_string_equal(p->tls.cas[0].sha256, SHA);
        assert_int_equal(p->tls.cas[0].line, 9);
        assert_int_equal(p->tls.cas[0].column, 7);
        assert_string_equal(p->tls.cas[1].url, "https://u:p@h/ca.pem?t=1");
        profile_free(p);
        p = NULL;

        assert_int_equal(profile_load_string("p.yaml", bad, strlen(bad), &p, &e), -EINVAL);
        assert_null(p);
        assert_int_equal(e.n, 4);
        assert_string_equal(e.v[0].key, "tls.ca[0].url");
        assert_int_equal(e.v[0].line, 9);
        assert_int_equal(e.v[0].column, 12);
        assert_string_equal(e.v[1].key, "tls.ca[0].sha256");
        assert_int_equal(e.v[1].line, 10);
        assert_string_equal(e.v[2].key, "tls.ca[1].url");
        assert_int_equal(e.v[2].line, 11);
        assert_non_null(strstr(e.v[2].message, "url"));
        assert_string_equal(e.v[3].key, "tls.pin");
        profile_errors_done(&e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clock_check),
                cmocka_unit_test(test_clock_seam),
                cmocka_unit_test(test_parse_ca),
                cmocka_unit_test(test_site_ca_file),
                cmocka_unit_test(test_profile_tls),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
