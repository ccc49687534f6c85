/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Events as JSON lines, the machine's identity, and the capped console log:
 * the pure parts of installer/report, tested in tests/unit/test_report.c. */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/strutil.h"
#include "report/report.h"

static const char *const event_type_names[_REPORT_EVENT_TYPE_MAX] = {
        [REPORT_EVENT_START] = "start",       [REPORT_EVENT_FINISH] = "finish", [REPORT_EVENT_PROGRESS] = "progress",
        [REPORT_EVENT_INFO] = "info",         [REPORT_EVENT_ERROR] = "error",
};

const char *report_event_type_to_string(ReportEventType t) {
        return t >= 0 && t < _REPORT_EVENT_TYPE_MAX ? event_type_names[t] : NULL;
}

char *report_format_time(uint64_t realtime_usec, char buf[static 32]) {
        time_t secs = (time_t) (realtime_usec / 1000000);
        struct tm tm;

        if (!gmtime_r(&secs, &tm))
                tm = (struct tm) { .tm_year = 70, .tm_mday = 1 };
        size_t n = strftime(buf, 20, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, 32 - n, ".%06uZ", (unsigned) (realtime_usec % 1000000));
        return buf;
}

/* A string field, scrubbed; NULL stays null. */
static void scrubbed_string(JsonWriter *j, const char *key, const char *value) {
        _cleanup_free_ char *s = NULL;

        if (value && !(s = report_scrub(value))) {
                jsonw_string(j, key, "[out of memory]");
                return;
        }
        jsonw_string(j, key, s);
}

char *report_event_to_json(const ReportEvent *e) {
        char *buf = NULL, ts[32];
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        JsonWriter j = JSON_WRITER_INIT(f);
        j.compact = true;
        jsonw_object_begin(&j, NULL);
        jsonw_u64(&j, "seq", e->seq);
        jsonw_string(&j, "time", report_format_time(e->realtime_usec, ts));
        jsonw_fixed(&j, "monotonic", (double) e->monotonic_usec / 1e6, 6);
        scrubbed_string(&j, "machine_id", e->machine_id);
        jsonw_string(&j, "machine_id_source", e->machine_id_source);
        scrubbed_string(&j, "phase", e->phase);
        jsonw_string(&j, "type", report_event_type_to_string(e->type));
        if (e->level)
                jsonw_string(&j, "level", e->level);
        if (e->type == REPORT_EVENT_FINISH) {
                jsonw_string(&j, "result", e->error < 0 || e->exit_status > 0 ? "failed" : "ok");
                if (e->error < 0) {
                        const char *name = strerrorname_np(-e->error);
                        jsonw_string(&j, "errno", name ? name : "?");
                }
                if (e->exit_status >= 0)
                        jsonw_i64(&j, "exit_status", e->exit_status);
                if (e->duration_usec >= 0)
                        jsonw_fixed(&j, "duration", (double) e->duration_usec / 1e6, 3);
        }
        if (e->message)
                scrubbed_string(&j, "message", e->message);
        if (e->type == REPORT_EVENT_PROGRESS) {
                jsonw_object_begin(&j, "progress");
                scrubbed_string(&j, "what", e->what);
                jsonw_u64(&j, "done", e->done);
                if (e->total)
                        jsonw_u64(&j, "total", e->total);
                else
                        jsonw_null(&j, "total");
                jsonw_fixed(&j, "rate", e->rate, 0);
                if (e->eta >= 0)
                        jsonw_fixed(&j, "eta", e->eta, 0);
                else
                        jsonw_null(&j, "eta");
                jsonw_bool(&j, "final", e->final);
                jsonw_object_end(&j);
        }
        jsonw_object_end(&j);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* All zeros or all F: QEMU without -uuid and many white boxes; not an identity. */
static bool uuid_is_set(const char *uuid) {
        bool zero = true, ff = true;

        if (!uuid || strlen(uuid) < 32)
                return false;
        for (const char *c = uuid; *c; c++) {
                if (*c == '-')
                        continue;
                if (!isxdigit((unsigned char) *c))
                        return false;
                zero = zero && *c == '0';
                ff = ff && (*c == 'f' || *c == 'F');
        }
        return !zero && !ff;
}

int report_machine_id(const char *sysroot, const char *boot_uuid, const char *boot_mac, char **ret_id,
                      const char **ret_source) {
        _cleanup_free_ char *path = NULL, *uuid = NULL;
        const char *id = NULL, *source = "none";

        path = path_join_root(sysroot ? sysroot : "/", "/sys/class/dmi/id/product_uuid");
        if (!path)
                return -ENOMEM;
        if (read_one_line_file(path, &uuid) >= 0)
                strstrip(uuid);
        if (uuid_is_set(uuid))
                id = uuid, source = "smbios-uuid";
        else if (uuid_is_set(boot_uuid))
                id = boot_uuid, source = "smbios-uuid";
        else if (boot_mac && *boot_mac)
                id = boot_mac, source = "boot-mac";

        char *copy = strdup(id ? id : "unknown");
        if (!copy)
                return -ENOMEM;
        if (streq(source, "smbios-uuid"))
                for (char *c = copy; *c; c++)
                        *c = (char) tolower((unsigned char) *c);
        *ret_id = copy;
        *ret_source = source;
        return 0;
}

/* ---- the capped log ------------------------------------------------------------- */

int report_log_init(ReportLog *l, size_t head_max, size_t tail_max) {
        *l = (ReportLog) { .head_max = head_max, .tail_max = tail_max };
        l->head = malloc(head_max ? head_max : 1);
        l->tail = malloc(tail_max ? tail_max : 1);
        if (!l->head || !l->tail) {
                report_log_done(l);
                return -ENOMEM;
        }
        return 0;
}

void report_log_append(ReportLog *l, const char *data, size_t size) {
        if (!l->head)
                return;
        l->total += size;
        if (l->head_len < l->head_max) {
                size_t n = MIN(size, l->head_max - l->head_len);
                memcpy(l->head + l->head_len, data, n);
                l->head_len += n;
                data += n;
                size -= n;
        }
        if (l->tail_max == 0)
                return;
        if (size > l->tail_max) { /* only the last tail_max bytes can stay */
                data += size - l->tail_max;
                size = l->tail_max;
        }
        while (size > 0) {
                size_t n = MIN(size, l->tail_max - l->tail_pos);
                memcpy(l->tail + l->tail_pos, data, n);
                l->tail_pos = (l->tail_pos + n) % l->tail_max;
                data += n;
                size -= n;
        }
}

char *report_log_text(const ReportLog *l, size_t *ret_size) {
        uint64_t rest = l->total - l->head_len;
        size_t in_tail = (size_t) MIN(rest, (uint64_t) l->tail_max);
        uint64_t dropped = rest - in_tail;
        StrBuf b = {};
        int r;

        r = strbuf_append_n(&b, l->head ? l->head : "", l->head ? l->head_len : 0);
        if (r >= 0 && dropped > 0)
                r = strbuf_appendf(&b, "\n[... %" PRIu64 " bytes of the log left out ...]\n", dropped);
        if (r >= 0 && in_tail > 0) {
                /* The ring's oldest byte is at tail_pos once it has wrapped. */
                size_t start = in_tail < l->tail_max ? 0 : l->tail_pos;
                size_t first = MIN(in_tail, l->tail_max - start);
                r = strbuf_append_n(&b, l->tail + start, first);
                if (r >= 0 && first < in_tail)
                        r = strbuf_append_n(&b, l->tail, in_tail - first);
        }
        if (r >= 0 && !b.data)
                r = strbuf_append(&b, "");
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        if (ret_size)
                *ret_size = b.len;
        return strbuf_steal(&b);
}

void report_log_done(ReportLog *l) {
        free(l->head);
        free(l->tail);
        *l = (ReportLog) {};
}
