/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Routing, the read API, the operator API and the status pages
 * (docs/site.md, "HTTP API"). */

#include <ctype.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sys/stat.h>

#include "auth.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "http.h"
#include "json.h"
#include "page.h"

#define OPERATOR_BODY_MAX (64 * 1024)
#define EVENTS_LIMIT_DEFAULT 1000
#define EVENTS_LIMIT_MAX 10000

static const char *const operator_actions[] = { "reinstall", "hold", "release", "forget", "assign" };

static bool is_get(Request *r) {
        return streq(r->method, MHD_HTTP_METHOD_GET) || streq(r->method, MHD_HTTP_METHOD_HEAD);
}

static void method_not_allowed(Request *r, const char *allow) {
        char *text = strprintf("405 use %s\n", allow);
        struct MHD_Response *resp;
        char path[204];

        http_log_path(r->raw_target, path);
        log_notice("refused: %s %s from %s: 405 method not allowed (%s)", r->method, path, r->client, allow);
        if (!text)
                return;
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(text);
                return;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        http_queue(r, 405, resp, strlen(text));
}

/* Resolve an operator's NAME; answers 404/409/500 itself and returns < 0. */
static int resolve(Request *r, Store *s, const char *name, Machine *ret) {
        int e = store_machine_resolve(s, name, ret);

        if (e == -ENOENT)
                http_refuse(r, 404, "no machine %s", name);
        else if (e == -ENOTUNIQ)
                http_refuse(r, 409, "%s names more than one machine: use its number", name);
        else if (e < 0) {
                log_error("Looking up machine %s failed: %s", name, store_error(s));
                http_refuse(r, 500, "store error");
        }
        return e;
}

static const Attempt *find_attempt(const Attempt *list, size_t n, int64_t id) {
        for (size_t i = 0; i < n; i++)
                if (list[i].id == id)
                        return &list[i];
        return NULL;
}

/* MACHINE with its current attempt. */
static json_t *machine_json(Store *s, const Machine *m) {
        Attempt *list = NULL;
        size_t n = 0;
        json_t *j;

        if (m->current_install && store_attempt_list(s, m->id, &list, &n) < 0)
                return NULL;
        j = json_machine(m, find_attempt(list, n, m->current_install));
        attempt_list_free(list, n);
        return j;
}

/* ---- read API ---- */

static void api_list(Request *r) {
        Machine *list = NULL;
        size_t n = 0;
        json_t *arr = json_array();
        Store *s = http_store(r);
        int e = store_machine_list(s, &list, &n);

        for (size_t i = 0; e >= 0 && i < n; i++) {
                json_t *m = machine_json(s, &list[i]);
                if (!m || json_array_append_new(arr, m) < 0)
                        e = -ENOMEM;
        }
        if (e < 0)
                log_error("Listing machines failed: %s", store_error(s));
        http_store_release(r, s);
        machine_list_free(list, n);
        if (e < 0 || !arr) {
                json_decref(arr);
                return http_refuse(r, 500, "store error");
        }
        http_respond_json(r, 200, json_pack("{s:o,s:o}", "machines", arr, "now", json_time(now_usec())));
}

static void api_machine(Request *r, const char *name) {
        Machine m = {};
        Attempt *attempts = NULL;
        AuditEntry *audit = NULL;
        size_t n_attempts = 0, n_audit = 0;
        _cleanup_free_ char *inventory = NULL;
        json_t *j = NULL, *arr = json_array(), *aud = json_array();
        Store *s = http_store(r);
        int e = resolve(r, s, name, &m);

        if (e < 0)
                goto out;
        e = store_attempt_list(s, m.id, &attempts, &n_attempts);
        if (e >= 0)
                e = store_audit_list(s, m.id, &audit, &n_audit);
        if (e >= 0) {
                int k = store_inventory_get(s, m.id, &inventory);
                if (k < 0 && k != -ENOENT)
                        e = k;
        }
        for (size_t i = 0; e >= 0 && i < n_attempts; i++) {
                StoredEvent *ev = NULL;
                size_t n_ev = 0;
                e = store_events_list(s, attempts[i].id, 0, 0, &ev, &n_ev);
                if (e >= 0) {
                        json_t *a = json_attempt(&attempts[i], ev, n_ev);
                        if (!a || json_array_append_new(arr, a) < 0)
                                e = -ENOMEM;
                }
                stored_event_list_free(ev, n_ev);
        }
        for (size_t i = 0; e >= 0 && i < n_audit; i++) {
                json_t *a = json_audit(&audit[i]);
                if (!a || json_array_append_new(aud, a) < 0)
                        e = -ENOMEM;
        }
        if (e >= 0) {
                j = json_machine(&m, find_attempt(attempts, n_attempts, m.current_install));
                json_t *inv = inventory ? json_loads(inventory, 0, NULL) : json_null();
                if (!j || json_object_set_new(j, "attempts", arr) < 0 || json_object_set_new(j, "audit", aud) < 0 ||
                    json_object_set_new(j, "inventory", inv ? inv : json_null()) < 0)
                        e = -ENOMEM;
                arr = aud = NULL;
        }
        if (e < 0) {
                log_error("Reading machine %s failed: %s", name, e == -ENOMEM ? "out of memory" : store_error(s));
                http_refuse(r, 500, "store error");
        }
out:
        http_store_release(r, s);
        if (e >= 0)
                http_respond_json(r, 200, TAKE_PTR(j));
        json_decref(j);
        json_decref(arr);
        json_decref(aud);
        attempt_list_free(attempts, n_attempts);
        audit_list_free(audit, n_audit);
        machine_done(&m);
}

static void api_inventory(Request *r, const char *name) {
        Machine m = {};
        char *inventory = NULL;
        Store *s = http_store(r);
        int e = resolve(r, s, name, &m);

        if (e >= 0) {
                e = store_inventory_get(s, m.id, &inventory);
                if (e == -ENOENT)
                        http_refuse(r, 404, "no inventory of machine %" PRId64 " yet", m.id);
                else if (e < 0)
                        http_refuse(r, 500, "store error");
        }
        http_store_release(r, s);
        machine_done(&m);
        if (e >= 0)
                http_respond(r, 200, "application/json", inventory, strlen(inventory));
}

/* ?attempt=N: the attempt numbered N (an install attempt before a discover
 * one); ?attempt_id=ID: that attempt; neither: the latest one (want_log: the
 * latest one with a log). NULL after answering (404/400). */
static const Attempt *pick_attempt(Request *r, const Machine *m, const Attempt *list, size_t n, bool want_log) {
        const char *num = http_arg(r, "attempt"), *aid = http_arg(r, "attempt_id");
        char *end;

        if (num || aid) {
                errno = 0;
                long long v = strtoll(num ? num : aid, &end, 10);
                if (errno || end == (num ? num : aid) || *end || v < 1) {
                        http_refuse(r, 400, "attempt= is not a number");
                        return NULL;
                }
                for (int kind = ATTEMPT_INSTALL; kind <= ATTEMPT_DISCOVER; kind++)
                        for (size_t i = n; i-- > 0;)
                                if (aid ? list[i].id == v : (list[i].number == v && list[i].kind == (AttemptKind) kind))
                                        return &list[i];
                http_refuse(r, 404, "machine %" PRId64 " has no attempt %lld", m->id, v);
                return NULL;
        }
        for (size_t i = n; i-- > 0;)
                if (!want_log || list[i].has_log)
                        return &list[i];
        http_refuse(r, 404, "machine %" PRId64 " has no %s", m->id, want_log ? "log" : "attempts");
        return NULL;
}

static int arg_int(Request *r, const char *name, long long def, long long min, long long max, long long *ret) {
        const char *v = http_arg(r, name);
        char *end;

        *ret = def;
        if (!v)
                return 0;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end || x < min || x > max) {
                http_refuse(r, 400, "%s= is not a number in %lld..%lld", name, min, max);
                return -EINVAL;
        }
        *ret = x;
        return 0;
}

static void api_events(Request *r, const char *name) {
        Machine m = {};
        Attempt *list = NULL;
        size_t n = 0, n_ev = 0;
        StoredEvent *ev = NULL;
        json_t *arr = json_array(), *att = NULL;
        long long after, limit;
        Store *s;
        int e;

        if (arg_int(r, "after", 0, 0, INT64_MAX, &after) < 0 ||
            arg_int(r, "limit", EVENTS_LIMIT_DEFAULT, 1, EVENTS_LIMIT_MAX, &limit) < 0) {
                json_decref(arr);
                return;
        }
        s = http_store(r);
        e = resolve(r, s, name, &m);
        if (e >= 0)
                e = store_attempt_list(s, m.id, &list, &n);
        if (e >= 0) {
                const Attempt *a = pick_attempt(r, &m, list, n, false);
                if (!a)
                        e = -ENOENT;
                else {
                        e = store_events_list(s, a->id, after, (size_t) limit, &ev, &n_ev);
                        att = e >= 0 ? json_attempt(a, NULL, 0) : NULL;
                }
        }
        for (size_t i = 0; e >= 0 && i < n_ev; i++) {
                json_t *o = json_loads(ev[i].json ? ev[i].json : "null", 0, NULL);
                if (!o || json_array_append_new(arr, o) < 0)
                        e = -ENOMEM;
        }
        if (e < 0 && !r->answered) {
                log_error("Reading events of machine %s failed: %s", name, store_error(s));
                http_refuse(r, 500, "store error");
        }
        http_store_release(r, s);
        if (e >= 0)
                http_respond_json(r, 200, json_pack("{s:o,s:o}", "attempt", att ? att : json_null(), "events", arr));
        else {
                json_decref(arr);
                json_decref(att);
        }
        stored_event_list_free(ev, n_ev);
        attempt_list_free(list, n);
        machine_done(&m);
}

static void api_log(Request *r, const char *name) {
        Machine m = {};
        Attempt *list = NULL;
        size_t n = 0, size = 0;
        char *text = NULL;
        Store *s = http_store(r);
        int e = resolve(r, s, name, &m);

        if (e >= 0)
                e = store_attempt_list(s, m.id, &list, &n);
        if (e >= 0) {
                const Attempt *a = pick_attempt(r, &m, list, n, true);
                if (!a)
                        e = -ENOENT;
                else {
                        e = store_log_get(s, a->id, &text, &size);
                        if (e == -ENOENT)
                                http_refuse(r, 404, "attempt %d of machine %" PRId64 " has no log", a->number, m.id);
                }
        }
        if (e < 0 && !r->answered)
                http_refuse(r, 500, "store error");
        http_store_release(r, s);
        if (e >= 0)
                http_respond(r, 200, "text/plain; charset=utf-8", text, size);
        attempt_list_free(list, n);
        machine_done(&m);
}

/* ---- operator API ---- */

static bool profile_name_valid(const char *s) {
        size_t n = strlen(s);

        if (n < 1 || n > 128 || !isalnum((unsigned char) s[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("._-", s[i]))
                        return false;
        return true;
}

static void operator_finish(Request *r) {
        _cleanup_free_ char *name = NULL;
        const char *action = r->action, *message = NULL, *profile = NULL;
        json_t *body = NULL, *j = NULL;
        Machine m = {};
        Store *s;
        int e;

        /* /api/v1/machines/NAME/ACTION */
        const char *p = startswith(r->path, "/api/v1/machines/");
        name = p ? strndup(p, strcspn(p, "/")) : NULL;
        if (!name)
                return http_refuse(r, 500, "out of memory");

        if (r->body_len > 0) {
                json_error_t err;
                body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &err);
                if (!json_is_object(body)) {
                        json_decref(body);
                        return http_refuse(r, 400, "the body is not a JSON object");
                }
        }
        if (streq(action, "hold")) {
                json_t *v = json_object_get(body, "message");
                if (v && !json_is_null(v) && !json_is_string(v)) {
                        json_decref(body);
                        return http_refuse(r, 400, "message is not a string");
                }
                message = json_string_value(v);
                if (message && strlen(message) > 1000) {
                        json_decref(body);
                        return http_refuse(r, 400, "message is longer than 1000 bytes");
                }
        } else if (streq(action, "assign")) {
                json_t *v = json_object_get(body, "profile");
                struct stat st;
                if (!v || (!json_is_null(v) && !json_is_string(v))) {
                        json_decref(body);
                        return http_refuse(r, 400, "assign needs {\"profile\": NAME or null}");
                }
                profile = json_string_value(v);
                if (profile && !profile_name_valid(profile)) {
                        json_decref(body);
                        return http_refuse(r, 400, "not a profile name ([A-Za-z0-9][A-Za-z0-9._-]{0,127})");
                }
                /* Opened as the installer will fetch it (files.c): a symlink
                 * out of the profiles directory is no profile. */
                int fd = profile && r->server->profiles_fd >= 0 ? files_open_beneath(r->server->profiles_fd, profile)
                                                                : -ENOENT;
                bool regular = fd >= 0 && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode);
                if (fd >= 0)
                        close(fd);
                if (profile && !regular) {
                        http_refuse(r, 400, "no profile %s in the profiles directory", profile);
                        json_decref(body);
                        return;
                }
        }

        s = http_store(r);
        e = resolve(r, s, name, &m);
        if (e >= 0) {
                int64_t now = now_usec();
                if (streq(action, "reinstall"))
                        e = store_machine_reinstall(s, m.id, "operator", now);
                else if (streq(action, "hold"))
                        e = store_machine_hold(s, m.id, message, "operator", now);
                else if (streq(action, "release"))
                        e = store_machine_release(s, m.id, "operator", now);
                else if (streq(action, "assign"))
                        e = store_machine_assign(s, m.id, profile, "operator", now);
                else if (streq(action, "forget")) {
                        j = machine_json(s, &m);
                        e = store_machine_forget(s, m.id, "operator", now);
                }
                if (e >= 0 && !j) {
                        int64_t id = m.id;
                        machine_done(&m);
                        memset(&m, 0, sizeof(m));
                        e = store_machine_get(s, id, &m);
                }
                if (e < 0) {
                        log_error("Operator %s of machine %s failed: %s", action, name, store_error(s));
                        http_refuse(r, 500, "store error");
                } else {
                        log_info("Operator: %s machine %" PRId64 " (%s)%s%s", action, m.id, m.mac,
                                 profile ? " profile " : "", profile ? profile : "");
                        if (!j)
                                j = machine_json(s, &m);
                }
        }
        http_store_release(r, s);
        json_decref(body);
        machine_done(&m);
        if (e >= 0)
                http_respond_json(r, 200, j);
        else
                json_decref(j);
}

static void operator_begin(Request *r, const char *action) {
        const char *token = http_bearer(r);
        char digest[AUTH_SHA256_HEX + 1];

        if (!token)
                return http_refuse(r, 401, "no operator token (Authorization: Bearer)");
        if (!auth_token_wellformed(token) || auth_sha256_hex(token, strlen(token), digest) < 0 ||
            !auth_digest_equal(digest, r->server->operator_sha256))
                return http_refuse(r, 401, "wrong operator token");
        snprintf(r->action, sizeof(r->action), "%s", action);
        http_accept_body(r, OPERATOR_BODY_MAX, operator_finish);
}

/* ---- pages ---- */

static void respond_page(Request *r, const char *type, char *body_owned, size_t len) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, body_owned, MHD_RESPMEM_MUST_FREE);

        if (!resp) {
                free(body_owned);
                return;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'self'");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        http_queue(r, 200, resp, len);
}

static void page_index(Request *r) {
        Machine *list = NULL;
        size_t n = 0;
        char *html = NULL;
        Store *s;
        int e;

        s = http_store(r);
        e = store_machine_list(s, &list, &n);
        http_store_release(r, s);
        if (e < 0)
                return http_refuse(r, 500, "store error");
        html = page_index_html(list, n, now_usec());
        machine_list_free(list, n);
        if (!html)
                return http_refuse(r, 500, "out of memory");
        respond_page(r, "text/html; charset=utf-8", html, strlen(html));
}

static void page_machine(Request *r, const char *name) {
        Machine m = {};
        Attempt *list = NULL;
        size_t n = 0;
        _cleanup_free_ char *inventory = NULL;
        char *html = NULL;
        Store *s;
        int e;

        s = http_store(r);
        e = resolve(r, s, name, &m);
        if (e >= 0)
                e = store_attempt_list(s, m.id, &list, &n);
        if (e >= 0 && store_inventory_get(s, m.id, &inventory) < 0)
                inventory = NULL;
        if (e < 0 && !r->answered)
                http_refuse(r, 500, "store error");
        http_store_release(r, s);
        if (e >= 0) {
                html = page_machine_html(&m, list, n, inventory, now_usec());
                if (html)
                        respond_page(r, "text/html; charset=utf-8", html, strlen(html));
                else
                        http_refuse(r, 500, "out of memory");
        }
        attempt_list_free(list, n);
        machine_done(&m);
}

static void page_static(Request *r, const char *text, const char *type) {
        char *copy = strdup(text);

        if (!copy)
                return http_refuse(r, 500, "out of memory");
        respond_page(r, type, copy, strlen(copy));
}

/* ---- routing ---- */

void api_route(Request *r) {
        const char *path = r->path, *rest;
        bool get = is_get(r);
        bool post = streq(r->method, MHD_HTTP_METHOD_POST);

        if (streq(path, "/healthz"))
                return get ? http_respond_text(r, 200, "text/plain; charset=utf-8", "ok\n")
                           : method_not_allowed(r, "GET, HEAD");
        if (streq(path, "/boot.ipxe"))
                return get ? answer_handle_boot(r) : method_not_allowed(r, "GET, HEAD");
        if (streq(path, "/ipxe/answer"))
                return streq(r->method, MHD_HTTP_METHOD_GET) ? answer_handle_answer(r) : method_not_allowed(r, "GET");
        if (streq(path, "/"))
                return get ? page_index(r) : method_not_allowed(r, "GET, HEAD");
        if (streq(path, "/site.js"))
                return get ? page_static(r, page_site_js, "text/javascript; charset=utf-8")
                           : method_not_allowed(r, "GET, HEAD");
        if (streq(path, "/site.css"))
                return get ? page_static(r, page_site_css, "text/css; charset=utf-8")
                           : method_not_allowed(r, "GET, HEAD");
        if ((rest = startswith(path, "/machines/")) && *rest && !strchr(rest, '/'))
                return get ? page_machine(r, rest) : method_not_allowed(r, "GET, HEAD");

        if (!startswith(path, "/api/"))
                return get ? files_handle(r) : method_not_allowed(r, "GET, HEAD");

        if (streq(path, "/api/v1/machines"))
                return get ? api_list(r) : method_not_allowed(r, "GET, HEAD");
        rest = startswith(path, "/api/v1/machines/");
        if (!rest || !*rest)
                return http_refuse(r, 404, "no such API");
        const char *slash = strchr(rest, '/');
        if (!slash)
                return get ? api_machine(r, rest) : method_not_allowed(r, "GET, HEAD");
        _cleanup_free_ char *name = strndup(rest, (size_t) (slash - rest));
        const char *sub = slash + 1;
        if (!name)
                return http_refuse(r, 500, "out of memory");
        if (streq(sub, "report"))
                return post ? intake_begin_report(r, name) : method_not_allowed(r, "POST");
        if (streq(sub, "next"))
                return streq(r->method, MHD_HTTP_METHOD_GET) ? intake_handle_next(r, name) : method_not_allowed(r, "GET");
        if (streq(sub, "inventory"))
                return get ? api_inventory(r, name) : method_not_allowed(r, "GET, HEAD");
        if (streq(sub, "events"))
                return get ? api_events(r, name) : method_not_allowed(r, "GET, HEAD");
        if (streq(sub, "log"))
                return get ? api_log(r, name) : method_not_allowed(r, "GET, HEAD");
        for (size_t i = 0; i < ELEMENTSOF(operator_actions); i++)
                if (streq(sub, operator_actions[i]))
                        return post ? operator_begin(r, sub) : method_not_allowed(r, "POST");
        http_refuse(r, 404, "no such API");
}
