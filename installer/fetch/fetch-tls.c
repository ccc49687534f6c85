/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The trusted CAs of every https request, and the clock check before it
 * (docs/tls.md). libcurl verifies; OpenSSL parses the certificates. */
#include <assert.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <strings.h>

#include "basic/clock.h"
#include "basic/fileio.h"
#include "basic/sha256.h"
#include "basic/strutil.h"
#include "fetch/fetch-internal.h"
#include "fetch/fetch.h"

/* The process's trust, loaded once (site CA) and extended by
 * fetch_tls_add_ca(); read by every transfer thread. */
static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
        bool loaded;
        char *path;               /* the site CA file looked at */
        char *error;              /* set: the site CA file exists but is unusable */
        bool have_site_ca;
        size_t n_site;
        char *site_subject;       /* of its first certificate */
        char site_sha256[65];
        StrBuf pem;               /* site CA certificates, then the added ones */
        size_t n_extra;
        char *system_bundle;      /* without a site CA but with added CAs: the bundle's text */
        size_t system_bundle_size;
} tls;

void fetch_ca_done(FetchCa *ca) {
        if (!ca)
                return;
        free(ca->der);
        free(ca->subject);
        *ca = (FetchCa) {};
}

static char *x509_subject(X509 *x) {
        BIO *b = BIO_new(BIO_s_mem());
        char *data = NULL, *s;
        long n;

        if (!b)
                return NULL;
        X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
        n = BIO_get_mem_data(b, &data);
        s = n >= 0 ? strndup(data ? data : "", (size_t) n) : NULL;
        BIO_free(b);
        /* One printable line. */
        for (char *p = s; p && *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return s;
}

/* x as a FetchCa; -EINVAL with *ret_error when it is not a CA certificate. */
static int ca_from_x509(X509 *x, FetchCa *ret, char **ret_error) {
        FetchCa ca = {};
        unsigned char *p;
        int n;

        ca.subject = x509_subject(x);
        if (!ca.subject)
                return -ENOMEM;
        if (X509_check_ca(x) < 1) {
                if (ret_error)
                        *ret_error = strprintf("'%s' is not a CA certificate (no basicConstraints CA:TRUE)", ca.subject);
                fetch_ca_done(&ca);
                return -EINVAL;
        }
        n = i2d_X509(x, NULL);
        if (n <= 0) {
                fetch_ca_done(&ca);
                return -EINVAL;
        }
        ca.der = malloc((size_t) n);
        if (!ca.der) {
                fetch_ca_done(&ca);
                return -ENOMEM;
        }
        p = ca.der;
        ca.der_size = (size_t) i2d_X509(x, &p);
        (void) sha256_hex(ca.der, ca.der_size, ca.sha256);
        *ret = ca;
        return 0;
}

/* Every certificate of a PEM text, fn called for each: at least one, and a
 * damaged one is an error (text around the PEM blocks is ignored, as
 * OpenSSL does). */
static int pem_each_certificate(const void *data, size_t size, int (*fn)(X509 *x, void *userdata), void *userdata,
                                size_t *ret_count, char **ret_error) {
        BIO *b;
        size_t count = 0;
        int r = 0;

        if (size > INT_MAX)
                return -EFBIG;
        b = BIO_new_mem_buf(data, (int) size);
        if (!b)
                return -ENOMEM;
        for (;;) {
                X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
                if (!x) {
                        unsigned long e = ERR_peek_last_error();
                        /* The end of the text, after zero or more certificates. */
                        if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                                ERR_clear_error();
                        else {
                                char buf[256];
                                ERR_error_string_n(e, buf, sizeof buf);
                                ERR_clear_error();
                                if (ret_error)
                                        *ret_error = strprintf("certificate %zu: not a valid PEM certificate (%s)",
                                                               count + 1, buf);
                                r = -EINVAL;
                        }
                        break;
                }
                count++;
                r = fn(x, userdata);
                X509_free(x);
                if (r < 0)
                        break;
        }
        BIO_free(b);
        if (r >= 0 && count == 0) {
                if (ret_error)
                        *ret_error = strdup("no PEM certificate in it (\"-----BEGIN CERTIFICATE-----\")");
                r = -EINVAL;
        }
        if (ret_count)
                *ret_count = count;
        return r;
}

typedef struct ParseOne {
        X509 *x;
} ParseOne;

static int keep_one(X509 *x, void *userdata) {
        ParseOne *p = userdata;

        if (p->x)
                return -E2BIG;
        X509_up_ref(x);
        p->x = x;
        return 0;
}

int fetch_tls_parse_ca(const void *data, size_t size, FetchCa *ret, char **ret_error) {
        ParseOne one = {};
        size_t count = 0;
        int r;

        assert(data && ret);
        if (size > 0 && ((const unsigned char *) data)[0] == 0x30) {
                /* DER: one certificate, all of it. */
                const unsigned char *p = data;
                X509 *x = size <= LONG_MAX ? d2i_X509(NULL, &p, (long) size) : NULL;
                if (!x || p != (const unsigned char *) data + size) {
                        ERR_clear_error();
                        X509_free(x);
                        if (ret_error)
                                *ret_error = strdup("not a DER or PEM certificate");
                        return -EINVAL;
                }
                r = ca_from_x509(x, ret, ret_error);
                X509_free(x);
                return r;
        }
        r = pem_each_certificate(data, size, keep_one, &one, &count, ret_error);
        if (r == -E2BIG) {
                if (ret_error)
                        *ret_error = strdup("more than one certificate in it (a CA is pinned one at a time)");
                r = -EINVAL;
        }
        if (r >= 0)
                r = ca_from_x509(one.x, ret, ret_error);
        X509_free(one.x);
        return r;
}

static int append_pem(X509 *x) {
        BIO *b = BIO_new(BIO_s_mem());
        char *data = NULL;
        long n;
        int r = -ENOMEM;

        if (!b)
                return -ENOMEM;
        if (PEM_write_bio_X509(b, x) == 1 && (n = BIO_get_mem_data(b, &data)) > 0)
                r = strbuf_append_n(&tls.pem, data, (size_t) n);
        BIO_free(b);
        return r;
}

/* One site CA certificate: checked, its PEM re-encoded into tls.pem (so
 * that libcurl sees exactly what was checked). */
static int add_site_certificate(X509 *x, void *userdata) {
        char **err = userdata;
        FetchCa ca = {};
        int r;

        r = ca_from_x509(x, &ca, err);
        if (r < 0)
                return r;
        if (tls.n_site == 0) {
                tls.site_subject = TAKE_PTR(ca.subject);
                memcpy(tls.site_sha256, ca.sha256, sizeof tls.site_sha256);
        }
        fetch_ca_done(&ca);
        r = append_pem(x);
        if (r >= 0)
                tls.n_site++;
        return r;
}

/* Called with tls_lock held. */
static void load_locked(void) {
        _cleanup_free_ char *data = NULL, *err = NULL;
        const char *path;
        size_t size = 0;
        int r;

        if (tls.loaded)
                return;
        tls.loaded = true;
        path = test_seam_getenv("INSTALLER_SITE_CA") ?: FETCH_SITE_CA_PATH;
        tls.path = strdup(path);
        r = read_full_file(path, &data, &size);
        if (r == -ENOENT)
                return; /* no site CA: the system bundle */
        if (r < 0) {
                tls.error = strprintf("site CA %s: %s", path, strerror(-r));
                return;
        }
        r = pem_each_certificate(data, size, add_site_certificate, &err, NULL, &err);
        if (r < 0) {
                tls.error = strprintf("site CA %s: %s", path, err ? err : strerror(-r));
                strbuf_done(&tls.pem);
                tls.n_site = 0;
                return;
        }
        tls.have_site_ca = true;
}

void fetch_tls_reset(void) {
        pthread_mutex_lock(&tls_lock);
        free(tls.path);
        free(tls.error);
        free(tls.site_subject);
        strbuf_done(&tls.pem);
        free(tls.system_bundle);
        tls = (typeof(tls)) {};
        pthread_mutex_unlock(&tls_lock);
}

int fetch_tls_describe(char **ret, char **ret_error) {
        int r = 0;

        pthread_mutex_lock(&tls_lock);
        load_locked();
        if (tls.error) {
                if (ret_error)
                        *ret_error = strdup(tls.error);
                r = -EPROTO;
        } else if (tls.have_site_ca)
                *ret = strprintf("https: verified against the site CA '%s' (sha256 %.16s...)%s from %s%s only, "
                                 "not the public CA bundle",
                                 tls.site_subject ?: "?", tls.site_sha256,
                                 tls.n_site > 1 ? " and the file's other certificates" : "", tls.path,
                                 tls.n_extra > 0 ? " and the profile's CAs" : "");
        else
                *ret = strprintf("https: no site CA in this boot image (%s): verified against the system CA bundle%s",
                                 tls.path ?: FETCH_SITE_CA_PATH, tls.n_extra > 0 ? " and the profile's CAs" : "");
        if (r >= 0 && !*ret)
                r = -ENOMEM;
        pthread_mutex_unlock(&tls_lock);
        return r;
}

int fetch_tls_add_ca(const FetchCa *ca) {
        const unsigned char *p = ca->der;
        X509 *x;
        int r;

        pthread_mutex_lock(&tls_lock);
        load_locked();
        if (tls.error) {
                r = -EPROTO;
                goto out;
        }
        if (tls.n_extra >= FETCH_TLS_MAX_EXTRA_CAS) {
                r = -E2BIG;
                goto out;
        }
        if (!tls.have_site_ca && !tls.system_bundle) {
                /* CURLOPT_CAINFO_BLOB replaces the bundle file: keep its
                 * certificates in the blob too. */
                CURL *c = curl_easy_init();
                char *bundle = NULL;
                if (c && curl_easy_getinfo(c, CURLINFO_CAINFO, &bundle) == CURLE_OK && bundle)
                        (void) read_full_file(bundle, &tls.system_bundle, &tls.system_bundle_size);
                curl_easy_cleanup(c);
        }
        x = ca->der_size <= LONG_MAX ? d2i_X509(NULL, &p, (long) ca->der_size) : NULL;
        if (!x) {
                ERR_clear_error();
                r = -EINVAL;
                goto out;
        }
        r = append_pem(x);
        X509_free(x);
        if (r >= 0)
                tls.n_extra++;
out:
        pthread_mutex_unlock(&tls_lock);
        return r;
}

static bool is_https(const char *url) {
        return strncasecmp(url, "https:", 6) == 0;
}

static bool is_http(const char *url) {
        return strncasecmp(url, "http:", 5) == 0;
}

int fetch_tls_setup(CURL *c, const char *url, char *errbuf) {
        _cleanup_free_ char *err = NULL;
        StrBuf blob = {};
        int r = 0;

        /* http too: it may redirect to https, which must meet the same CAs. */
        if (!is_https(url) && !is_http(url))
                return 0;
        if (is_https(url)) {
                r = clock_check(clock_now(), &err);
                if (r < 0) {
                        snprintf(errbuf, CURL_ERROR_SIZE, "%s", err ? err : "the clock is wrong");
                        return -EPROTO;
                }
        }
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);

        pthread_mutex_lock(&tls_lock);
        load_locked();
        if (tls.error && !is_https(url)) {
                /* Plain http works; a redirect to https finds no CA at all. */
                curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
                curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
        } else if (tls.error) {
                snprintf(errbuf, CURL_ERROR_SIZE, "%s: no https request is made without it", tls.error);
                r = -EPROTO;
        } else if (tls.have_site_ca || tls.n_extra > 0) {
                /* The blob replaces the bundle file (CURLOPT_CAINFO); the
                 * hashed directory (CURLOPT_CAPATH, /etc/ssl/certs) would
                 * still be searched: off too. */
                if (tls.system_bundle && !tls.have_site_ca &&
                    strbuf_append_n(&blob, tls.system_bundle, tls.system_bundle_size) < 0)
                        r = -ENOMEM;
                if (r >= 0 && strbuf_append_n(&blob, tls.pem.data, tls.pem.len) < 0)
                        r = -ENOMEM;
                if (r >= 0) {
                        struct curl_blob b = { .data = blob.data, .len = blob.len, .flags = CURL_BLOB_COPY };
                        if (curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b) != CURLE_OK)
                                r = -ENOMEM;
                        if (tls.have_site_ca) {
                                curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
                                curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
                        }
                }
                if (r == -ENOMEM)
                        snprintf(errbuf, CURL_ERROR_SIZE, "out of memory");
        }
        pthread_mutex_unlock(&tls_lock);
        strbuf_done(&blob);
        return r;
}

static const char *verify_reason(long v) {
        switch (v) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
                return "a certificate of the server's chain has expired";
        case X509_V_ERR_CERT_NOT_YET_VALID:
        case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
                return "a certificate of the server's chain is not valid yet (is this machine's clock right?)";
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
                return "the server's certificate is not signed by a trusted CA";
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
                return "the server's certificate is for another host name";
        case X509_V_ERR_INVALID_CA:
        case X509_V_ERR_INVALID_PURPOSE:
                return "the server's certificate chain is not valid for a TLS server";
        default:
                return NULL;
        }
}

void fetch_tls_explain(CURL *c, const char *url, CURLcode cc, char *errbuf) {
        char curl_text[CURL_ERROR_SIZE], trusted[256] = "";
        const char *reason = NULL;
        long v = X509_V_OK;

        /* http: redirected to https. */
        if (!is_https(url) && !is_http(url))
                return;
        if (cc != CURLE_PEER_FAILED_VERIFICATION && cc != CURLE_SSL_CONNECT_ERROR)
                return;
        if (curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &v) != CURLE_OK)
                v = X509_V_OK;
        /* libcurl checks the host name itself, after OpenSSL found the
         * chain good ("SSL: no alternative certificate subject name matches
         * target host name 'H'", "SSL: certificate subject name 'N' does not
         * match target host name 'H'"). */
        if (cc == CURLE_PEER_FAILED_VERIFICATION && strstr(errbuf, "target host name"))
                reason = "the server's certificate is for another host name";
        else
                reason = verify_reason(v);
        if (!reason && cc == CURLE_PEER_FAILED_VERIFICATION)
                reason = "the server's certificate could not be verified";
        if (!reason)
                return; /* a handshake failure of another kind: curl's text says it */
        pthread_mutex_lock(&tls_lock);
        if (tls.have_site_ca)
                snprintf(trusted, sizeof trusted, "; trusted: the site CA '%.60s'%s", tls.site_subject ?: "?",
                         tls.n_extra > 0 ? " and the profile's CAs" : "");
        else
                snprintf(trusted, sizeof trusted, "; trusted: the system CA bundle%s",
                         tls.n_extra > 0 ? " and the profile's CAs" : "");
        pthread_mutex_unlock(&tls_lock);
        snprintf(curl_text, sizeof curl_text, "%s", errbuf);
        /* errbuf holds CURL_ERROR_SIZE bytes: what matters most first. */
        char text[1024];
        snprintf(text, sizeof text, "TLS certificate refused: %s%s (curl: %s)", reason, trusted, curl_text);
        snprintf(errbuf, CURL_ERROR_SIZE, "%.*s", CURL_ERROR_SIZE - 1, text);
}
