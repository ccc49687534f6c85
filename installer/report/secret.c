/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The secrets that must never be printed or sent: the report token, password
 * hashes, credentials and queries of URLs. Callers never print them in the
 * first place; this registry is the second line of defence, applied to every
 * event and to everything written to stdout and stderr while events are on.
 * Used from the sender thread too, hence the lock. */
#include <pthread.h>
#include <string.h>

#include "basic/strutil.h"
#include "report/report.h"

#define REDACTED "[redacted]"

static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t n_secrets;

int report_secret_add(const char *secret) {
        int r = 0;

        if (!secret || strlen(secret) < REPORT_SECRET_MIN)
                return 0;
        pthread_mutex_lock(&secrets_lock);
        for (size_t i = 0; i < n_secrets; i++)
                if (streq(secrets[i], secret))
                        goto out;
        char **v = realloc(secrets, (n_secrets + 1) * sizeof(char *));
        if (!v) {
                r = -ENOMEM;
                goto out;
        }
        secrets = v;
        if (!(secrets[n_secrets] = strdup(secret))) {
                r = -ENOMEM;
                goto out;
        }
        n_secrets++;
out:
        pthread_mutex_unlock(&secrets_lock);
        return r;
}

int report_secret_add_url(const char *url) {
        const char *a, *end, *at = NULL, *q;
        int r;

        if (!url || !(a = strstr(url, "://")))
                return 0;
        a += 3;
        end = a + strcspn(a, "/?#");
        for (const char *p = a; p < end; p++)
                if (*p == '@')
                        at = p;
        if (at) {
                _cleanup_free_ char *userinfo = strndup(a, (size_t) (at - a));
                if (!userinfo)
                        return -ENOMEM;
                r = report_secret_add(userinfo);
                if (r < 0)
                        return r;
                char *colon = strchr(userinfo, ':');
                if (colon && (r = report_secret_add(colon + 1)) < 0)
                        return r;
                explicit_bzero(userinfo, strlen(userinfo));
        }
        q = strchr(end, '?');
        if (q) {
                _cleanup_free_ char *query = strndup(q + 1, strcspn(q + 1, "#"));
                if (!query)
                        return -ENOMEM;
                r = report_secret_add(query);
                if (r < 0)
                        return r;
        }
        return 0;
}

char *report_scrub(const char *s) {
        StrBuf b = {};
        const char *p = s;
        int r = 0;

        pthread_mutex_lock(&secrets_lock);
        if (n_secrets == 0) {
                pthread_mutex_unlock(&secrets_lock);
                return strdup(s);
        }
        while (*p && r >= 0) {
                size_t hit = 0;
                for (size_t i = 0; i < n_secrets; i++) { /* the longest match wins */
                        size_t n = strlen(secrets[i]);
                        if (n > hit && strncmp(p, secrets[i], n) == 0)
                                hit = n;
                }
                if (hit) {
                        r = strbuf_append(&b, REDACTED);
                        p += hit;
                } else {
                        size_t n = 1;
                        /* Skip ahead to the next byte that starts some secret. */
                        while (p[n]) {
                                bool may = false;
                                for (size_t i = 0; i < n_secrets && !may; i++)
                                        may = secrets[i][0] == p[n];
                                if (may)
                                        break;
                                n++;
                        }
                        r = strbuf_append_n(&b, p, n);
                        p += n;
                }
        }
        pthread_mutex_unlock(&secrets_lock);
        if (r >= 0 && !b.data)
                r = strbuf_append(&b, "");
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

void report_secrets_clear(void) {
        pthread_mutex_lock(&secrets_lock);
        for (size_t i = 0; i < n_secrets; i++) {
                explicit_bzero(secrets[i], strlen(secrets[i]));
                free(secrets[i]);
        }
        free(secrets);
        secrets = NULL;
        n_secrets = 0;
        pthread_mutex_unlock(&secrets_lock);
}
