/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic/macro.h"

char *json_format_time(int64_t usec, char buf[static 64]) {
        time_t sec = (time_t) (usec / 1000000);
        int64_t frac = usec % 1000000;
        struct tm tm;

        if (frac < 0) {
                frac += 1000000;
                sec--;
        }
        if (!gmtime_r(&sec, &tm)) {
                snprintf(buf, 64, "1970-01-01T00:00:00.000000Z");
                return buf;
        }
        snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) frac);
        return buf;
}

json_t *json_time(int64_t usec) {
        char buf[64];

        if (usec == 0)
                return json_null();
        return json_string(json_format_time(usec, buf));
}

int json_parse_time(const char *s, int64_t *ret) {
        struct tm tm = {};
        const char *p;
        int64_t frac = 0, offset = 0;

        if (!s)
                return -EINVAL;
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return -EINVAL;
        if (*p == '.') {
                int digits = 0;
                for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                        if (digits < 6)
                                frac = frac * 10 + (*p - '0');
                if (digits == 0)
                        return -EINVAL;
                for (; digits < 6; digits++)
                        frac *= 10;
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
                int h = (p[1] - '0') * 10 + (p[2] - '0'), m = (p[4] - '0') * 10 + (p[5] - '0');
                if (h < 0 || h > 23 || m < 0 || m > 59)
                        return -EINVAL;
                offset = (int64_t) (h * 3600 + m * 60) * (*p == '+' ? 1 : -1);
                p += 6;
        } else
                return -EINVAL;
        if (*p)
                return -EINVAL;
        time_t t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret = ((int64_t) t - offset) * 1000000 + frac;
        return 0;
}

static json_t *str_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

/* json_object_set_new that remembers a failure. */
static void set(json_t *o, const char *key, json_t *v, bool *ok) {
        if (!v || json_object_set_new(o, key, v) < 0)
                *ok = false;
}

static const char *attempt_kind_to_string(AttemptKind k) {
        return k == ATTEMPT_DISCOVER ? "discover" : "install";
}

/* "phases": in the order they started, from start/finish events. */
static json_t *phases(const StoredEvent *ev, size_t n) {
        json_t *list = json_array();
        bool ok = list != NULL;

        for (size_t i = 0; ok && i < n; i++) {
                const StoredEvent *e = &ev[i];
                if (!e->phase || !e->type || (!streq(e->type, "start") && !streq(e->type, "finish")))
                        continue;
                json_t *entry = NULL;
                size_t index;
                json_t *v;
                /* The last entry of this phase (a phase may run again: a new entry on start). */
                json_array_foreach(list, index, v)
                        if (streq(json_string_value(json_object_get(v, "phase")), e->phase))
                                entry = v;
                if (streq(e->type, "start") || !entry || !json_is_null(json_object_get(entry, "finish"))) {
                        entry = json_object();
                        set(entry, "phase", json_string(e->phase), &ok);
                        set(entry, "start", streq(e->type, "start") ? json_time(e->time) : json_null(), &ok);
                        set(entry, "finish", json_null(), &ok);
                        set(entry, "duration", json_null(), &ok);
                        set(entry, "result", json_null(), &ok);
                        if (!entry || json_array_append_new(list, entry) < 0)
                                ok = false;
                        if (streq(e->type, "start"))
                                continue;
                }
                /* finish */
                json_t *event = json_loads(e->json ? e->json : "{}", 0, NULL);
                json_t *duration = json_object_get(event, "duration");
                json_t *result = json_object_get(event, "result");
                set(entry, "finish", json_time(e->time), &ok);
                if (json_is_number(duration))
                        set(entry, "duration", json_real(json_number_value(duration)), &ok);
                else {
                        json_t *start = json_object_get(entry, "start");
                        int64_t t0;
                        if (json_is_string(start) && json_parse_time(json_string_value(start), &t0) >= 0 && e->time)
                                set(entry, "duration", json_real((double) (e->time - t0) / 1e6), &ok);
                }
                if (json_is_string(result))
                        set(entry, "result", json_string(json_string_value(result)), &ok);
                json_decref(event);
        }
        if (!ok) {
                json_decref(list);
                return NULL;
        }
        return list;
}

json_t *json_attempt(const Attempt *a, const StoredEvent *events, size_t n_events) {
        json_t *o = json_object();
        bool ok = o != NULL;

        if (!o)
                return NULL;
        set(o, "id", json_integer(a->id), &ok);
        set(o, "number", json_integer(a->number), &ok);
        set(o, "kind", json_string(attempt_kind_to_string(a->kind)), &ok);
        set(o, "profile", str_or_null(a->profile), &ok);
        set(o, "started", json_time(a->started), &ok);
        set(o, "finished", json_time(a->finished), &ok);
        set(o, "exit_status", a->exit_status >= 0 ? json_integer(a->exit_status) : json_null(), &ok);
        set(o, "events", json_integer(a->events), &ok);
        set(o, "has_log", json_boolean(a->has_log), &ok);
        if (events)
                set(o, "phases", phases(events, n_events), &ok);
        if (!ok) {
                json_decref(o);
                return NULL;
        }
        return o;
}

json_t *json_machine(const Machine *m, const Attempt *current) {
        json_t *o = json_object();
        bool ok = o != NULL;

        if (!o)
                return NULL;
        set(o, "id", json_integer(m->id), &ok);
        set(o, "mac", str_or_null(m->mac), &ok);
        set(o, "uuid", str_or_null(m->uuid), &ok);
        set(o, "serial", str_or_null(m->serial), &ok);
        set(o, "platform", str_or_null(m->platform), &ok);
        set(o, "hostname", str_or_null(m->hostname), &ok);
        set(o, "state", json_string(machine_state_to_string(m->state)), &ok);
        set(o, "state_since", json_time(m->state_since), &ok);
        set(o, "last_seen", json_time(m->last_seen), &ok);
        set(o, "created", json_time(m->created), &ok);
        set(o, "profile", str_or_null(m->profile), &ok);
        set(o, "message", str_or_null(m->message), &ok);
        set(o, "phase", str_or_null(m->phase), &ok);
        set(o, "last_error", str_or_null(m->last_error), &ok);
        if (m->progress_done == 0 && m->progress_total == 0)
                set(o, "progress", json_null(), &ok);
        else
                set(o, "progress",
                    json_pack("{s:I,s:I,s:f,s:o,s:o}", "done", (json_int_t) m->progress_done, "total",
                              (json_int_t) m->progress_total, "rate", m->progress_rate, "eta",
                              m->progress_eta >= 0 ? json_real(m->progress_eta) : json_null(), "time",
                              json_time(m->progress_time)),
                    &ok);
        set(o, "attempt", current ? json_attempt(current, NULL, 0) : json_null(), &ok);
        set(o, "has_inventory", json_boolean(m->has_inventory), &ok);
        if (!ok) {
                json_decref(o);
                return NULL;
        }
        return o;
}

json_t *json_audit(const AuditEntry *a) {
        return json_pack("{s:o,s:I,s:o,s:o,s:o}", "time", json_time(a->time), "machine_id", (json_int_t) a->machine_id,
                         "actor", str_or_null(a->actor), "action", str_or_null(a->action), "detail",
                         str_or_null(a->detail));
}
