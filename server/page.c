/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The status pages: the machine table (/) and one machine (/machines/ID),
 * rendered on the server so that they work without JavaScript, plus the
 * embedded script and style sheet (/site.js, /site.css) that poll the read
 * API and re-render. Self-contained: nothing is loaded from another host
 * (Content-Security-Policy default-src 'self', also as a meta element).
 *
 * Every string that comes from the store (hostnames, errors, messages,
 * inventories: all of them written by booting machines) goes through
 * html_text()/html_attr(); the script inserts data with textContent only. */

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <time.h>

#include "basic/strutil.h"
#include "format.h"
#include "page.h"

/* An HTML document being built: the first allocation failure sticks and
 * the result is NULL. */
typedef struct Html {
        StrBuf b;
        int r;
} Html;

static void h_raw(Html *h, const char *s) {
        if (h->r >= 0)
                h->r = strbuf_append(&h->b, s);
}

_printf_(2, 3) static void h_printf(Html *h, const char *fmt, ...) {
        va_list ap;
        char *s;

        if (h->r < 0)
                return;
        va_start(ap, fmt);
        s = strvprintf(fmt, ap);
        va_end(ap);
        if (!s) {
                h->r = -ENOMEM;
                return;
        }
        h->r = strbuf_append(&h->b, s);
        free(s);
}

/* Text or an attribute value (always written in double quotes): & < > " '
 * escaped, control characters but tab and newline dropped. NULL -> "". */
static void h_text(Html *h, const char *s) {
        const char *run = s;

        if (!s || h->r < 0)
                return;
        for (; *s; s++) {
                const char *rep;
                unsigned char c = (unsigned char) *s;

                switch (c) {
                case '&': rep = "&amp;"; break;
                case '<': rep = "&lt;"; break;
                case '>': rep = "&gt;"; break;
                case '"': rep = "&quot;"; break;
                case '\'': rep = "&#39;"; break;
                default:
                        if (c < 0x20 && c != '\t' && c != '\n')
                                rep = "";
                        else
                                continue;
                }
                if (h->r >= 0 && s > run)
                        h->r = strbuf_append_n(&h->b, run, s - run);
                h_raw(h, rep);
                run = s + 1;
        }
        if (h->r >= 0 && s > run)
                h->r = strbuf_append_n(&h->b, run, s - run);
}

static char *h_finish(Html *h) {
        if (h->r < 0) {
                strbuf_done(&h->b);
                return NULL;
        }
        return strbuf_steal(&h->b);
}

/* usec -> "2026-12-07T18:00:00.000000Z" (the API's form) and
 * "2026-12-07 18:00:00 UTC" (the text shown until the script converts it). */
static void format_times(int64_t usec, char iso[static 40], char text[static 40]) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        char day[24];

        if (!gmtime_r(&t, &tm) || strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
                strcpy(iso, "");
                strcpy(text, "?");
                return;
        }
        snprintf(iso, 40, "%s.%06dZ", day, (int) (usec % 1000000));
        day[10] = ' ';
        snprintf(text, 40, "%s UTC", day);
}

static void h_time(Html *h, int64_t usec) {
        char iso[40], text[40];

        if (usec <= 0) {
                h_raw(h, "<span class=\"none\">-</span>");
                return;
        }
        format_times(usec, iso, text);
        h_printf(h, "<time datetime=\"%s\">%s</time>", iso, text);
}

/* "45% 12.1 MB/s ETA 0:31"; without a total: "120.0 MB 12.1 MB/s". */
static void format_progress(const Machine *m, char *buf, size_t len) {
        char a[32], b[32] = "", c[32] = "";

        if (m->progress_total > 0)
                snprintf(a, sizeof a, "%d%%", (int) (m->progress_done * 100 / m->progress_total));
        else
                format_rate_bytes((double) m->progress_done, a, sizeof a);
        if (m->progress_rate > 0) {
                char r[24];
                format_rate_bytes(m->progress_rate, r, sizeof r);
                snprintf(b, sizeof b, " %s/s", r);
        }
        if (m->progress_eta >= 0 && m->progress_total > 0 && m->progress_done < m->progress_total) {
                char e[24];
                format_seconds(m->progress_eta, e, sizeof e);
                snprintf(c, sizeof c, " ETA %s", e);
        }
        snprintf(buf, len, "%s%s%s", a, b, c);
}

static bool shows_progress(const Machine *m) {
        return (m->progress_done > 0 || m->progress_total > 0) &&
               (m->state == MACHINE_INSTALLING || m->state == MACHINE_FAILED);
}

static void h_progress(Html *h, const Machine *m) {
        char text[96];

        if (!shows_progress(m))
                return;
        format_progress(m, text, sizeof text);
        h_printf(h, "<progress class=\"bar\" id=\"progress-%" PRId64 "\" data-done=\"%" PRId64 "\" data-total=\"%" PRId64
                    "\" data-rate=\"%.0f\" data-eta=\"%.0f\"",
                 m->id, m->progress_done, m->progress_total, isfinite(m->progress_rate) ? m->progress_rate : 0,
                 isfinite(m->progress_eta) ? m->progress_eta : -1);
        if (m->progress_total > 0)
                h_printf(h, " max=\"%" PRId64 "\" value=\"%" PRId64 "\"", m->progress_total,
                         MIN(m->progress_done, m->progress_total));
        h_raw(h, "></progress> <span class=\"progress-text\">");
        h_text(h, text);
        h_raw(h, "</span>");
}

static const char *state_name(MachineState s) {
        const char *n = machine_state_to_string(s);
        return n ?: "unknown";
}

static void h_badge(Html *h, MachineState s) {
        h_raw(h, "<span class=\"badge state-");
        h_text(h, state_name(s));
        h_raw(h, "\">");
        h_text(h, state_name(s));
        h_raw(h, "</span>");
}

static void h_error_cell(Html *h, const char *error, const char *extra_attr) {
        h_printf(h, "<td class=\"error%s\"%s>", error ? " has-error" : "", extra_attr);
        if (error) {
                h_raw(h, "<span class=\"error-text\">");
                h_text(h, error);
                h_raw(h, "</span>");
        }
        h_raw(h, "</td>");
}

static void h_head(Html *h, const char *title, const char *page, int64_t machine_id) {
        h_raw(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
        h_text(h, title);
        h_raw(h, "</title>\n<link rel=\"stylesheet\" href=\"/site.css\">\n"
                 "<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>\n"
                 "<script src=\"/site.js\" defer></script>\n</head>\n");
        if (machine_id > 0)
                h_printf(h, "<body data-page=\"%s\" data-machine=\"%" PRId64 "\">\n", page, machine_id);
        else
                h_printf(h, "<body data-page=\"%s\">\n", page);
}

static void h_foot(Html *h, int64_t now_usec) {
        h_raw(h, "<footer class=\"meta\"><p>Rendered ");
        h_time(h, now_usec);
        h_raw(h, ". <span id=\"zone\">Times in UTC.</span> <span id=\"live\">"
                 "<noscript>Without JavaScript this page reloads every 10 s.</noscript></span></p></footer>\n"
                 "</body>\n</html>\n");
}

static void h_machine_row(Html *h, const Machine *m) {
        const char *st = state_name(m->state);

        h_printf(h, "<tr id=\"machine-%" PRId64 "\" class=\"state-", m->id);
        h_text(h, st);
        h_printf(h, "\" data-machine=\"%" PRId64 "\" data-state=\"", m->id);
        h_text(h, st);
        h_raw(h, "\" data-phase=\"");
        h_text(h, m->phase);
        h_printf(h, "\">\n <td class=\"id\"><a href=\"/machines/%" PRId64 "\">%" PRId64 "</a></td>\n", m->id, m->id);
        h_raw(h, " <td class=\"mac\">");
        h_text(h, m->mac);
        h_raw(h, "</td>\n <td class=\"hostname\">");
        h_text(h, m->hostname);
        h_raw(h, "</td>\n <td class=\"state\">");
        h_badge(h, m->state);
        h_raw(h, "</td>\n <td class=\"phase\">");
        h_text(h, m->phase);
        h_raw(h, "</td>\n <td class=\"progress\">");
        h_progress(h, m);
        h_raw(h, "</td>\n <td class=\"since\">");
        h_time(h, m->state_since);
        h_raw(h, "</td>\n <td class=\"seen\">");
        h_time(h, m->last_seen);
        h_raw(h, "</td>\n ");
        h_error_cell(h, m->last_error, "");
        h_raw(h, "\n</tr>\n");
}

char *page_index_html(const Machine *list, size_t n, int64_t now_usec) {
        Html h = {};

        h_head(&h, "Machines - site server", "index", 0);
        h_printf(&h, "<header><h1>Machines</h1><span class=\"meta\"><span id=\"count\">%zu</span> known to this server</span></header>\n", n);
        h_raw(&h, "<table id=\"machines\">\n<thead><tr><th>#</th><th>MAC</th><th>Hostname</th><th>State</th>"
                  "<th>Phase</th><th>Progress</th><th>Since</th><th>Last seen</th><th>Last error</th></tr></thead>\n"
                  "<tbody id=\"machines-body\">\n");
        for (size_t i = 0; i < n; i++)
                h_machine_row(&h, &list[i]);
        if (n == 0)
                h_raw(&h, "<tr class=\"empty\"><td colspan=\"9\">No machine has booted from this server yet.</td></tr>\n");
        h_raw(&h, "</tbody>\n</table>\n");
        h_foot(&h, now_usec);
        return h_finish(&h);
}

/* ---- one machine ---- */

static void h_dd_text(Html *h, const char *label, const char *field, const char *value) {
        h_raw(h, "<dt>");
        h_text(h, label);
        h_raw(h, "</dt><dd");
        if (field)
                h_printf(h, " data-field=\"%s\"", field);
        h_raw(h, ">");
        h_text(h, value);
        h_raw(h, "</dd>\n");
}

static void h_dd_time(Html *h, const char *label, const char *field, int64_t usec) {
        h_printf(h, "<dt>%s</dt><dd data-field=\"%s\">", label, field);
        h_time(h, usec);
        h_raw(h, "</dd>\n");
}

static const char *jstr(json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

static void h_bytes_cell(Html *h, json_t *v) {
        char buf[32];

        h_raw(h, "<td class=\"num\">");
        if (json_is_integer(v) && json_integer_value(v) >= 0)
                h_text(h, format_bytes(buf, sizeof buf, (uint64_t) json_integer_value(v)));
        h_raw(h, "</td>");
}

static void h_cell(Html *h, const char *s) {
        h_raw(h, "<td>");
        h_text(h, s);
        h_raw(h, "</td>");
}

/* The inventory (installer inventory --json, docs/installer.md): firmware,
 * CPU, memory, DMI, disks with serials, NICs with MACs; then all of it,
 * pretty-printed. Whatever the machine sent, only text reaches the page. */
static void h_inventory(Html *h, const char *inventory_json) {
        json_error_t err;
        json_t *inv, *v;
        char buf[64];

        if (!inventory_json) {
                h_raw(h, "<p class=\"none\">No inventory received yet.</p>\n");
                return;
        }
        inv = json_loads(inventory_json, 0, &err);
        if (!json_is_object(inv)) {
                h_raw(h, "<p class=\"error-text\">The stored inventory is not a JSON object.</p>\n<pre id=\"inventory-json\">");
                h_text(h, inventory_json);
                h_raw(h, "</pre>\n");
                json_decref(inv);
                return;
        }

        h_raw(h, "<dl class=\"summary\" id=\"inventory-summary\">\n");
        h_dd_text(h, "Firmware", NULL, jstr(inv, "firmware"));
        v = json_object_get(inv, "cpu");
        if (json_is_object(v)) {
                json_t *count = json_object_get(v, "count");
                snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT " x ", json_is_integer(count) ? json_integer_value(count) : 0);
                h_raw(h, "<dt>CPU</dt><dd>");
                h_text(h, buf);
                h_text(h, jstr(v, "model"));
                h_raw(h, "</dd>\n");
        }
        v = json_object_get(inv, "memory_bytes");
        if (json_is_integer(v) && json_integer_value(v) >= 0)
                h_dd_text(h, "Memory", NULL, format_bytes(buf, sizeof buf, (uint64_t) json_integer_value(v)));
        v = json_object_get(inv, "dmi");
        if (json_is_object(v)) {
                h_raw(h, "<dt>System</dt><dd>");
                h_text(h, jstr(v, "sys_vendor"));
                h_raw(h, " ");
                h_text(h, jstr(v, "product_name"));
                h_raw(h, "</dd>\n");
                h_dd_text(h, "System serial", NULL, jstr(v, "product_serial"));
                h_dd_text(h, "System UUID", NULL, jstr(v, "product_uuid"));
        }
        h_raw(h, "</dl>\n");

        v = json_object_get(inv, "disks");
        h_raw(h, "<h3>Disks</h3>\n<table id=\"inventory-disks\"><thead><tr><th>Name</th><th class=\"num\">Size</th>"
                 "<th>Transport</th><th>Model</th><th>Serial</th><th>WWN</th><th>Partition table</th></tr></thead><tbody>\n");
        for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++) {
                json_t *d = json_array_get(v, i);
                if (!json_is_object(d))
                        continue;
                h_raw(h, "<tr>");
                h_cell(h, jstr(d, "name"));
                h_bytes_cell(h, json_object_get(d, "size_bytes"));
                h_cell(h, jstr(d, "transport"));
                h_cell(h, jstr(d, "model"));
                h_cell(h, jstr(d, "serial"));
                h_cell(h, jstr(d, "wwn"));
                h_cell(h, jstr(d, "pttype"));
                h_raw(h, "</tr>\n");
        }
        h_raw(h, "</tbody></table>\n");

        v = json_object_get(inv, "nics");
        h_raw(h, "<h3>Network interfaces</h3>\n<table id=\"inventory-nics\"><thead><tr><th>Name</th><th>MAC</th>"
                 "<th>Driver</th><th>Link</th><th class=\"num\">Speed</th></tr></thead><tbody>\n");
        for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++) {
                json_t *n = json_array_get(v, i), *sp, *car;
                if (!json_is_object(n))
                        continue;
                h_raw(h, "<tr>");
                h_cell(h, jstr(n, "name"));
                h_raw(h, "<td class=\"mono\">");
                h_text(h, jstr(n, "mac"));
                h_raw(h, "</td>");
                h_cell(h, jstr(n, "driver"));
                car = json_object_get(n, "carrier");
                h_cell(h, json_is_true(car) ? "up" : json_is_false(car) ? "down" : jstr(n, "operstate"));
                sp = json_object_get(n, "speed_mbps");
                if (json_is_integer(sp) && json_integer_value(sp) > 0) {
                        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT " Mb/s", json_integer_value(sp));
                        h_raw(h, "<td class=\"num\">");
                        h_text(h, buf);
                        h_raw(h, "</td>");
                } else
                        h_raw(h, "<td></td>");
                h_raw(h, "</tr>\n");
        }
        h_raw(h, "</tbody></table>\n");

        {
                char *pretty = json_dumps(inv, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                h_raw(h, "<details><summary>The inventory as JSON</summary>\n<pre id=\"inventory-json\">");
                h_text(h, pretty ?: inventory_json);
                h_raw(h, "</pre></details>\n");
                free(pretty);
        }
        json_decref(inv);
}

static void h_duration(Html *h, int64_t usec) {
        char buf[32];

        if (usec < 0)
                return;
        if (usec < 60 * 1000000LL)
                snprintf(buf, sizeof buf, "%.1f s", usec / 1e6);
        else
                format_seconds(usec / 1e6, buf, sizeof buf);
        h_text(h, buf);
}

char *page_machine_html(const Machine *m, const Attempt *attempts, size_t n_attempts, const char *inventory_json,
                        int64_t now_usec) {
        Html h = {};
        char title[160];
        const char *st = state_name(m->state);

        snprintf(title, sizeof title, "Machine %" PRId64 "%s%.100s - site server", m->id, m->hostname ? ": " : "",
                 m->hostname ?: "");
        h_head(&h, title, "machine", m->id);
        h_printf(&h, "<header><h1>Machine %" PRId64, m->id);
        if (m->hostname) {
                h_raw(&h, " <span data-field=\"hostname\">");
                h_text(&h, m->hostname);
                h_raw(&h, "</span>");
        }
        h_raw(&h, "</h1><a href=\"/\">All machines</a></header>\n");

        h_printf(&h, "<section id=\"summary\" data-machine=\"%" PRId64 "\" data-state=\"", m->id);
        h_text(&h, st);
        h_raw(&h, "\" data-phase=\"");
        h_text(&h, m->phase);
        h_raw(&h, "\">\n<dl class=\"summary\">\n");
        h_raw(&h, "<dt>State</dt><dd data-field=\"state\">");
        h_badge(&h, m->state);
        h_raw(&h, "</dd>\n");
        h_dd_time(&h, "Since", "state_since", m->state_since);
        h_dd_text(&h, "Phase", "phase", m->phase);
        h_raw(&h, "<dt>Progress</dt><dd data-field=\"progress\">");
        h_progress(&h, m);
        h_raw(&h, "</dd>\n<dt>Last error</dt><dd data-field=\"last_error\" class=\"error");
        h_raw(&h, m->last_error ? " has-error\">" : "\">");
        if (m->last_error) {
                h_raw(&h, "<span class=\"error-text\">");
                h_text(&h, m->last_error);
                h_raw(&h, "</span>");
        }
        h_raw(&h, "</dd>\n");
        h_dd_text(&h, "MAC", NULL, m->mac);
        h_dd_text(&h, "UUID", NULL, m->uuid);
        h_dd_text(&h, "Serial", NULL, m->serial);
        h_dd_text(&h, "Platform", NULL, m->platform);
        h_dd_text(&h, "Hostname", "hostname", m->hostname);
        h_dd_text(&h, "Profile", "profile", m->profile ?: "(lookup)");
        h_dd_text(&h, "Message", "message", m->message);
        h_dd_time(&h, "Last seen", "last_seen", m->last_seen);
        h_dd_time(&h, "Known since", "created", m->created);
        h_raw(&h, "</dl>\n</section>\n");

        h_raw(&h, "<h2>Attempts</h2>\n<table id=\"attempts\"><thead><tr><th class=\"num\">#</th><th>Kind</th>"
                  "<th>Profile</th><th>Started</th><th>Finished</th><th>Exit status</th><th class=\"num\">Events</th>"
                  "<th>Log</th></tr></thead>\n<tbody id=\"attempts-body\">\n");
        for (size_t i = n_attempts; i-- > 0;) {
                const Attempt *a = &attempts[i];
                h_printf(&h, "<tr data-attempt=\"%" PRId64 "\"><td class=\"num\">%d</td><td>%s</td><td>", a->id, a->number,
                         a->kind == ATTEMPT_DISCOVER ? "discover" : "install");
                h_text(&h, a->profile);
                h_raw(&h, "</td><td>");
                h_time(&h, a->started);
                h_raw(&h, "</td><td>");
                h_time(&h, a->finished);
                if (a->finished > 0 && a->finished >= a->started) {
                        h_raw(&h, " (");
                        h_duration(&h, a->finished - a->started);
                        h_raw(&h, ")");
                }
                h_raw(&h, "</td><td>");
                if (a->exit_status >= 0)
                        h_printf(&h, "%d", a->exit_status);
                h_printf(&h, "</td><td class=\"num\">%" PRId64 "</td><td>%s</td></tr>\n", a->events, a->has_log ? "yes" : "");
        }
        if (n_attempts == 0)
                h_raw(&h, "<tr class=\"empty\"><td colspan=\"8\">None yet.</td></tr>\n");
        h_raw(&h, "</tbody></table>\n");

        h_printf(&h, "<h2>Phase timeline</h2>\n<div id=\"timelines\"><p class=\"none\">The phases of each attempt are "
                     "drawn by the page's script; without it see <a href=\"/api/v1/machines/%" PRId64 "\">"
                     "/api/v1/machines/%" PRId64 "</a> (\"phases\").</p></div>\n", m->id, m->id);

        h_printf(&h, "<h2>Events <span class=\"meta\" data-field=\"events_attempt\"></span></h2>\n"
                     "<noscript><p>The events: <a href=\"/api/v1/machines/%" PRId64 "/events\">/api/v1/machines/%" PRId64
                     "/events</a>.</p></noscript>\n"
                     "<div class=\"events-wrap\"><table id=\"events\"><thead><tr><th class=\"num\">Seq</th><th>Time</th>"
                     "<th>Phase</th><th>Type</th><th>Message</th></tr></thead><tbody id=\"events-body\"></tbody></table></div>\n",
                 m->id, m->id);

        h_raw(&h, "<h2>Inventory</h2>\n");
        h_inventory(&h, inventory_json);

        h_printf(&h, "<h2>Failure log <span class=\"meta\" data-field=\"log_attempt\"></span></h2>\n"
                     "<noscript><p>The log: <a href=\"/api/v1/machines/%" PRId64 "/log\">/api/v1/machines/%" PRId64
                     "/log</a>.</p></noscript>\n<p class=\"none\" id=\"no-log\">None received for the latest attempt.</p>\n"
                     "<pre id=\"log\" class=\"log\"></pre>\n", m->id, m->id);
        h_foot(&h, now_usec);
        return h_finish(&h);
}

/* The script and the style sheet; their readable sources are these strings
 * (data is inserted with textContent only: no innerHTML anywhere). */
const char page_site_js[] =
        "'use strict';\n"
        "/* The status pages' script (server/page.c embeds it as /site.js). The pages\n"
        " * work without it; with it they poll the read API every 2 s and re-render.\n"
        " * Data from the server is only ever inserted as text (textContent). */\n"
        "(() => {\n"
        "  const POLL_MS = 2000;\n"
        "  const body = document.body;\n"
        "  const $ = (id) => document.getElementById(id);\n"
        "  const el = (tag, cls, text) => {\n"
        "    const e = document.createElement(tag);\n"
        "    if (cls) e.className = cls;\n"
        "    if (text !== undefined && text !== null) e.textContent = String(text);\n"
        "    return e;\n"
        "  };\n"
        "  const pad = (n) => (n < 10 ? '0' : '') + n;\n"
        "\n"
        "  /* RFC 3339 UTC with microseconds -> Date (browsers differ on >3 decimals). */\n"
        "  const parseTime = (iso) => {\n"
        "    const m = /^(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d)(\\.\\d+)?Z$/.exec(iso || '');\n"
        "    if (!m) return null;\n"
        "    const d = new Date(m[1] + 'Z');\n"
        "    if (isNaN(d.getTime())) return null;\n"
        "    return new Date(d.getTime() + (m[2] ? Math.floor(parseFloat('0' + m[2]) * 1000) : 0));\n"
        "  };\n"
        "  const localText = (d) => d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) +\n"
        "    ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());\n"
        "  const localize = (t) => {\n"
        "    const iso = t.getAttribute('datetime');\n"
        "    const d = parseTime(iso);\n"
        "    if (!d) return;\n"
        "    t.textContent = localText(d);\n"
        "    t.title = iso;\n"
        "    t.dataset.local = '1';\n"
        "  };\n"
        "  const timeEl = (iso) => {\n"
        "    if (!iso) return el('span', 'none', '-');\n"
        "    const t = el('time', null, iso);\n"
        "    t.setAttribute('datetime', iso);\n"
        "    localize(t);\n"
        "    return t;\n"
        "  };\n"
        "  const localizeAll = () => document.querySelectorAll('time[datetime]').forEach(localize);\n"
        "\n"
        "  /* The same texts as page.c's C functions. */\n"
        "  const fmtBytes = (b) => {\n"
        "    const u = ['B', 'kB', 'MB', 'GB', 'TB'];\n"
        "    let i = 0;\n"
        "    while (b >= 1000 && i < u.length - 1) { b /= 1000; i++; }\n"
        "    return (i ? b.toFixed(1) : String(Math.round(b))) + ' ' + u[i];\n"
        "  };\n"
        "  const fmtSecs = (s) => {\n"
        "    s = Math.round(s);\n"
        "    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;\n"
        "    return h ? h + ':' + pad(m) + ':' + pad(sec) : m + ':' + pad(sec);\n"
        "  };\n"
        "  const fmtDuration = (s) => (s === null || s === undefined) ? '' : (s < 60 ? s.toFixed(1) + ' s' : fmtSecs(s));\n"
        "  const progressText = (p) => {\n"
        "    const parts = [];\n"
        "    if (p.total > 0) parts.push(Math.floor(p.done * 100 / p.total) + '%');\n"
        "    else parts.push(fmtBytes(p.done));\n"
        "    if (p.rate > 0) parts.push(fmtBytes(p.rate) + '/s');\n"
        "    if (p.eta !== null && p.eta !== undefined && p.eta >= 0 && p.total > 0 && p.done < p.total)\n"
        "      parts.push('ETA ' + fmtSecs(p.eta));\n"
        "    return parts.join(' ');\n"
        "  };\n"
        "  const showsProgress = (m) => m.progress && (m.progress.done > 0 || m.progress.total > 0) &&\n"
        "    (m.state === 'installing' || m.state === 'failed');\n"
        "\n"
        "  const progressCell = (td, m) => {\n"
        "    td.replaceChildren();\n"
        "    if (!showsProgress(m)) return;\n"
        "    const p = m.progress;\n"
        "    const bar = el('progress', 'bar');\n"
        "    bar.id = 'progress-' + m.id;\n"
        "    bar.dataset.done = p.done;\n"
        "    bar.dataset.total = p.total || 0;\n"
        "    bar.dataset.rate = p.rate || 0;\n"
        "    bar.dataset.eta = (p.eta === null || p.eta === undefined) ? -1 : p.eta;\n"
        "    if (p.total > 0) { bar.max = p.total; bar.value = Math.min(p.done, p.total); }\n"
        "    td.append(bar, ' ', el('span', 'progress-text', progressText(p)));\n"
        "  };\n"
        "  const badge = (state) => el('span', 'badge state-' + state, state);\n"
        "  const errorCell = (td, err) => {\n"
        "    td.replaceChildren();\n"
        "    td.classList.toggle('has-error', !!err);\n"
        "    if (err) td.append(el('span', 'error-text', err));\n"
        "  };\n"
        "\n"
        "  const statusLine = (text, bad) => {\n"
        "    const s = $('live');\n"
        "    if (!s) return;\n"
        "    s.textContent = text;\n"
        "    s.classList.toggle('offline', !!bad);\n"
        "  };\n"
        "  const poll = (url, fn) => {\n"
        "    const again = () => setTimeout(() => poll(url, fn), POLL_MS);\n"
        "    fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } })\n"
        "      .then((r) => r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status)))\n"
        "      .then((d) => { fn(d); statusLine('live: updated ' + localText(new Date())); })\n"
        "      .catch((e) => statusLine('not updating: ' + e.message, true))\n"
        "      .finally(again);\n"
        "  };\n"
        "\n"
        "  /* ---- index: the machine table ---- */\n"
        "  const machineRow = (m) => {\n"
        "    const tr = el('tr');\n"
        "    tr.id = 'machine-' + m.id;\n"
        "    tr.dataset.machine = m.id;\n"
        "    tr.dataset.state = m.state;\n"
        "    tr.dataset.phase = m.phase || '';\n"
        "    tr.className = 'state-' + m.state;\n"
        "    const a = el('a', null, m.id);\n"
        "    a.href = '/machines/' + encodeURIComponent(m.id);\n"
        "    const c = (cls, ...kids) => { const td = el('td', cls); td.append(...kids); tr.append(td); return td; };\n"
        "    c('id', a);\n"
        "    c('mac', m.mac || '');\n"
        "    c('hostname', m.hostname || '');\n"
        "    c('state', badge(m.state));\n"
        "    c('phase', m.phase || '');\n"
        "    progressCell(c('progress'), m);\n"
        "    c('since', timeEl(m.state_since));\n"
        "    c('seen', timeEl(m.last_seen));\n"
        "    errorCell(c('error'), m.last_error);\n"
        "    return tr;\n"
        "  };\n"
        "  const renderIndex = (d) => {\n"
        "    const tb = $('machines-body');\n"
        "    const rows = (d.machines || []).map(machineRow);\n"
        "    if (!rows.length) {\n"
        "      const tr = el('tr', 'empty');\n"
        "      const td = el('td', null, 'No machine has booted from this server yet.');\n"
        "      td.colSpan = 9;\n"
        "      tr.append(td);\n"
        "      rows.push(tr);\n"
        "    }\n"
        "    tb.replaceChildren(...rows);\n"
        "    const n = $('count');\n"
        "    if (n) n.textContent = String((d.machines || []).length);\n"
        "  };\n"
        "\n"
        "  /* ---- one machine ---- */\n"
        "  let shownAttempt = null, lastSeq = 0, logShownFor = null, inventoryShown = null;\n"
        "  const setField = (name, value) => {\n"
        "    document.querySelectorAll('[data-field=\"' + name + '\"]').forEach((e) => {\n"
        "      e.replaceChildren();\n"
        "      if (value instanceof Node) e.append(value);\n"
        "      else e.textContent = value === null || value === undefined ? '' : String(value);\n"
        "    });\n"
        "  };\n"
        "  const renderSummary = (m) => {\n"
        "    const s = $('summary');\n"
        "    s.dataset.state = m.state;\n"
        "    s.dataset.phase = m.phase || '';\n"
        "    setField('state', badge(m.state));\n"
        "    setField('phase', m.phase || '');\n"
        "    setField('hostname', m.hostname || '');\n"
        "    setField('profile', m.profile || '(lookup)');\n"
        "    setField('message', m.message || '');\n"
        "    setField('state_since', timeEl(m.state_since));\n"
        "    setField('last_seen', timeEl(m.last_seen));\n"
        "    document.querySelectorAll('[data-field=\"progress\"]').forEach((td) => progressCell(td, m));\n"
        "    document.querySelectorAll('[data-field=\"last_error\"]').forEach((td) => errorCell(td, m.last_error));\n"
        "  };\n"
        "  const timeline = (a) => {\n"
        "    const wrap = el('div', 'timeline');\n"
        "    wrap.id = 'timeline-' + a.id;\n"
        "    const phases = a.phases || [];\n"
        "    if (!phases.length) { wrap.append(el('p', 'none', 'No phase reported yet.')); return wrap; }\n"
        "    const t0 = parseTime(phases[0].start);\n"
        "    let tEnd = t0;\n"
        "    phases.forEach((p) => {\n"
        "      const e = parseTime(p.finish) || new Date();\n"
        "      if (e > tEnd) tEnd = e;\n"
        "    });\n"
        "    const span = Math.max(1, tEnd - t0);\n"
        "    const table = el('table', 'phases');\n"
        "    const head = el('tr');\n"
        "    ['Phase', 'Start', 'Duration', 'Result', ''].forEach((h) => head.append(el('th', null, h)));\n"
        "    table.append(head);\n"
        "    phases.forEach((p) => {\n"
        "      const tr = el('tr', 'result-' + (p.result || 'running'));\n"
        "      tr.dataset.phase = p.phase;\n"
        "      tr.dataset.result = p.result || '';\n"
        "      const s = parseTime(p.start), f = parseTime(p.finish) || new Date();\n"
        "      tr.append(el('td', 'phase', p.phase), el('td', null), el('td', 'num',\n"
        "        p.duration !== null && p.duration !== undefined ? fmtDuration(p.duration) : fmtDuration((f - s) / 1000) + '...'),\n"
        "        el('td', null, p.result || 'running'));\n"
        "      tr.children[1].append(timeEl(p.start));\n"
        "      const cell = el('td', 'barcell'), bar = el('div', 'phasebar');\n"
        "      bar.style.marginLeft = (100 * (s - t0) / span).toFixed(2) + '%';\n"
        "      bar.style.width = Math.max(0.5, 100 * (f - s) / span).toFixed(2) + '%';\n"
        "      cell.append(bar);\n"
        "      tr.append(cell);\n"
        "      table.append(tr);\n"
        "    });\n"
        "    wrap.append(table);\n"
        "    return wrap;\n"
        "  };\n"
        "  const renderAttempts = (m) => {\n"
        "    const tb = $('attempts-body'), tl = $('timelines');\n"
        "    const list = (m.attempts || []).slice().reverse();\n"
        "    tb.replaceChildren(...list.map((a) => {\n"
        "      const tr = el('tr');\n"
        "      tr.dataset.attempt = a.id;\n"
        "      tr.append(el('td', 'num', a.number), el('td', null, a.kind), el('td', null, a.profile || ''),\n"
        "        el('td'), el('td'), el('td', null, a.exit_status === null || a.exit_status === undefined ? '' : a.exit_status),\n"
        "        el('td', 'num', a.events), el('td', null, a.has_log ? 'yes' : ''));\n"
        "      tr.children[3].append(timeEl(a.started));\n"
        "      tr.children[4].append(timeEl(a.finished));\n"
        "      return tr;\n"
        "    }));\n"
        "    tl.replaceChildren(...list.map((a) => {\n"
        "      const sec = el('div', 'attempt');\n"
        "      sec.append(el('h3', null, a.kind + ' ' + a.number + (a.finished ? (a.exit_status === 0 ? ': ok' : ': exit status ' + a.exit_status) : ': running')));\n"
        "      sec.append(timeline(a));\n"
        "      return sec;\n"
        "    }));\n"
        "  };\n"
        "  const eventText = (e) => {\n"
        "    if (e.type === 'progress' && e.progress) {\n"
        "      return (e.progress.what ? e.progress.what + ': ' : '') + progressText({\n"
        "        done: e.progress.done || 0, total: e.progress.total || 0, rate: e.progress.rate || 0,\n"
        "        eta: e.progress.eta === null || e.progress.eta === undefined ? -1 : e.progress.eta });\n"
        "    }\n"
        "    let t = e.message || '';\n"
        "    if (e.type === 'finish') t = (e.result || '') + (e.duration !== undefined ? ' in ' + fmtDuration(e.duration) : '') + (t ? ': ' + t : '');\n"
        "    if (e.exit_status !== undefined) t += ' (exit status ' + e.exit_status + ')';\n"
        "    return t;\n"
        "  };\n"
        "  const addEvents = (list) => {\n"
        "    const tb = $('events-body');\n"
        "    /* Follow the newest events unless the reader scrolled up. */\n"
        "    const wrap = tb.closest('.events-wrap');\n"
        "    const follow = !wrap || wrap.scrollTop + wrap.clientHeight >= wrap.scrollHeight - 8;\n"
        "    list.forEach((e) => {\n"
        "      const tr = el('tr', 'type-' + e.type + (e.level ? ' level-' + e.level : ''));\n"
        "      tr.dataset.seq = e.seq;\n"
        "      tr.append(el('td', 'num', e.seq), el('td'), el('td', null, e.phase || ''), el('td', null, e.type), el('td', 'msg', eventText(e)));\n"
        "      tr.children[1].append(timeEl(e.time));\n"
        "      tb.append(tr);\n"
        "      if (e.seq > lastSeq) lastSeq = e.seq;\n"
        "    });\n"
        "    if (wrap && follow && list.length) wrap.scrollTop = wrap.scrollHeight;\n"
        "  };\n"
        "  const fetchEvents = (id, a) => {\n"
        "    if (!a) return;\n"
        "    if (shownAttempt !== a.id) {\n"
        "      shownAttempt = a.id;\n"
        "      lastSeq = 0;\n"
        "      $('events-body').replaceChildren();\n"
        "      setField('events_attempt', a.kind + ' ' + a.number);\n"
        "    }\n"
        "    const want = a.id;\n"
        "    fetch('/api/v1/machines/' + encodeURIComponent(id) + '/events?attempt_id=' + encodeURIComponent(a.id) +\n"
        "          '&after=' + lastSeq + '&limit=1000', { cache: 'no-store' })\n"
        "      .then((r) => r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status)))\n"
        "      .then((d) => { if (shownAttempt === want) addEvents((d.events || []).filter((e) => e.seq > lastSeq)); })\n"
        "      .catch(() => {});\n"
        "  };\n"
        "  const fetchLog = (id, a) => {\n"
        "    const withLog = (a && a.has_log) ? a : null;\n"
        "    if (!withLog || logShownFor === withLog.id) return;\n"
        "    fetch('/api/v1/machines/' + encodeURIComponent(id) + '/log?attempt_id=' + encodeURIComponent(withLog.id), { cache: 'no-store' })\n"
        "      .then((r) => r.ok ? r.text() : Promise.reject(new Error('HTTP ' + r.status)))\n"
        "      .then((t) => { logShownFor = withLog.id; $('log').textContent = t; $('no-log').hidden = true; setField('log_attempt', withLog.kind + ' ' + withLog.number); })\n"
        "      .catch(() => {});\n"
        "  };\n"
        "  const renderMachine = (m) => {\n"
        "    renderSummary(m);\n"
        "    renderAttempts(m);\n"
        "    const attempts = m.attempts || [];\n"
        "    const latest = attempts.length ? attempts[attempts.length - 1] : m.attempt;\n"
        "    fetchEvents(m.id, latest);\n"
        "    fetchLog(m.id, latest);\n"
        "    /* A new or changed inventory: the server renders it; reload once. */\n"
        "    const inv = m.inventory ? JSON.stringify(m.inventory) : null;\n"
        "    if (inventoryShown === null) inventoryShown = inv === null ? '' : inv;\n"
        "    else if ((inv || '') !== inventoryShown) location.reload();\n"
        "  };\n"
        "\n"
        "  document.documentElement.classList.add('js');\n"
        "  const zone = $('zone');\n"
        "  if (zone) {\n"
        "    try { zone.textContent = 'Times in ' + Intl.DateTimeFormat().resolvedOptions().timeZone + '.'; } catch (e) { /* keep UTC */ }\n"
        "  }\n"
        "  localizeAll();\n"
        "  if (body.dataset.page === 'index') {\n"
        "    poll('/api/v1/machines', renderIndex);\n"
        "  } else if (body.dataset.page === 'machine') {\n"
        "    const id = body.dataset.machine;\n"
        "    poll('/api/v1/machines/' + encodeURIComponent(id), renderMachine);\n"
        "  }\n"
        "})();\n"
        ;

const char page_site_css[] =
        "/* The status pages' style sheet (server/page.c embeds it as /site.css). */\n"
        ":root { --fg: #1d232a; --muted: #5f6b78; --line: #d8dee4; --bg: #ffffff; --head: #f3f5f7;\n"
        "  --red: #c0161c; --redbg: #fdecec; --green: #1a7f37; --blue: #0b5cad; --amber: #9a6700; }\n"
        "* { box-sizing: border-box; }\n"
        "body { margin: 0; padding: 1rem 1.5rem; font: 14px/1.45 system-ui, -apple-system, \"Segoe UI\", sans-serif;\n"
        "  color: var(--fg); background: var(--bg); }\n"
        "header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1.5rem; margin-bottom: .8rem; }\n"
        "h1 { font-size: 1.4rem; margin: 0; }\n"
        "h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }\n"
        "h3 { font-size: 1rem; margin: 1rem 0 .3rem; }\n"
        "a { color: var(--blue); }\n"
        ".meta, .none, #zone, #live { color: var(--muted); }\n"
        "#live.offline { color: var(--red); }\n"
        "table { border-collapse: collapse; width: 100%; }\n"
        "th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }\n"
        "th { background: var(--head); font-weight: 600; white-space: nowrap; }\n"
        "td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }\n"
        "td.mac, td.id, time, .mono, pre { font-family: ui-monospace, \"DejaVu Sans Mono\", monospace; font-size: 13px; }\n"
        "td.progress { min-width: 16rem; white-space: nowrap; }\n"
        "progress.bar { width: 8rem; height: .9rem; vertical-align: middle; accent-color: var(--blue); }\n"
        ".progress-text { font-variant-numeric: tabular-nums; margin-left: .3rem; }\n"
        "td.has-error, .error-text { color: var(--red); }\n"
        "td.has-error { background: var(--redbg); font-weight: 600; }\n"
        ".badge { display: inline-block; padding: .05rem .5rem; border-radius: .7rem; font-size: 12px; font-weight: 600;\n"
        "  border: 1px solid currentColor; white-space: nowrap; }\n"
        ".state-discovered.badge { color: var(--muted); }\n"
        ".state-ready.badge { color: var(--blue); }\n"
        ".state-installing.badge { color: var(--amber); }\n"
        ".state-installed.badge { color: var(--green); }\n"
        ".state-failed.badge { color: #fff; background: var(--red); border-color: var(--red); }\n"
        ".state-held.badge { color: #6e40c9; }\n"
        "dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }\n"
        "dl.summary dt { color: var(--muted); }\n"
        "dl.summary dd { margin: 0; }\n"
        "table.phases { width: auto; min-width: 40rem; }\n"
        "td.barcell { width: 24rem; min-width: 12rem; }\n"
        ".phasebar { height: .8rem; background: var(--blue); border-radius: 2px; min-width: 2px; }\n"
        "tr.result-failed td { color: var(--red); }\n"
        "tr.result-failed .phasebar { background: var(--red); }\n"
        "tr.result-running .phasebar { background: var(--amber); }\n"
        "tr.type-error td, tr.level-error td { color: var(--red); }\n"
        "tr.level-warning td { color: var(--amber); }\n"
        "td.msg { white-space: pre-wrap; word-break: break-word; }\n"
        "pre { background: var(--head); padding: .6rem; overflow: auto; max-height: 36rem; border: 1px solid var(--line); }\n"
        "details > summary { cursor: pointer; color: var(--blue); }\n"
        ".events-wrap { max-height: 30rem; overflow: auto; }\n"
        "time { white-space: nowrap; }\n"
        "pre:empty { display: none; }\n"
        "#events td:nth-child(3), #machines td.phase, table.phases td.phase { white-space: nowrap; }\n"
        ".events-wrap thead th { position: sticky; top: 0; z-index: 1; }\n"
        ;
