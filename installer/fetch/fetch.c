/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fetch/fetch.h"

#include <assert.h>
#include <curl/curl.h>
#include <sys/stat.h>
#include <time.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "basic/url.h"

int fetch_global_init(void) {
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void fetch_global_done(void) {
        curl_global_cleanup();
}

char *fetch_url_redact(const char *url) {
        /* One redaction rule for the whole installer (iPXE's: no user,
         * password, query or fragment). */
        return url_redact(url);
}

typedef struct Sink {
        CURL *curl;
        uint64_t *content_length; /* set before the first byte is passed on */
        bool started;
        StrBuf buf;
        size_t max;
        bool too_big;
        fetch_write_cb cb;
        void *userdata;
        int cb_error;
} Sink;

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Sink *s = userdata;
        size_t n = size * nmemb;

        if (!s->started) {
                curl_off_t cl = -1;
                s->started = true;
                if (s->content_length &&
                    curl_easy_getinfo(s->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl > 0)
                        *s->content_length = (uint64_t) cl;
        }
        if (s->cb) {
                int r = s->cb(ptr, n, s->userdata);
                if (r < 0) {
                        s->cb_error = r;
                        return 0;
                }
                return n;
        }
        if (s->buf.len + n > s->max) {
                s->too_big = true;
                return 0;
        }
        return strbuf_append_n(&s->buf, ptr, n) < 0 ? 0 : n;
}

static int curl_code_to_errno(CURLcode c) {
        switch (c) {
        case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
        case CURLE_FILE_COULDNT_READ_FILE: return -ENOENT;
        case CURLE_OUT_OF_MEMORY: return -ENOMEM;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR: return -EPROTO;
        default: return -EIO;
        }
}

static bool transient(int r) {
        return r == -ETIMEDOUT || r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -EIO;
}

static int hexval(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A file: URL must name a regular file of at most max bytes (max 0: any
 * size): libcurl would open a FIFO and wait for a writer forever, and read a
 * device such as /dev/zero until the size limit. Checked before the
 * transfer; 0 for other URLs, -EBADFD (not a regular file), -EISDIR, -EFBIG,
 * -ENOENT..., -EINVAL (not file:///PATH). */
static int check_file_url(const char *url, size_t max) {
        const char *p = startswith(url, "file://");
        _cleanup_free_ char *path = NULL;
        struct stat st;
        size_t o = 0;

        if (!p)
                return 0;
        if (*p != '/')
                return -EINVAL; /* file://host/...: the profile checker allows only file:///PATH */
        path = new0(char, strlen(p) + 1);
        if (!path)
                return -ENOMEM;
        /* libcurl decodes %XX in the path and ignores a query or fragment. */
        for (; *p && *p != '?' && *p != '#'; p++) {
                if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
                        path[o++] = (char) (hexval(p[1]) * 16 + hexval(p[2]));
                        p += 2;
                } else
                        path[o++] = *p;
        }
        if (memchr(path, 0, o))
                return -EINVAL;
        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (max > 0 && (uint64_t) st.st_size > max)
                return -EFBIG;
        return 0;
}

/* One transfer. Returns 0 or -errno; *http_code set for HTTP. */
static int transfer(const char *url, Sink *s, unsigned timeout_sec, const char *bearer_token, long *http_code,
                    uint64_t *total, char errbuf[static CURL_ERROR_SIZE]) {
        _cleanup_free_ char *auth = NULL;
        struct curl_slist *headers = NULL;
        CURL *c = curl_easy_init();
        CURLcode cc;
        int r = 0;

        errbuf[0] = 0;
        r = check_file_url(url, s->cb ? 0 : s->max);
        if (r < 0) {
                snprintf(errbuf, CURL_ERROR_SIZE, "%s",
                         r == -EBADFD ? "not a regular file (a FIFO, socket or device is never read)"
                         : r == -EISDIR ? "is a directory" : r == -EFBIG ? "file too large" : strerror(-r));
                curl_easy_cleanup(c);
                return r;
        }
        if (!c)
                return -ENOMEM;
        s->curl = c;
        curl_easy_setopt(c, CURLOPT_URL, url);
        /* An error page is not a profile or an image. */
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        if (bearer_token) {
                /* The token goes to this URL only: no redirects, no file://. */
                auth = strprintf("Authorization: Bearer %s", bearer_token);
                headers = auth ? curl_slist_append(NULL, auth) : NULL;
                if (!headers) {
                        if (auth)
                                explicit_bzero(auth, strlen(auth));
                        curl_easy_cleanup(c);
                        return -ENOMEM;
                }
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
                curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        } else {
                curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
                curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        }
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "bare-metal-installer/0.1");
        if (timeout_sec)
                curl_easy_setopt(c, CURLOPT_TIMEOUT, (long) timeout_sec);
        else {
                /* Streams: give up only when the transfer stalls. */
                curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
                curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
        }
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, bearer_token ? "http,https" : "http,https,file");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");

        cc = curl_easy_perform(c);
        *http_code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http_code);
        if (total) {
                curl_off_t dl = 0;
                curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &dl);
                *total = (uint64_t) dl;
        }
        if (s->too_big)
                r = -EFBIG;
        else if (s->cb_error)
                r = s->cb_error;
        else if (*http_code == 404 || *http_code == 410)
                r = -ENOENT;
        else if (*http_code >= 400)
                r = *http_code >= 500 ? -EIO : -EACCES;
        else if (bearer_token && *http_code >= 300) {
                snprintf(errbuf, CURL_ERROR_SIZE, "HTTP %ld: a redirect, not followed with a token", *http_code);
                r = -EIO;
        } else if (cc != CURLE_OK)
                r = curl_code_to_errno(cc);
        if (cc != CURLE_OK && !errbuf[0])
                snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(cc));
        curl_easy_cleanup(c);
        curl_slist_free_all(headers);
        if (auth)
                explicit_bzero(auth, strlen(auth));
        return r;
}

static char *describe(const char *url, int r, long http_code, const char *errbuf) {
        _cleanup_free_ char *safe = fetch_url_redact(url);
        if (http_code >= 400)
                return strprintf("%s: HTTP %ld", safe ? safe : "?", http_code);
        if (r == -EFBIG)
                return strprintf("%s: document too large", safe ? safe : "?");
        return strprintf("%s: %s", safe ? safe : "?", errbuf && *errbuf ? errbuf : strerror(-r));
}

int fetch_to_buffer(const char *url, const FetchOptions *opts, char **ret, size_t *ret_size, char **ret_error) {
        unsigned attempts = opts && opts->attempts ? opts->attempts : 3;
        unsigned timeout = opts && opts->timeout_sec ? opts->timeout_sec : 30;
        char errbuf[CURL_ERROR_SIZE];
        long http_code = 0;
        int r = -EIO;

        for (unsigned i = 0; i < attempts; i++) {
                Sink s = { .max = opts && opts->max_size ? opts->max_size : 4 * 1024 * 1024 };

                r = transfer(url, &s, timeout, opts ? opts->bearer_token : NULL, &http_code, NULL, errbuf);
                if (r >= 0) {
                        if (ret_size)
                                *ret_size = s.buf.len;
                        *ret = strbuf_steal(&s.buf);
                        return *ret ? 0 : -ENOMEM;
                }
                strbuf_done(&s.buf);
                if (!transient(r) || i + 1 == attempts)
                        break;
                _cleanup_free_ char *safe = fetch_url_redact(url);
                log_debug("Fetching %s failed (%s), retrying", safe ? safe : "?", errbuf);
                sleep(1u << i);
        }
        if (ret_error)
                *ret_error = describe(url, r, http_code, errbuf);
        return r;
}

int fetch_stream(const char *url, fetch_write_cb write_cb, void *userdata, uint64_t *content_length,
                 uint64_t *ret_total_size, char **ret_error) {
        char errbuf[CURL_ERROR_SIZE];
        Sink s = { .cb = write_cb, .userdata = userdata, .content_length = content_length };
        long http_code = 0;
        int r;

        r = transfer(url, &s, 0, NULL, &http_code, ret_total_size, errbuf);
        if (r < 0 && ret_error)
                *ret_error = s.cb_error ? NULL : describe(url, r, http_code, errbuf);
        return r;
}

static size_t discard_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        return size * nmemb;
}

int fetch_post(const char *url, const FetchPost *p, char **ret_error) {
        _cleanup_free_ char *auth = NULL, *ctype = NULL;
        struct curl_slist *headers = NULL, *h;
        char errbuf[CURL_ERROR_SIZE] = "";
        long http_code = 0;
        CURLcode cc;
        CURL *c;
        int r = 0;

        assert(url && p && p->content_type);
        ctype = strprintf("Content-Type: %s", p->content_type);
        if (p->bearer_token)
                auth = strprintf("Authorization: Bearer %s", p->bearer_token);
        if (!ctype || (p->bearer_token && !auth))
                return -ENOMEM;
        if (!(h = curl_slist_append(headers, ctype)))
                goto oom;
        headers = h;
        /* No "Expect: 100-continue" round trip for a large log. */
        if (!(h = curl_slist_append(headers, "Expect:")))
                goto oom;
        headers = h;
        if (auth) {
                if (!(h = curl_slist_append(headers, auth)))
                        goto oom;
                headers = h;
        }
        for (size_t i = 0; p->extra_headers && p->extra_headers[i]; i++) {
                if (!(h = curl_slist_append(headers, p->extra_headers[i])))
                        goto oom;
                headers = h;
        }
        c = curl_easy_init();
        if (!c)
                goto oom;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body ? p->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) p->size);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_write);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "bare-metal-installer/0.1");
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) (p->timeout_sec ? p->timeout_sec : 10));
        curl_easy_setopt(c, CURLOPT_TIMEOUT, (long) (p->timeout_sec ? p->timeout_sec : 10));
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");

        cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http_code);
        curl_easy_cleanup(c);
        curl_slist_free_all(headers);
        if (auth)
                explicit_bzero(auth, strlen(auth));

        if (cc != CURLE_OK)
                r = curl_code_to_errno(cc);
        else if (http_code == 401 || http_code == 403)
                r = -EACCES;
        else if (http_code == 404 || http_code == 410)
                r = -ENOENT;
        else if (http_code == 413)
                r = -EFBIG;
        else if (http_code == 400 || http_code == 415 || http_code == 422)
                r = -EBADMSG;
        else if (http_code < 200 || http_code >= 300)
                r = -EIO;
        if (r < 0 && ret_error) {
                if (cc != CURLE_OK && !errbuf[0])
                        snprintf(errbuf, sizeof errbuf, "%s", curl_easy_strerror(cc));
                *ret_error = describe(url, r, cc == CURLE_OK ? (http_code >= 400 ? http_code : 0) : 0, errbuf);
                if (*ret_error && cc == CURLE_OK && http_code < 400) {
                        free(*ret_error);
                        _cleanup_free_ char *safe = fetch_url_redact(url);
                        *ret_error = strprintf("%s: unexpected HTTP %ld", safe ? safe : "?", http_code);
                }
        }
        return r;
oom:
        curl_slist_free_all(headers);
        if (auth)
                explicit_bzero(auth, strlen(auth));
        return -ENOMEM;
}
