/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The profile's tls.ca (docs/tls.md): each CA certificate fetched over what
 * is trusted so far (the site CA, or the system bundle), checked against
 * the sha256 the profile pins, and only then trusted for the image, files,
 * keys and reports. Every CA is fetched and checked before the first is
 * added: one bad pin adds none. */
#include <string.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "basic/url.h"
#include "fetch/fetch.h"
#include "install/install.h"
#include "profile/profile.h"
#include "report/report.h"

#define CA_MAX_SIZE (64 * 1024) /* bytes: one certificate */

/* The URL a CA reference stands for: relative ones against the document
 * (profile or fragment) that gives them, as that document was fetched. */
static int ca_resolve_url(const ProfileTlsCa *ca, char *const *doc_names, char *const *doc_urls, char **ret) {
        const char *base = NULL;

        if (url_has_scheme(ca->url)) {
                *ret = strdup(ca->url);
                return *ret ? 0 : -ENOMEM;
        }
        for (size_t i = 0; doc_names && doc_names[i] && doc_urls && doc_urls[i]; i++)
                if (streq_ptr(doc_names[i], ca->document))
                        base = doc_urls[i];
        if (!base)
                return -EINVAL;
        return url_resolve(base, ca->url, ret);
}

int install_tls(const Profile *p, char *const *doc_names, char *const *doc_urls, ProfileErrors *errors) {
        _cleanup_free_ FetchCa *cas = NULL;
        int ret = EXIT_OK, r;

        if (p->tls.n_cas == 0)
                return EXIT_OK;
        cas = new0(FetchCa, p->tls.n_cas);
        if (!cas)
                return EXIT_FAILURE_GENERIC;
        for (size_t i = 0; i < p->tls.n_cas && ret == EXIT_OK; i++) {
                const ProfileTlsCa *ca = &p->tls.cas[i];
                _cleanup_free_ char *url = NULL, *safe = NULL, *err = NULL, *data = NULL, *what = NULL;
                const char *file = ca->document ?: p->filename;
                FetchOptions o = { .max_size = CA_MAX_SIZE };
                size_t size = 0;

                what = strprintf("tls.ca[%zu]", i);
                if (!what)
                        return EXIT_FAILURE_GENERIC;
                r = ca_resolve_url(ca, doc_names, doc_urls, &url);
                if (r == -ENOMEM)
                        return EXIT_FAILURE_GENERIC;
                if (r < 0) {
                        (void) profile_errors_add(errors, file, ca->line, ca->column, what,
                                                  "cannot resolve the CA URL against %s", file);
                        ret = EXIT_FETCH_FAILED;
                        break;
                }
                (void) report_secret_add_url(url);
                safe = fetch_url_redact(url);
                if (!safe)
                        return EXIT_FAILURE_GENERIC;
                r = fetch_to_buffer(url, &o, &data, &size, &err);
                if (r < 0) {
                        (void) profile_errors_add(errors, file, ca->line, ca->column, what, "cannot fetch the CA: %s",
                                                  err ? err : strerror(-r));
                        ret = EXIT_FETCH_FAILED;
                        break;
                }
                free(TAKE_PTR(err));
                r = fetch_tls_parse_ca(data, size, &cas[i], &err);
                if (r == -ENOMEM)
                        return EXIT_FAILURE_GENERIC;
                if (r < 0) {
                        (void) profile_errors_add(errors, file, ca->line, ca->column, what, "%s: %s", safe,
                                                  err ? err : "not a CA certificate");
                        ret = EXIT_CHECKSUM;
                        break;
                }
                if (!streq(cas[i].sha256, ca->sha256)) {
                        (void) profile_errors_add(errors, file, ca->line, ca->column, what,
                                                  "%s: the certificate '%s' does not match the pinned sha256: "
                                                  "expected %s, got %s (sha256 of the DER form: openssl x509 "
                                                  "-outform DER | sha256sum)",
                                                  safe, cas[i].subject, ca->sha256, cas[i].sha256);
                        ret = EXIT_CHECKSUM;
                        break;
                }
        }
        for (size_t i = 0; ret == EXIT_OK && i < p->tls.n_cas; i++) {
                r = fetch_tls_add_ca(&cas[i]);
                if (r < 0) {
                        (void) profile_errors_add(errors, p->tls.cas[i].document ?: p->filename, p->tls.cas[i].line,
                                                  p->tls.cas[i].column, "tls.ca", "cannot add the CA '%s': %s",
                                                  cas[i].subject, strerror(-r));
                        ret = r == -ENOMEM ? EXIT_FAILURE_GENERIC : EXIT_FETCH_FAILED;
                        break;
                }
                report_info("tls: CA '%s' (sha256 %s) trusted for https, as the profile pins it", cas[i].subject,
                            cas[i].sha256);
        }
        for (size_t i = 0; i < p->tls.n_cas; i++)
                fetch_ca_done(&cas[i]);
        return ret;
}
