/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What installers send: POST /api/v1/machines/ID/report (events as NDJSON,
 * the inventory, the failure log) and GET /api/v1/machines/ID/next (the
 * discover mode's question). Every request carries the machine token of an
 * attempt of machine ID (Authorization: Bearer). Checks happen as soon as the
 * headers are in, before any of the body is read: 401 no or unknown token,
 * 404 no machine ID, 403 the token of another machine, 415 the wrong
 * Content-Type, 413 a Content-Length past the cap. A body is validated whole
 * before anything is stored: one bad event line and nothing is. */

#include <ctype.h>
#include <jansson.h>
#include <microhttpd.h>

#include "auth.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "http.h"
#include "json.h"

enum {
        UPLOAD_EVENTS = 1,
        UPLOAD_INVENTORY,
        UPLOAD_LOG,
};

static int parse_id(const char *s, int64_t *ret) {
        int64_t v = 0;

        if (!s || !*s || *s == '0')
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
                        return -EINVAL;
                v = v * 10 + (*p - '0');
        }
        *ret = v;
        return 0;
}

#define INTAKE_TOKEN_GRACE_USEC (600 * (int64_t) 1000000)

/* The token must be one of machine ID's. On success sets r->machine_id and
 * r->attempt_id and returns 0; otherwise it has answered (refused). */
static int authorize(Request *r, const char *id_s) {
        const char *token = http_bearer(r);
        char digest[AUTH_SHA256_HEX + 1];
        _cleanup_free_ char *stored = NULL;
        Attempt a = {};
        Machine m = {};
        int64_t id;
        Store *s;
        int e;

        if (!token) {
                http_refuse(r, 401, "no token (Authorization: Bearer)");
                return -EPERM;
        }
        if (parse_id(id_s, &id) < 0) {
                http_refuse(r, 404, "no such machine");
                return -ENOENT;
        }
        if (!auth_token_wellformed(token) || auth_sha256_hex(token, strlen(token), digest) < 0) {
                http_refuse(r, 401, "unknown token");
                return -EPERM;
        }
        s = http_store(r);
        e = store_machine_get(s, id, &m);
        if (e >= 0)
                e = store_attempt_by_token(s, digest, &a, &stored);
        else if (e == -ENOENT) {
                http_store_release(r, s);
                http_refuse(r, 404, "no machine %" PRId64, id);
                return e;
        }
        if (e < 0 && e != -ENOENT)
                log_error("Token lookup failed: %s", store_error(s));
        http_store_release(r, s);
        int64_t current = m.current_install;
        machine_done(&m);
        if (e == -ENOENT || (e >= 0 && !auth_digest_equal(digest, stored))) {
                attempt_done(&a);
                http_refuse(r, 401, "unknown token");
                return -EPERM;
        }
        if (e < 0) {
                http_refuse(r, 500, "store error");
                return e;
        }
        if (a.machine_id != id) {
                http_refuse(r, 403, "the token belongs to machine %" PRId64 ", not %" PRId64, a.machine_id, id);
                attempt_done(&a);
                return -EPERM;
        }
        /* A token is good for its attempt's run, not forever (it travels in
         * the boot script): refused once the attempt finished more than
         * INTAKE_TOKEN_GRACE_USEC ago, and for an attempt that a newer one
         * replaced (the machine booted again), except for the log. */
        if (a.finished > 0 && now_usec() - a.finished > INTAKE_TOKEN_GRACE_USEC) {
                http_refuse(r, 403, "the token's attempt %" PRId64 " finished more than 10 minutes ago", a.id);
                attempt_done(&a);
                return -EPERM;
        }
        if (current != a.id && !streq_ptr(http_header(r, "X-Installer-Upload"), "log")) {
                http_refuse(r, 403, "the token's attempt %" PRId64 " was replaced by attempt %" PRId64, a.id, current);
                attempt_done(&a);
                return -EPERM;
        }
        r->machine_id = id;
        r->attempt_id = a.id;
        attempt_done(&a);
        return 0;
}

/* ---- events ---- */

/* 8-4-4-4-12 hex digits. */
static bool is_uuid(const char *s) {
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return false;
        }
        return s[36] == '\0';
}

static const char *const event_types[] = { "start", "finish", "progress", "info", "error" };

/* An optional string field: absent, null or a string. */
static int opt_string(json_t *o, const char *key, const char **ret) {
        json_t *v = json_object_get(o, key);

        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return -EINVAL;
        *ret = json_string_value(v);
        return 0;
}

static int opt_number(json_t *o, const char *key, double *ret) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_number(v))
                return -EINVAL;
        *ret = json_number_value(v);
        return 0;
}

/* One line -> ev. Returns 0, -EINVAL (400, *why set) or -EPERM (403). */
static int event_parse(json_t *o, const Machine *m, IntakeEvent *ev, const char **why) {
        json_t *v;
        const char *t;

        if (!json_is_object(o)) {
                *why = "not a JSON object";
                return -EINVAL;
        }
        v = json_object_get(o, "seq");
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
                *why = "seq missing or not an integer >= 1";
                return -EINVAL;
        }
        ev->seq = json_integer_value(v);
        v = json_object_get(o, "type");
        ev->type = NULL;
        for (size_t i = 0; json_is_string(v) && i < ELEMENTSOF(event_types); i++)
                if (streq(json_string_value(v), event_types[i]))
                        ev->type = event_types[i];
        if (!ev->type) {
                *why = "type missing or not one of start, finish, progress, info, error";
                return -EINVAL;
        }
        v = json_object_get(o, "machine_id");
        if (!json_is_string(v)) {
                *why = "machine_id missing or not a string";
                return -EINVAL;
        }
        t = json_string_value(v);
        if (!(m->uuid && strcasecmp(t, m->uuid) == 0) && !(m->mac && strcasecmp(t, m->mac) == 0)) {
                /* A machine whose boot request carried no usable UUID (an
                 * iPXE without ${uuid}, a placeholder the installer does
                 * not take for one) may still report the SMBIOS UUID that
                 * Linux reads: the token already names the machine. */
                json_t *src = json_object_get(o, "machine_id_source");
                if (m->uuid || !json_is_string(src) || !streq(json_string_value(src), "smbios-uuid") ||
                    !is_uuid(t)) {
                        *why = "machine_id is not this machine's uuid or mac";
                        return -EPERM;
                }
        }
        if (opt_string(o, "phase", &ev->phase) < 0 || opt_string(o, "message", &ev->message) < 0 ||
            opt_string(o, "level", &ev->level) < 0 || opt_string(o, "result", &ev->result) < 0) {
                *why = "phase, message, level or result is not a string";
                return -EINVAL;
        }
        ev->exit_status = -1;
        v = json_object_get(o, "exit_status");
        if (v && !json_is_null(v)) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255) {
                        *why = "exit_status is not an integer 0..255";
                        return -EINVAL;
                }
                ev->exit_status = (int) json_integer_value(v);
        }
        ev->duration = -1;
        if (opt_number(o, "duration", &ev->duration) < 0) {
                *why = "duration is not a number";
                return -EINVAL;
        }
        ev->progress_done = ev->progress_total = 0;
        ev->progress_rate = 0;
        ev->progress_eta = -1;
        v = json_object_get(o, "progress");
        if (v && !json_is_null(v)) {
                double done = 0, total = 0;
                if (!json_is_object(v) || opt_number(v, "done", &done) < 0 || opt_number(v, "total", &total) < 0 ||
                    opt_number(v, "rate", &ev->progress_rate) < 0 || opt_number(v, "eta", &ev->progress_eta) < 0 ||
                    done < 0 || total < 0 || done > 9e18 || total > 9e18) {
                        *why = "progress is not an object of numbers done, total, rate, eta";
                        return -EINVAL;
                }
                ev->progress_done = (int64_t) done;
                ev->progress_total = (int64_t) total;
        }
        ev->time = 0;
        v = json_object_get(o, "time");
        if (v && !json_is_null(v)) {
                if (!json_is_string(v)) {
                        *why = "time is not a string";
                        return -EINVAL;
                }
                if (json_parse_time(json_string_value(v), &ev->time) < 0)
                        ev->time = 0;
        }
        return 0;
}

static void finish_events(Request *r) {
        _cleanup_free_ IntakeEvent *ev = NULL;
        _cleanup_free_ json_t **objs = NULL;
        size_t n = 0, alloc = 0, line_no = 0, stored = 0;
        Machine m = {};
        Store *s;
        int e = 0;

        s = http_store(r);
        e = store_machine_get(s, r->machine_id, &m);
        http_store_release(r, s);
        if (e == -ENOENT)
                return http_refuse(r, 404, "no machine %" PRId64, r->machine_id);
        if (e < 0)
                return http_refuse(r, 500, "store error");
        if (memchr(r->body, 0, r->body_len)) {
                machine_done(&m);
                return http_refuse(r, 400, "a NUL byte in the body");
        }

        for (char *line = r->body, *next; line && *line; line = next) {
                const char *why = NULL;
                json_error_t err;
                size_t len;

                next = strchr(line, '\n');
                len = next ? (size_t) (next - line) : strlen(line);
                if (next)
                        *next++ = '\0';
                line_no++;
                if (len > 0 && line[len - 1] == '\r')
                        line[--len] = '\0';
                if (len == 0)
                        continue;
                if (n == alloc) {
                        size_t a = alloc ? 2 * alloc : 64;
                        IntakeEvent *ne = reallocarray(ev, a, sizeof(*ev));
                        if (ne)
                                ev = ne;
                        json_t **no = ne ? reallocarray(objs, a, sizeof(*objs)) : NULL;
                        if (!ne || !no) {
                                e = -ENOMEM;
                                break;
                        }
                        objs = no;
                        alloc = a;
                }
                objs[n] = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
                if (!objs[n]) {
                        e = -EINVAL;
                        http_refuse(r, 400, "line %zu: not JSON: %s", line_no, err.text);
                        break;
                }
                memset(&ev[n], 0, sizeof(ev[n]));
                ev[n].json = line;
                e = event_parse(objs[n], &m, &ev[n], &why);
                n++;
                if (e < 0) {
                        http_refuse(r, e == -EPERM ? 403 : 400, "line %zu: %s", line_no, why);
                        break;
                }
        }
        if (e >= 0 && n == 0)
                http_refuse(r, 400, "no events in the body");
        else if (e == -ENOMEM)
                http_refuse(r, 500, "out of memory");
        else if (e >= 0) {
                s = http_store(r);
                e = store_events_add(s, r->attempt_id, ev, n, now_usec(), &stored);
                if (e < 0)
                        log_error("Storing %zu events of attempt %" PRId64 " failed: %s", n, r->attempt_id,
                                  store_error(s));
                http_store_release(r, s);
                if (e < 0)
                        http_refuse(r, 500, "store error");
                else
                        http_respond_json(r, 200, json_pack("{s:I,s:I}", "stored", (json_int_t) stored, "duplicates",
                                                            (json_int_t) (n - stored)));
        }
        for (size_t i = 0; i < n; i++)
                json_decref(objs[i]);
        machine_done(&m);
}

/* ---- inventory and log ---- */

static void finish_inventory(Request *r) {
        json_error_t err;
        json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &err);
        Store *s;
        int e;

        if (memchr(r->body, 0, r->body_len)) {
                json_decref(j);
                return http_refuse(r, 400, "a NUL byte in the inventory");
        }
        if (!j)
                return http_refuse(r, 400, "the inventory is not JSON: %s", err.text);
        bool object = json_is_object(j);
        json_decref(j);
        if (!object)
                return http_refuse(r, 400, "the inventory is not a JSON object");
        s = http_store(r);
        e = store_inventory_set(s, r->machine_id, r->attempt_id, r->body, now_usec());
        if (e < 0)
                log_error("Storing the inventory of machine %" PRId64 " failed: %s", r->machine_id, store_error(s));
        http_store_release(r, s);
        if (e < 0)
                return http_refuse(r, 500, "store error");
        log_info("Machine %" PRId64 ": inventory stored (%zu bytes)", r->machine_id, r->body_len);
        http_respond_json(r, 200, json_pack("{s:s,s:I}", "stored", "inventory", "bytes", (json_int_t) r->body_len));
}

static void finish_log(Request *r) {
        Store *s = http_store(r);
        int e = store_log_set(s, r->attempt_id, r->body, r->body_len, now_usec());

        if (e < 0)
                log_error("Storing the log of attempt %" PRId64 " failed: %s", r->attempt_id, store_error(s));
        http_store_release(r, s);
        if (e < 0)
                return http_refuse(r, 500, "store error");
        log_info("Machine %" PRId64 ": the installer's log stored (%zu bytes)", r->machine_id, r->body_len);
        http_respond_json(r, 200, json_pack("{s:s,s:I}", "stored", "log", "bytes", (json_int_t) r->body_len));
}

void intake_begin_report(Request *r, const char *id) {
        const char *upload = http_header(r, "X-Installer-Upload");
        uint64_t cap = r->server->config->max_body;

        if (authorize(r, id) < 0)
                return;
        if (!upload) {
                if (!http_content_type_is(r, "application/x-ndjson"))
                        return http_refuse(r, 415, "events need Content-Type: application/x-ndjson");
                r->upload = UPLOAD_EVENTS;
                return http_accept_body(r, cap, finish_events);
        }
        if (streq(upload, "inventory")) {
                if (!http_content_type_is(r, "application/json"))
                        return http_refuse(r, 415, "an inventory needs Content-Type: application/json");
                r->upload = UPLOAD_INVENTORY;
                return http_accept_body(r, cap, finish_inventory);
        }
        if (streq(upload, "log")) {
                if (!http_content_type_is(r, "text/plain"))
                        return http_refuse(r, 415, "a log needs Content-Type: text/plain");
                r->upload = UPLOAD_LOG;
                return http_accept_body(r, 4 * cap, finish_log);
        }
        http_refuse(r, 400, "unknown X-Installer-Upload (inventory or log)");
}

void intake_handle_next(Request *r, const char *id) {
        Machine m = {};
        Store *s;
        int e;

        if (authorize(r, id) < 0)
                return;
        s = http_store(r);
        e = store_machine_get(s, r->machine_id, &m);
        if (e >= 0)
                (void) store_machine_seen(s, m.id, NULL, NULL, NULL, now_usec());
        http_store_release(r, s);
        if (e == -ENOENT)
                return http_refuse(r, 404, "no machine %" PRId64, r->machine_id);
        if (e < 0)
                return http_refuse(r, 500, "store error");
        http_respond_json(r, 200, json_pack("{s:s,s:s}", "action", m.state == MACHINE_READY ? "reboot" : "wait",
                                            "state", machine_state_to_string(m.state)));
        machine_done(&m);
}
