/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "auth.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strutil.h"

/* Limits of the edge (docs/site.md, "Limits"). */
#define HTTP_CONNECTION_TIMEOUT_SEC 60   /* idle connections (the installer's POSTs time out after 10 s) */
#define HTTP_CONNECTIONS_PER_THREAD 250  /* libmicrohttpd splits its limit over the worker threads */
#define HTTP_PER_IP_LIMIT 200
#define HTTP_DISCARD_MAX (1024 * 1024)   /* past a body's cap, read this much more, then hang up */

/* ---- the Store pool: one Store per worker thread ---- */

struct StorePool {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        Store **stores;
        bool *busy;
        size_t n;
};

static void pool_free(StorePool *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                store_close(p->stores[i]);
        free(p->stores);
        free(p->busy);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->cond);
        free(p);
}

static int pool_new(const char *url, size_t n, StorePool **ret) {
        StorePool *p = new0(StorePool, 1);

        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->cond, NULL);
        p->stores = new0(Store *, n);
        p->busy = new0(bool, n);
        if (!p->stores || !p->busy) {
                pool_free(p);
                return -ENOMEM;
        }
        for (; p->n < n; p->n++) {
                _cleanup_free_ char *error = NULL;
                int r = store_open(url, &p->stores[p->n], &error);
                if (r < 0) {
                        log_error_errno(r, "Failed to open the store: %s", error ? error : strerror(-r));
                        pool_free(p);
                        return r;
                }
        }
        *ret = p;
        return 0;
}

static Store *pool_acquire(StorePool *p) {
        Store *s = NULL;

        pthread_mutex_lock(&p->lock);
        for (;;) {
                for (size_t i = 0; i < p->n; i++)
                        if (!p->busy[i]) {
                                p->busy[i] = true;
                                s = p->stores[i];
                                break;
                        }
                if (s)
                        break;
                pthread_cond_wait(&p->cond, &p->lock);
        }
        pthread_mutex_unlock(&p->lock);
        return s;
}

static void pool_release(StorePool *p, Store *s) {
        pthread_mutex_lock(&p->lock);
        for (size_t i = 0; i < p->n; i++)
                if (p->stores[i] == s)
                        p->busy[i] = false;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
}

Store *http_store(Request *r) {
        return pool_acquire(r->server->pool);
}

void http_store_release(Request *r, Store *s) {
        if (s)
                pool_release(r->server->pool, s);
}

int64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- paths ---- */

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int http_decode_path(const char *raw, char **ret, const char **reason) {
        size_t n = strcspn(raw, "?#");
        _cleanup_free_ char *out = malloc(n + 1);
        size_t len = 0;

        if (!out)
                return -ENOMEM;
        if (n == 0 || raw[0] != '/') {
                *reason = "the path does not start with /";
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) raw[i];
                if (c == '%') {
                        int hi = i + 2 < n ? unhex(raw[i + 1]) : -1, lo = hi >= 0 ? unhex(raw[i + 2]) : -1;
                        if (hi < 0 || lo < 0) {
                                *reason = "malformed percent-encoding";
                                return -EINVAL;
                        }
                        c = (unsigned char) (hi * 16 + lo);
                        i += 2;
                        if (c == 0) {
                                *reason = "an encoded NUL (%00) in the path";
                                return -EPERM;
                        }
                        if (c == '/' || c == '\\') {
                                *reason = c == '/' ? "an encoded slash in the path" : "an encoded backslash in the path";
                                return -EPERM;
                        }
                }
                if (c < 0x20 || c == 0x7f) {
                        *reason = "a control character in the path";
                        return -EPERM;
                }
                if (c == '\\') {
                        *reason = "a backslash in the path";
                        return -EPERM;
                }
                out[len++] = (char) c;
        }
        out[len] = '\0';

        /* Segments: no "." or "..", no empty one but the last ("/dir/"). */
        for (const char *seg = out + 1;;) {
                const char *end = strchrnul(seg, '/');
                size_t l = (size_t) (end - seg);
                if ((l == 1 && seg[0] == '.') || (l == 2 && seg[0] == '.' && seg[1] == '.')) {
                        *reason = "a . or .. segment in the path";
                        return -EPERM;
                }
                if (l == 0 && *end == '/') {
                        *reason = "an empty segment (//) in the path";
                        return -EPERM;
                }
                if (!*end)
                        break;
                seg = end + 1;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* The path for logs: undecoded, without the query (which may hold anything),
 * printable ASCII only, at most 200 characters. */
void http_log_path(const char *raw, char buf[static 204]) {
        size_t i = 0;

        for (const char *p = raw ? raw : "-"; *p && *p != '?' && *p != '#' && i < 200; p++)
                buf[i++] = (*p > ' ' && *p < 0x7f && *p != '"') ? *p : '?';
        if (raw && strlen(raw) > 200 && strcspn(raw, "?#") > 200) {
                memcpy(buf + i, "...", 3);
                i += 3;
        }
        buf[i] = '\0';
}

/* ---- answers ---- */

void http_add_security_headers(struct MHD_Response *resp) {
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

void http_queue(Request *r, unsigned status, struct MHD_Response *resp, uint64_t bytes) {
        if (!resp) {
                if (!r->answered)
                        log_error("Out of memory answering %s", r->method);
                return;
        }
        if (r->answered) {
                MHD_destroy_response(resp);
                return;
        }
        http_add_security_headers(resp);
        if (MHD_queue_response(r->conn, status, resp) != MHD_YES)
                log_error("libmicrohttpd refused to queue a %u answer", status);
        else {
                r->answered = true;
                r->status = status;
                r->bytes = bytes;
        }
        MHD_destroy_response(resp);
}

void http_respond(Request *r, unsigned status, const char *content_type, char *body_owned, size_t len) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, body_owned, MHD_RESPMEM_MUST_FREE);

        if (!resp) {
                free(body_owned);
                return;
        }
        if (content_type)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        http_queue(r, status, resp, len);
}

void http_respond_text(Request *r, unsigned status, const char *content_type, const char *text) {
        char *copy = strdup(text);

        if (copy)
                http_respond(r, status, content_type, copy, strlen(copy));
}

void http_respond_json(Request *r, unsigned status, void *json_owned) {
        json_t *j = json_owned;
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

        json_decref(j);
        if (!text) {
                struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
                http_queue(r, 500, resp, 0);
                return;
        }
        size_t len = strlen(text);
        /* A newline makes curl and shells happy. */
        char *nl = realloc(text, len + 2);
        if (nl) {
                text = nl;
                text[len++] = '\n';
                text[len] = '\0';
        }
        http_respond(r, status, "application/json", text, len);
}

void http_refuse(Request *r, unsigned status, const char *fmt, ...) {
        char reason[512], path[204];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        /* A reason may quote what the client sent (a machine name, a
         * jansson error): printable ASCII only, so that neither the log
         * gets terminal escapes nor json_pack() fails on invalid UTF-8
         * (which would turn this 4xx into an empty 500). */
        for (char *p = reason; *p; p++)
                if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
                        *p = '?';
        http_log_path(r->raw_target, path);
        if (status >= 500)
                log_error("refused: %s %s from %s: %u %s", r->method ? r->method : "-", path, r->client, status, reason);
        else
                log_notice("refused: %s %s from %s: %u %s", r->method ? r->method : "-", path, r->client, status, reason);
        if (r->path && startswith(r->path, "/api/")) {
                json_t *j = json_pack("{s:s}", "error", reason);
                http_respond_json(r, status, j);
        } else {
                char *text = strprintf("%u %s\n", status, reason);
                if (text)
                        http_respond(r, status, "text/plain; charset=utf-8", text, strlen(text));
        }
}

void http_accept_body(Request *r, size_t cap, RequestFinish finish) {
        const char *cl = http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);

        r->finish = finish;
        r->body_cap = cap;
        if (cl) {
                char *end;
                errno = 0;
                unsigned long long v = strtoull(cl, &end, 10);
                if (errno || end == cl || *end)
                        return http_refuse(r, 400, "malformed Content-Length");
                if (v > cap)
                        return http_refuse(r, 413, "the body (%llu bytes) is larger than %zu bytes", v, cap);
        }
}

const char *http_header(Request *r, const char *name) {
        return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_arg(Request *r, const char *name) {
        return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_bearer(Request *r) {
        const char *h = http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);

        if (!h || strncasecmp(h, "Bearer ", 7) != 0)
                return NULL;
        h += 7;
        while (*h == ' ')
                h++;
        return *h ? h : NULL;
}

bool http_content_type_is(Request *r, const char *want) {
        const char *ct = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
        size_t n = strlen(want);

        if (!ct)
                return false;
        while (*ct == ' ')
                ct++;
        if (strncasecmp(ct, want, n) != 0)
                return false;
        ct += n;
        while (*ct == ' ')
                ct++;
        return *ct == '\0' || *ct == ';';
}

/* ---- the request life cycle ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
        Request *r = new0(Request, 1);
        const union MHD_ConnectionInfo *info;

        if (!r)
                return NULL;
        r->server = cls;
        r->conn = conn;
        r->start_usec = mono_usec();
        r->raw_target = strdup(uri ? uri : "");
        snprintf(r->client, sizeof(r->client), "-");
        info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (info && info->client_addr) {
                const struct sockaddr *sa = info->client_addr;
                if (sa->sa_family == AF_INET)
                        inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, r->client, sizeof(r->client));
                else if (sa->sa_family == AF_INET6)
                        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, r->client,
                                  sizeof(r->client));
        }
        if (!r->raw_target) {
                free(r);
                return NULL;
        }
        return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        Request *r = *con_cls;

        if (!r)
                return MHD_NO; /* out of memory in on_uri */
        if (!r->routed) {
                const char *reason = "?";
                int e;

                r->routed = true;
                r->conn = conn;
                r->method = method;
                e = http_decode_path(r->raw_target, &r->path, &reason);
                if (e == -ENOMEM)
                        return MHD_NO;
                if (e == -EPERM)
                        http_refuse(r, 403, "%s", reason);
                else if (e < 0)
                        http_refuse(r, 400, "%s", reason);
                else
                        api_route(r);
                return MHD_YES;
        }

        if (*upload_data_size > 0) {
                size_t n = *upload_data_size;

                *upload_data_size = 0;
                if (r->answered)
                        return MHD_YES;
                if (!r->finish || r->body_too_big || n > r->body_cap - r->body_len) {
                        if (!r->body_too_big) {
                                r->body_too_big = true;
                                free(r->body);
                                r->body = NULL;
                                r->body_len = r->body_alloc = 0;
                        }
                        r->body_len += n; /* counted, not kept */
                        if (r->body_len > HTTP_DISCARD_MAX) {
                                char path[204];
                                http_log_path(r->raw_target, path);
                                log_notice("refused: %s %s from %s: 413 the body is larger than %zu bytes; hung up",
                                           r->method, path, r->client, r->body_cap);
                                r->status = 413;
                                return MHD_NO;
                        }
                        return MHD_YES;
                }
                if (r->body_alloc < r->body_len + n + 1) {
                        /* Doubling, never past the cap (+1 for the NUL). */
                        size_t want = MAX(r->body_len + n + 1, MIN(r->body_cap + 1, 2 * (r->body_len + n) + 1));
                        char *b = realloc(r->body, want);
                        if (!b)
                                return MHD_NO;
                        r->body = b;
                        r->body_alloc = want;
                }
                memcpy(r->body + r->body_len, upload_data, n);
                r->body_len += n;
                r->body[r->body_len] = '\0';
                return MHD_YES;
        }

        if (!r->answered) {
                if (r->body_too_big)
                        http_refuse(r, 413, "the body is larger than %zu bytes", r->body_cap);
                else if (r->finish) {
                        if (!r->body) {
                                r->body = strdup("");
                                if (!r->body)
                                        return MHD_NO;
                        }
                        r->finish(r);
                }
                if (!r->answered)
                        http_refuse(r, 500, "no answer");
        }
        return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        Request *r = *con_cls;
        char path[204];

        if (!r)
                return;
        *con_cls = NULL;
        http_log_path(r->raw_target, path);
        flockfile(stderr);
        fprintf(stderr, "access: %s %s %s %u %" PRIu64 " %.3fs%s\n", r->client, r->method ? r->method : "-", path,
                r->status, r->bytes, (double) (mono_usec() - r->start_usec) / 1e6,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (not completed)");
        funlockfile(stderr);
        free(r->raw_target);
        free(r->path);
        free(r->body);
        free(r);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
        char buf[1024];

        vsnprintf(buf, sizeof(buf), fmt, ap);
        buf[strcspn(buf, "\n")] = '\0';
        log_warning("libmicrohttpd: %s", buf);
}

/* ---- the daemon ---- */

/* "127.0.0.1:8080", "[::1]:8080". Numeric addresses only. */
static int parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len) {
        _cleanup_free_ char *host = NULL;
        const char *port_s;
        char *end;

        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || close[1] != ':')
                        return -EINVAL;
                host = strndup(s + 1, (size_t) (close - s - 1));
                port_s = close + 2;
        } else {
                const char *colon = strrchr(s, ':');
                if (!colon)
                        return -EINVAL;
                host = strndup(s, (size_t) (colon - s));
                port_s = colon + 1;
        }
        if (!host)
                return -ENOMEM;
        errno = 0;
        unsigned long port = strtoul(port_s, &end, 10);
        if (errno || end == port_s || *end || port > 65535)
                return -EINVAL;
        memset(ret, 0, sizeof(*ret));
        struct sockaddr_in *in4 = (struct sockaddr_in *) ret;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ret;
        if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons((uint16_t) port);
                *ret_len = sizeof(*in4);
        } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t) port);
                *ret_len = sizeof(*in6);
        } else
                return -EINVAL;
        return 0;
}

static int open_dir(const char *path, int *ret) {
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        *ret = fd;
        return 0;
}

int http_serve(const ServerConfig *c) {
        Server srv = { .config = c, .www_fd = -1, .profiles_fd = -1 };
        struct sockaddr_storage addr;
        socklen_t addr_len = 0;
        _cleanup_free_ char *db_url = NULL, *token_file = NULL, *profiles = NULL, *listening = NULL;
        sigset_t mask;
        int r, sig = 0;

        if (parse_listen(c->listen, &addr, &addr_len) < 0)
                return log_error_errno(EINVAL, "--listen %s: not a numeric ADDRESS:PORT (127.0.0.1:8080, [::1]:8080)",
                                       c->listen);
        r = open_dir(c->www, &srv.www_fd);
        if (r < 0)
                return log_error_errno(r, "Cannot open the boot tree --www %s: %m", c->www);
        profiles = c->profiles ? strdup(c->profiles) : strprintf("%s/profiles", c->www);
        if (!profiles)
                return log_error_errno(ENOMEM, "Out of memory");
        r = open_dir(profiles, &srv.profiles_fd);
        if (r < 0)
                log_warning_errno(r, "No profiles directory %s (%m): /profiles/ is empty, assign refuses every name",
                                  profiles);

        r = mkdir_p(c->state_dir, 0750);
        if (r < 0) {
                log_error_errno(r, "Cannot create the state directory %s: %m", c->state_dir);
                goto out;
        }
        db_url = c->db_url ? strdup(c->db_url) : strprintf("sqlite:%s/site.db", c->state_dir);
        token_file = c->operator_token_file ? strdup(c->operator_token_file)
                                            : strprintf("%s/operator.token", c->state_dir);
        if (!db_url || !token_file) {
                r = log_error_errno(ENOMEM, "Out of memory");
                goto out;
        }
        r = pool_new(db_url, MAX(c->threads, 1u), &srv.pool);
        if (r < 0)
                goto out;
        r = auth_operator_token_load(token_file, srv.operator_sha256);
        if (r < 0)
                goto out;
        {
                Store *s = pool_acquire(srv.pool);
                r = store_setting_set(s, "operator_token_sha256", srv.operator_sha256);
                if (r < 0)
                        log_error_errno(r, "Failed to record the operator token's digest: %s", store_error(s));
                pool_release(srv.pool, s);
                if (r < 0)
                        goto out;
        }

        /* The daemon's threads inherit this mask: only the main thread takes
         * SIGTERM and SIGINT, in sigwait(). */
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);

        /* Connections: 250 per worker thread (1000 with the default 4), each
         * of which may hold a file open as well: the soft descriptor limit
         * is raised to fit (up to the hard limit, which caps the count). */
        unsigned conn_limit = HTTP_CONNECTIONS_PER_THREAD * (unsigned) MAX(c->threads, 1);
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rlim_t want = (rlim_t) conn_limit * 2 + 64;
                if (rl.rlim_cur < want) {
                        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                }
                if (rl.rlim_cur < want)
                        conn_limit = rl.rlim_cur > 128 ? (unsigned) ((rl.rlim_cur - 64) / 2) : 32;
        }

        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
        if (addr.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        srv.daemon = MHD_start_daemon(
                flags, 0, NULL, NULL, on_request, &srv,
                MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                MHD_OPTION_URI_LOG_CALLBACK, on_uri, &srv,
                MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) HTTP_CONNECTION_TIMEOUT_SEC,
                MHD_OPTION_CONNECTION_LIMIT, conn_limit,
                MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned) HTTP_PER_IP_LIMIT,
                /* One thread: libmicrohttpd's own (a pool of 1 is refused with a warning). */
                c->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (unsigned) c->threads,
                MHD_OPTION_END);
        if (!srv.daemon) {
                r = log_error_errno(EADDRNOTAVAIL, "Cannot listen on %s (in use, or not an address of this host)",
                                    c->listen);
                goto out;
        }

        const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv.daemon, MHD_DAEMON_INFO_BIND_PORT);
        uint16_t port = info ? info->port : 0;
        char host[INET6_ADDRSTRLEN + 2] = "";
        if (addr.ss_family == AF_INET6) {
                char h[INET6_ADDRSTRLEN];
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &addr)->sin6_addr, h, sizeof(h));
                snprintf(host, sizeof(host), "[%s]", h);
        } else
                inet_ntop(AF_INET, &((struct sockaddr_in *) &addr)->sin_addr, host, sizeof(host));
        listening = strprintf("http://%s:%u/", host, port);
        if (!listening) {
                r = log_error_errno(ENOMEM, "Out of memory");
                goto out;
        }
        if (c->base_url)
                srv.base_url = endswith(c->base_url, "/") ? strdup(c->base_url) : strprintf("%s/", c->base_url);
        else
                srv.base_url = strdup(listening);
        if (!srv.base_url) {
                r = log_error_errno(ENOMEM, "Out of memory");
                goto out;
        }
        printf("listening on %s\n", listening);
        fflush(stdout);
        if (c->port_file) {
                _cleanup_free_ char *line = strprintf("%s\n", listening);
                r = line ? write_file_atomic(c->port_file, line, strlen(line), 0644) : -ENOMEM;
                if (r < 0) {
                        log_error_errno(r, "Cannot write --port-file %s: %m", c->port_file);
                        goto out;
                }
        }
        log_info("site-server: serving %s (store %s, policy %s, machines use %s)", c->www,
                 store_backend(srv.pool->stores[0]), c->policy == SITE_POLICY_INSTALL ? "install" : "discover",
                 srv.base_url);

        while (sigwait(&mask, &sig) != 0)
                ;
        log_info("site-server: %s, stopping", strsignal(sig));
        r = 0;
out:
        if (srv.daemon)
                MHD_stop_daemon(srv.daemon);
        pool_free(srv.pool);
        if (srv.www_fd >= 0)
                close(srv.www_fd);
        if (srv.profiles_fd >= 0)
                close(srv.profiles_fd);
        free(srv.base_url);
        return r;
}
