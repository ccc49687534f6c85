/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operator's command line: a client of a running site server's HTTP API
 * (SITE-SPEC.md, docs/site-operator.md). Reads go to the open read API;
 * actions carry the operator token from --token-file. The token is read
 * from its file and sent in the Authorization header only: it is never
 * printed, never put in a URL, and redirects are not followed.
 *
 * Exit codes: 0 ok, 1 error, 2 usage, 3 not found (404), 4 refused
 * (401/403), 5 server unreachable. Text from the server (hostnames, errors,
 * messages: written by booting machines) is printed with control characters
 * replaced, so it cannot drive the terminal; `inventory`, `log` and --json
 * print the server's data unchanged. */

#include <curl/curl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <time.h>

#include "basic/strutil.h"
#include "cli.h"
#include "format.h"

enum {
        CLI_OK = 0,
        CLI_ERROR = 1,
        CLI_USAGE = 2,
        CLI_NOT_FOUND = 3,
        CLI_REFUSED = 4,
        CLI_UNREACHABLE = 5,
};

#define DEFAULT_SERVER "http://127.0.0.1:8080/"
#define DEFAULT_TOKEN_FILE "/var/lib/site-server/operator.token"
#define MAX_RESPONSE (256 * MiB)

typedef struct Client {
        const char *command;
        char *base;             /* ends with '/' */
        const char *token_file;
        bool json;
        const char *message;
        const char *attempt;
} Client;

/* ---- output helpers ---- */

/* A copy of s fit for a terminal: control characters (escape sequences
 * from a hostile hostname) become '?'. NULL -> "". */
static char *term_text(const char *s) {
        char *r = strdup(s ?: "");
        if (!r)
                return NULL;
        for (char *p = r; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return r;
}

static void put_term(FILE *f, const char *s) {
        for (; s && *s; s++)
                fputc((unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* Display width of UTF-8 text, one column per code point. */
static size_t text_width(const char *s) {
        size_t w = 0;
        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        w++;
        return w;
}

static const char *jstr(const json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

static int64_t jint(const json_t *o, const char *key, int64_t dflt) {
        json_t *v = json_object_get(o, key);
        return json_is_integer(v) ? (int64_t) json_integer_value(v) : dflt;
}

/* RFC 3339 UTC (the API's times) -> local "2026-12-07 19:00:00"; "-" when
 * NULL, the text itself when unparsable. */
static void local_time(const char *iso, char *buf, size_t len) {
        struct tm tm = {};
        time_t t;
        int n = 0;

        if (!iso) {
                snprintf(buf, len, "-");
                return;
        }
        if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec, &n) != 6 || n == 0) {
                snprintf(buf, len, "%s", iso);
                return;
        }
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        t = timegm(&tm);
        if (!localtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, len, "%s", iso);
}

static double iso_seconds(const char *iso) {
        struct tm tm = {};
        double frac = 0;
        int n = 0;

        if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                           &tm.tm_min, &tm.tm_sec, &n) != 6)
                return NAN;
        if (iso[n] == '.')
                frac = strtod(iso + n, NULL);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return (double) timegm(&tm) + frac;
}

static void format_duration(double s, char *buf, size_t len) {
        if (!isfinite(s) || s < 0)
                snprintf(buf, len, "-");
        else if (s < 60)
                snprintf(buf, len, "%.1f s", s);
        else
                format_seconds(s, buf, len);
}

/* "45% 12.1 MB/s ETA 0:31" (the status page shows the same), "" when the
 * machine shows no progress. */
static void format_progress(const json_t *m, char *buf, size_t len) {
        const json_t *p = json_object_get(m, "progress");
        const char *state = jstr(m, "state");
        double done, total, rate, eta;
        char a[32], b[32] = "", c[32] = "";

        buf[0] = 0;
        if (!json_is_object(p) || !state || (!streq(state, "installing") && !streq(state, "failed")))
                return;
        done = json_number_value(json_object_get(p, "done"));
        total = json_number_value(json_object_get(p, "total"));
        rate = json_number_value(json_object_get(p, "rate"));
        eta = json_is_number(json_object_get(p, "eta")) ? json_number_value(json_object_get(p, "eta")) : -1;
        if (done <= 0 && total <= 0)
                return;
        if (total > 0)
                snprintf(a, sizeof a, "%d%%", (int) (done * 100 / total));
        else
                format_rate_bytes(done, a, sizeof a);
        if (rate > 0) {
                char r[24];
                format_rate_bytes(rate, r, sizeof r);
                snprintf(b, sizeof b, " %s/s", r);
        }
        if (eta >= 0 && total > 0 && done < total) {
                char e[24];
                format_seconds(eta, e, sizeof e);
                snprintf(c, sizeof c, " ETA %s", e);
        }
        snprintf(buf, len, "%s%s%s", a, b, c);
}

/* ---- HTTP ---- */

typedef struct Response {
        long status;
        StrBuf body;
} Response;

static size_t on_body(char *data, size_t size, size_t n, void *userdata) {
        Response *r = userdata;
        size_t len = size * n;

        if (r->body.len + len > MAX_RESPONSE || strbuf_append_n(&r->body, data, len) < 0)
                return 0; /* curl fails with CURLE_WRITE_ERROR */
        return len;
}

/* A URL without user and password (http://user:pw@host/ -> http://host/). */
static const char *url_for_humans(const char *url) {
        static char buf[512];
        const char *host = strstr(url, "://"), *at, *slash;

        if (!host)
                return url;
        host += 3;
        slash = host + strcspn(host, "/");
        at = memchr(host, '@', slash - host);
        if (!at)
                return url;
        snprintf(buf, sizeof buf, "%.*s%s", (int) (host - url), url, at + 1);
        return buf;
}

static bool curl_unreachable(CURLcode cc) {
        return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_RESOLVE_PROXY ||
               cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR ||
               cc == CURLE_GOT_NOTHING;
}

/* The operator token: the first line of the file, white space stripped.
 * Returns 0 or an exit code (the message printed, never the token). */
static int read_token(const Client *c, char **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        char buf[512];

        f = fopen(c->token_file, "re");
        if (!f) {
                fprintf(stderr, "site-server %s: cannot read the operator token from %s: %s "
                                "(--token-file or $SITE_TOKEN_FILE; the server writes it to STATE/operator.token)\n",
                        c->command, c->token_file, strerror(errno));
                return CLI_ERROR;
        }
        if (!fgets(buf, sizeof buf, f))
                buf[0] = 0;
        strstrip(buf);
        for (const char *p = buf; *p; p++)
                if ((unsigned char) *p <= 0x20 || *p == 0x7f) {
                        buf[0] = 0;
                        break;
                }
        if (!buf[0]) {
                explicit_bzero(buf, sizeof buf);
                fprintf(stderr, "site-server %s: %s holds no usable operator token\n", c->command, c->token_file);
                return CLI_ERROR;
        }
        *ret = strprintf("Authorization: Bearer %s", buf);
        explicit_bzero(buf, sizeof buf);
        return *ret ? 0 : CLI_ERROR;
}

/* The server's reason for a refusal: the "error" member of a JSON body, or
 * its first line. */
static void print_refusal(const Client *c, const char *method, const char *path, const Response *r) {
        json_t *j = r->body.data ? json_loads(r->body.data, 0, NULL) : NULL;
        const char *why = json_is_object(j) ? (jstr(j, "error") ?: jstr(j, "message")) : NULL;
        _cleanup_free_ char *first = NULL;

        if (!why && r->body.data) {
                first = strndup(r->body.data, strcspn(r->body.data, "\r\n"));
                if (first && strlen(first) > 300)
                        first[300] = 0;
                why = first;
        }
        fprintf(stderr, "site-server %s: %s /%s: HTTP %ld", c->command, method, path, r->status);
        if (why && *why) {
                fputs(": ", stderr);
                put_term(stderr, why);
        }
        if (r->status == 401)
                fputs(" (is --token-file the server's operator token?)", stderr);
        fputc('\n', stderr);
        json_decref(j);
}

/* method path (below the server URL) [JSON body]: 0 with the 2xx response
 * in *r, else the exit code (the message printed). */
static int http_call(const Client *c, const char *method, const char *path, const char *body, Response *r) {
        _cleanup_free_ char *url = NULL, *auth = NULL;
        struct curl_slist *headers = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        CURLcode cc;
        CURL *curl;
        int ret;

        *r = (Response) {};
        if (body) {
                ret = read_token(c, &auth);
                if (ret != 0)
                        return ret;
        }
        url = strprintf("%s%s", c->base, path);
        curl = curl_easy_init();
        if (!url || !curl) {
                curl_easy_cleanup(curl);
                fprintf(stderr, "site-server %s: out of memory\n", c->command);
                return CLI_ERROR;
        }
        headers = curl_slist_append(headers, "Accept: application/json, text/plain");
        if (auth)
                headers = curl_slist_append(headers, auth);
        if (body)
                headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "site-server-cli");
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
        if (body) {
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        }

        cc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_cleanup(curl);
        curl_slist_free_all(headers);
        if (auth)
                explicit_bzero(auth, strlen(auth));

        if (cc != CURLE_OK) {
                bool unreachable = curl_unreachable(cc);
                fprintf(stderr, "site-server %s: %s %s%s: %s\n", c->command, method, url_for_humans(c->base), path,
                        errbuf[0] ? errbuf : curl_easy_strerror(cc));
                if (unreachable)
                        fprintf(stderr, "site-server %s: is the server running? (--server or $SITE_SERVER)\n",
                                c->command);
                strbuf_done(&r->body);
                return unreachable ? CLI_UNREACHABLE : CLI_ERROR;
        }
        if (r->status >= 200 && r->status < 300) {
                if (!r->body.data && strbuf_append(&r->body, "") < 0) {
                        fprintf(stderr, "site-server %s: out of memory\n", c->command);
                        return CLI_ERROR;
                }
                return 0;
        }
        print_refusal(c, method, path, r);
        strbuf_done(&r->body);
        return r->status == 404 ? CLI_NOT_FOUND : (r->status == 401 || r->status == 403) ? CLI_REFUSED : CLI_ERROR;
}

/* GET path, parse the JSON answer. */
static int get_json(const Client *c, const char *path, json_t **ret) {
        Response r;
        json_error_t err;
        int k;

        k = http_call(c, "GET", path, NULL, &r);
        if (k != 0)
                return k;
        *ret = json_loads(r.body.data, 0, &err);
        strbuf_done(&r.body);
        if (!*ret) {
                fprintf(stderr, "site-server %s: GET /%s: the answer is not JSON: %s\n", c->command, path, err.text);
                return CLI_ERROR;
        }
        return 0;
}

/* "api/v1/machines/NAME" + suffix, NAME escaped. */
static char *machine_path(const char *name, const char *suffix) {
        char *e = curl_easy_escape(NULL, name, 0), *p;

        if (!e)
                return NULL;
        p = strprintf("api/v1/machines/%s%s", e, suffix ?: "");
        curl_free(e);
        return p;
}

static int print_json(const json_t *j) {
        if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
                return CLI_ERROR;
        putchar('\n');
        return 0;
}

/* ---- machines ---- */

enum { COL_ID, COL_MAC, COL_HOST, COL_STATE, COL_PHASE, COL_PROGRESS, COL_SINCE, COL_ERROR, _COL_MAX };
static const char *const col_names[_COL_MAX] = { "ID", "MAC", "HOSTNAME", "STATE", "PHASE", "PROGRESS", "SINCE", "LAST ERROR" };

static int cmd_machines(const Client *c) {
        json_t *j = NULL, *list;
        size_t n, width[_COL_MAX];
        char ***rows = NULL;
        int k;

        k = get_json(c, "api/v1/machines", &j);
        if (k != 0)
                return k;
        if (c->json) {
                k = print_json(j);
                json_decref(j);
                return k;
        }
        list = json_object_get(j, "machines");
        if (!json_is_array(list)) {
                fprintf(stderr, "site-server machines: the answer has no \"machines\" list\n");
                json_decref(j);
                return CLI_ERROR;
        }
        n = json_array_size(list);
        rows = new0(char **, n + 1);
        if (!rows)
                goto oom;
        for (size_t i = 0; i < _COL_MAX; i++)
                width[i] = strlen(col_names[i]);
        for (size_t i = 0; i < n; i++) {
                json_t *m = json_array_get(list, i);
                char id[24], progress[96], since[64];

                snprintf(id, sizeof id, "%" PRId64, jint(m, "id", 0));
                format_progress(m, progress, sizeof progress);
                local_time(jstr(m, "state_since"), since, sizeof since);
                rows[i] = new0(char *, _COL_MAX);
                if (!rows[i])
                        goto oom;
                rows[i][COL_ID] = term_text(id);
                rows[i][COL_MAC] = term_text(jstr(m, "mac"));
                rows[i][COL_HOST] = term_text(jstr(m, "hostname") ?: "-");
                rows[i][COL_STATE] = term_text(jstr(m, "state"));
                rows[i][COL_PHASE] = term_text(jstr(m, "phase") ?: "-");
                rows[i][COL_PROGRESS] = term_text(progress[0] ? progress : "-");
                rows[i][COL_SINCE] = term_text(since);
                rows[i][COL_ERROR] = term_text(jstr(m, "last_error") ?: "");
                for (size_t col = 0; col < _COL_MAX; col++) {
                        if (!rows[i][col])
                                goto oom;
                        width[col] = MAX(width[col], text_width(rows[i][col]));
                }
        }
        for (size_t col = 0; col + 1 < _COL_MAX; col++)
                printf("%-*s  ", (int) width[col], col_names[col]);
        printf("%s\n", col_names[_COL_MAX - 1]);
        for (size_t i = 0; i < n; i++)
                for (size_t col = 0; col < _COL_MAX; col++) {
                        fputs(rows[i][col], stdout);
                        if (col + 1 == _COL_MAX || (col + 2 == _COL_MAX && !rows[i][col + 1][0])) {
                                putchar('\n'); /* no trailing blanks */
                                break;
                        }
                        printf("%*s", (int) (width[col] - text_width(rows[i][col]) + 2), "");
                }
        k = 0;
        goto out;
oom:
        fprintf(stderr, "site-server machines: out of memory\n");
        k = CLI_ERROR;
out:
        for (size_t i = 0; rows && i < n; i++) {
                for (size_t col = 0; rows[i] && col < _COL_MAX; col++)
                        free(rows[i][col]);
                free(rows[i]);
        }
        free(rows);
        json_decref(j);
        return k;
}

/* ---- show ---- */

static void show_field(const char *label, const char *value) {
        printf("  %-12s ", label);
        put_term(stdout, value && *value ? value : "-");
        putchar('\n');
}

static void show_time(const char *label, const char *iso) {
        char buf[64];
        local_time(iso, buf, sizeof buf);
        show_field(label, buf);
}

static void show_attempt(const json_t *a) {
        const json_t *phases = json_object_get(a, "phases"), *ex = json_object_get(a, "exit_status");
        const char *started = jstr(a, "started"), *finished = jstr(a, "finished");
        char s[64], f[64], d[32];

        local_time(started, s, sizeof s);
        local_time(finished, f, sizeof f);
        format_duration(finished ? iso_seconds(finished) - iso_seconds(started) : NAN, d, sizeof d);
        printf("  ");
        put_term(stdout, jstr(a, "kind"));
        printf(" %" PRId64 ", profile ", jint(a, "number", 0));
        put_term(stdout, jstr(a, "profile") ?: "-");
        printf(": started %s, ", s);
        if (finished)
                printf("finished %s (%s), exit status %" JSON_INTEGER_FORMAT, f, d,
                       json_is_integer(ex) ? json_integer_value(ex) : (json_int_t) -1);
        else
                printf("not finished");
        printf(", %" PRId64 " events%s\n", jint(a, "events", 0),
               json_is_true(json_object_get(a, "has_log")) ? ", failure log stored" : "");
        if (json_array_size(phases) == 0)
                return;
        printf("    %-16s %-19s %10s  %s\n", "PHASE", "START", "DURATION", "RESULT");
        for (size_t i = 0; i < json_array_size(phases); i++) {
                const json_t *p = json_array_get(phases, i), *dur = json_object_get(p, "duration");
                _cleanup_free_ char *name = term_text(jstr(p, "phase"));

                local_time(jstr(p, "start"), s, sizeof s);
                if (json_is_number(dur))
                        format_duration(json_number_value(dur), d, sizeof d);
                else
                        snprintf(d, sizeof d, "-");
                printf("    %-16s %-19s %10s  ", name ?: "", s, d);
                put_term(stdout, jstr(p, "result") ?: (jstr(p, "finish") ? "" : "running"));
                putchar('\n');
        }
}

static void show_inventory(const json_t *inv) {
        const json_t *cpu = json_object_get(inv, "cpu"), *dmi = json_object_get(inv, "dmi"), *v;
        char buf[64];

        show_field("Firmware", jstr(inv, "firmware"));
        if (json_is_object(cpu)) {
                printf("  %-12s %" PRId64 " x ", "CPU", jint(cpu, "count", 0));
                put_term(stdout, jstr(cpu, "model") ?: "?");
                putchar('\n');
        }
        v = json_object_get(inv, "memory_bytes");
        if (json_is_integer(v) && json_integer_value(v) >= 0)
                show_field("Memory", format_bytes(buf, sizeof buf, (uint64_t) json_integer_value(v)));
        if (json_is_object(dmi)) {
                printf("  %-12s ", "System");
                put_term(stdout, jstr(dmi, "sys_vendor") ?: "?");
                putchar(' ');
                put_term(stdout, jstr(dmi, "product_name") ?: "?");
                putchar('\n');
                show_field("Serial", jstr(dmi, "product_serial"));
                show_field("UUID", jstr(dmi, "product_uuid"));
        }
        v = json_object_get(inv, "disks");
        for (size_t i = 0; i < json_array_size(v); i++) {
                const json_t *d = json_array_get(v, i), *size = json_object_get(d, "size_bytes");
                printf("  %-12s ", i == 0 ? "Disks" : "");
                put_term(stdout, jstr(d, "name") ?: "?");
                printf("  %s  ", json_is_integer(size) && json_integer_value(size) >= 0 ?
                                         format_bytes(buf, sizeof buf, (uint64_t) json_integer_value(size)) : "?");
                put_term(stdout, jstr(d, "transport") ?: "-");
                fputs("  serial ", stdout);
                put_term(stdout, jstr(d, "serial") ?: "-");
                if (jstr(d, "model")) {
                        fputs("  model ", stdout);
                        put_term(stdout, jstr(d, "model"));
                }
                if (jstr(d, "wwn")) {
                        fputs("  wwn ", stdout);
                        put_term(stdout, jstr(d, "wwn"));
                }
                putchar('\n');
        }
        v = json_object_get(inv, "nics");
        for (size_t i = 0; i < json_array_size(v); i++) {
                const json_t *nic = json_array_get(v, i), *car = json_object_get(nic, "carrier");
                printf("  %-12s ", i == 0 ? "NICs" : "");
                put_term(stdout, jstr(nic, "name") ?: "?");
                fputs("  ", stdout);
                put_term(stdout, jstr(nic, "mac") ?: "-");
                fputs("  ", stdout);
                put_term(stdout, jstr(nic, "driver") ?: "-");
                fputs(json_is_true(car) ? "  link up" : json_is_false(car) ? "  no link" : "", stdout);
                putchar('\n');
        }
}

static int cmd_show(const Client *c, const char *name) {
        _cleanup_free_ char *path = machine_path(name, NULL);
        const json_t *attempts, *audit, *inv;
        json_t *m = NULL;
        char progress[96];
        int k;

        if (!path)
                return CLI_ERROR;
        k = get_json(c, path, &m);
        if (k != 0)
                return k;
        if (c->json) {
                k = print_json(m);
                json_decref(m);
                return k;
        }
        printf("Machine %" PRId64 "\n", jint(m, "id", 0));
        show_field("Hostname", jstr(m, "hostname"));
        show_field("MAC", jstr(m, "mac"));
        show_field("UUID", jstr(m, "uuid"));
        show_field("Serial", jstr(m, "serial"));
        show_field("Platform", jstr(m, "platform"));
        show_field("State", jstr(m, "state"));
        show_time("Since", jstr(m, "state_since"));
        show_field("Phase", jstr(m, "phase"));
        format_progress(m, progress, sizeof progress);
        show_field("Progress", progress);
        show_field("Last error", jstr(m, "last_error"));
        show_field("Profile", jstr(m, "profile") ?: "(lookup: mac, uuid, serial, default)");
        show_field("Message", jstr(m, "message"));
        show_time("Last seen", jstr(m, "last_seen"));
        show_time("Known since", jstr(m, "created"));

        attempts = json_object_get(m, "attempts");
        printf("\nAttempts:\n");
        if (json_array_size(attempts) == 0)
                printf("  none\n");
        for (size_t i = 0; i < json_array_size(attempts); i++)
                show_attempt(json_array_get(attempts, i));

        audit = json_object_get(m, "audit");
        printf("\nOperator actions:\n");
        if (json_array_size(audit) == 0)
                printf("  none\n");
        for (size_t i = 0; i < json_array_size(audit); i++) {
                const json_t *e = json_array_get(audit, i);
                char t[64];
                local_time(jstr(e, "time"), t, sizeof t);
                printf("  %s  ", t);
                put_term(stdout, jstr(e, "actor") ?: "-");
                fputs("  ", stdout);
                put_term(stdout, jstr(e, "action") ?: "?");
                if (jstr(e, "detail")) {
                        fputs("  ", stdout);
                        put_term(stdout, jstr(e, "detail"));
                }
                putchar('\n');
        }

        inv = json_object_get(m, "inventory");
        printf("\nInventory:\n");
        if (json_is_object(inv))
                show_inventory(inv);
        else
                printf("  none received\n");
        json_decref(m);
        return 0;
}

/* ---- actions ---- */

static int cmd_action(const Client *c, const char *action, const char *name, json_t *body) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        json_t *m;
        Response r;
        int k;

        path = machine_path(name, NULL);
        if (path) {
                char *p = strprintf("%s/%s", path, action);
                free(path);
                path = p;
        }
        text = body ? json_dumps(body, JSON_COMPACT) : strdup("{}");
        if (!path || !text) {
                fprintf(stderr, "site-server %s: out of memory\n", c->command);
                return CLI_ERROR;
        }
        k = http_call(c, "POST", path, text, &r);
        if (k != 0)
                return k;
        m = json_loads(r.body.data, 0, NULL);
        strbuf_done(&r.body);
        if (c->json && m)
                k = print_json(m);
        else if (streq(action, "forget"))
                printf("machine %s forgotten\n", name);
        else if (json_is_object(m)) {
                printf("machine %" PRId64 " (", jint(m, "id", 0));
                put_term(stdout, jstr(m, "hostname") ?: jstr(m, "mac"));
                fputs("): ", stdout);
                put_term(stdout, jstr(m, "state"));
                if (jstr(m, "profile")) {
                        fputs(", profile ", stdout);
                        put_term(stdout, jstr(m, "profile"));
                } else if (streq(action, "assign"))
                        fputs(", profile lookup (mac, uuid, serial, default)", stdout);
                if (jstr(m, "message") && streq(action, "hold")) {
                        fputs(", message: ", stdout);
                        put_term(stdout, jstr(m, "message"));
                }
                putchar('\n');
        } else
                printf("%s %s: done\n", action, name);
        json_decref(m);
        return k;
}

/* ---- raw: inventory, log ---- */

/* "api/v1/machines/NAME" + suffix [+ "?attempt=N"]. */
static char *machine_path_attempt(const Client *c, const char *name, const char *suffix) {
        _cleanup_free_ char *base = machine_path(name, suffix);
        char *esc, *p;

        if (!base || !c->attempt)
                return TAKE_PTR(base);
        esc = curl_easy_escape(NULL, c->attempt, 0);
        p = esc ? strprintf("%s?attempt=%s", base, esc) : NULL;
        curl_free(esc);
        return p;
}

static int cmd_raw(const Client *c, const char *name, const char *suffix) {
        _cleanup_free_ char *path = machine_path_attempt(c, name, suffix);
        Response r;
        int k;

        if (!path)
                return CLI_ERROR;
        k = http_call(c, "GET", path, NULL, &r);
        if (k != 0)
                return k;
        if (fwrite(r.body.data, 1, r.body.len, stdout) != r.body.len || fflush(stdout) != 0) {
                fprintf(stderr, "site-server %s: writing the output failed: %s\n", c->command, strerror(errno));
                k = CLI_ERROR;
        }
        strbuf_done(&r.body);
        return k;
}

/* ---- events ---- */

static void print_event(const json_t *e) {
        const json_t *p = json_object_get(e, "progress");
        const char *type = jstr(e, "type") ?: "?";
        _cleanup_free_ char *ph = term_text(jstr(e, "phase") ?: "-"), *ty = term_text(type);
        char t[64];

        local_time(jstr(e, "time"), t, sizeof t);
        printf("%6" PRId64 "  %s  %-14s %-8s ", jint(e, "seq", 0), t, ph ?: "", ty ?: "");
        if (streq(type, "progress") && json_is_object(p)) {
                json_t *m = json_pack("{s:s,s:O}", "state", "installing", "progress", (json_t *) p);
                char buf[96] = "";

                if (m)
                        format_progress(m, buf, sizeof buf);
                json_decref(m);
                if (jstr(p, "what")) {
                        put_term(stdout, jstr(p, "what"));
                        fputs(": ", stdout);
                }
                fputs(buf, stdout);
        } else {
                if (streq(type, "finish")) {
                        const json_t *dur = json_object_get(e, "duration"), *ex = json_object_get(e, "exit_status");
                        put_term(stdout, jstr(e, "result") ?: "");
                        if (json_is_number(dur)) {
                                char d[32];
                                format_duration(json_number_value(dur), d, sizeof d);
                                printf(" in %s", d);
                        }
                        if (json_is_integer(ex))
                                printf(", exit status %" JSON_INTEGER_FORMAT, json_integer_value(ex));
                        if (jstr(e, "message"))
                                fputs(": ", stdout);
                }
                put_term(stdout, jstr(e, "message"));
        }
        putchar('\n');
}

static int cmd_events(const Client *c, const char *name) {
        _cleanup_free_ char *base = machine_path_attempt(c, name, "/events");
        json_t *all = json_array();
        int64_t after = 0;
        int k = 0;

        if (!base || !all) {
                json_decref(all);
                return CLI_ERROR;
        }
        /* Page through: at most 1000 per request, after the last seq seen. */
        for (;;) {
                _cleanup_free_ char *path = strprintf("%s%cafter=%" PRId64 "&limit=1000", base,
                                                      strchr(base, '?') ? '&' : '?', after);
                json_t *j = NULL, *list;
                size_t n, added = 0;

                if (!path) {
                        k = CLI_ERROR;
                        break;
                }
                k = get_json(c, path, &j);
                if (k != 0)
                        break;
                list = json_object_get(j, "events");
                n = json_array_size(list);
                for (size_t i = 0; i < n; i++) {
                        json_t *e = json_array_get(list, i);
                        int64_t seq = jint(e, "seq", 0);
                        if (seq <= after)
                                continue;
                        after = seq;
                        json_array_append(all, e);
                        added++;
                }
                json_decref(j);
                if (n < 1000 || added == 0)
                        break;
        }
        if (k != 0) {
                json_decref(all);
                return k;
        }
        if (c->json) {
                json_t *o = json_pack("{s:O}", "events", all);
                k = o ? print_json(o) : CLI_ERROR;
                json_decref(o);
        } else
                for (size_t i = 0; i < json_array_size(all); i++)
                        print_event(json_array_get(all, i));
        json_decref(all);
        return k;
}

/* ---- the command line ---- */

enum { OPT_JSON = 1 << 0, OPT_MESSAGE = 1 << 1, OPT_ATTEMPT = 1 << 2 };

typedef struct Command {
        const char *name, *args, *summary, *help;
        unsigned n_args, options;
} Command;

static const Command commands[] = {
        { "machines", "", "list the machines, their state and progress",
          "List the machines: ID, MAC, HOSTNAME, STATE, PHASE, PROGRESS (during the image\n"
                          "stream: percent, rate, time left), SINCE (when the state began, local time) and\n"
                          "LAST ERROR.", 0, OPT_JSON },
        { "show", "MACHINE", "one machine: attempts, phases, actions, inventory",
          "Show one machine: its record, every attempt with its phase timeline and\n"
                             "durations, the operator actions on it, its inventory (firmware, CPU, memory,\n"
                             "disks with serials, NICs with MACs).", 1, OPT_JSON },
        { "reinstall", "MACHINE", "install it again at its next network boot",
          "Install the machine again at its next network boot (state ready). Whether\n"
                                  "its disks may be wiped is the profile's decision (wipe:).", 1, OPT_JSON },
        { "hold", "MACHINE", "hold it with a message on its console",
          "Hold the machine: at its next network boot it shows the message and asks\n"
                             "again every 30 s; nothing else happens until `release`.", 1, OPT_JSON | OPT_MESSAGE },
        { "release", "MACHINE", "let a held, discovered or failed machine install",
          "Release a held, discovered or failed machine: it installs at its next\n"
                                "network boot (a held machine returns to its state before the hold when\n"
                                "that was ready, installing or installed).", 1, OPT_JSON },
        { "assign", "MACHINE PROFILE", "install it with PROFILE (- clears)",
          "Install the machine with profiles/PROFILE from now on instead of the lookup\n"
                                       "(mac, uuid, serial, default); PROFILE \"-\" clears the assignment. The state\n"
                                       "does not change: `release` or `reinstall` makes it install.", 2, OPT_JSON },
        { "forget", "MACHINE", "delete it and everything stored about it",
          "Delete the machine and everything stored about it (attempts, events,\n"
                               "inventory, logs); at its next boot it is a new machine.", 1, OPT_JSON },
        { "inventory", "MACHINE", "its inventory JSON, as the installer sent it",
          "Print the machine's stored inventory exactly as the installer sent it\n"
                                  "(`installer inventory --json`), e.g. for `installer plan --inventory m.json`.", 1, 0 },
        { "events", "MACHINE", "the events of its latest (or one) attempt",
          "Print the events of the machine's latest attempt (or --attempt N): seq, local\n"
                               "time, phase, type, message or progress.", 1, OPT_JSON | OPT_ATTEMPT },
        { "log", "MACHINE", "the failure log of its latest (or one) attempt",
          "Print the failure log the installer uploaded for the latest attempt with a\n"
                            "log (or --attempt N).", 1, OPT_ATTEMPT },
};

static const Command *command_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

static void command_help(const Command *cmd, FILE *f) {
        fprintf(f, "Usage: site-server %s%s%s%s%s%s [--server URL] [--token-file FILE]\n\n%s\n\n", cmd->name,
                cmd->args[0] ? " " : "", cmd->args, cmd->options & OPT_MESSAGE ? " [--message TEXT]" : "",
                cmd->options & OPT_ATTEMPT ? " [--attempt N]" : "", cmd->options & OPT_JSON ? " [--json]" : "",
                cmd->help);
        if (strstr(cmd->args, "MACHINE"))
                fputs("MACHINE is the server's number for it, its MAC, SMBIOS UUID or serial, or its hostname.\n", f);
        if (cmd->options & OPT_JSON)
                fputs("  --json            print the server's JSON answer (pretty) instead of text\n", f);
        if (cmd->options & OPT_MESSAGE)
                fputs("  --message TEXT    the message shown on the machine's console (default: a standard text)\n", f);
        if (cmd->options & OPT_ATTEMPT)
                fputs("  --attempt N       that attempt of the machine instead of the latest\n", f);
        fputs("  --server URL      the site server (default $SITE_SERVER, else " DEFAULT_SERVER ")\n"
              "  --token-file FILE the operator token, needed for actions (default $SITE_TOKEN_FILE,\n"
              "                    else " DEFAULT_TOKEN_FILE ")\n"
              "  -h, --help        this text\n\n"
              "Exit status: 0 ok, 1 error, 2 usage, 3 not found, 4 refused (token), 5 server unreachable.\n"
              "See docs/site-operator.md.\n", f);
}

static void cli_usage(FILE *f) {
        fputs("Usage: site-server COMMAND [ARGS] [--server URL] [--token-file FILE]\n\nCommands:\n", f);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-10s %-16s %s\n", commands[i].name, commands[i].args, commands[i].summary);
        fputs("\n`site-server COMMAND --help` explains one. See docs/site-operator.md.\n", f);
}

_printf_(2, 3) static int usage_error(const Command *cmd, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "site-server %s: ", cmd->name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (site-server %s --help)\n", cmd->name);
        return CLI_USAGE;
}

static bool attempt_valid(const char *s) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        return errno == 0 && end != s && !*end && v >= 1 && v <= INT32_MAX;
}

static bool profile_name_valid(const char *s) {
        size_t n = strlen(s);

        if (n < 1 || n > 128 || !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", s[0]))
                return false;
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int client_base(Client *c, const char *server) {
        if (!startswith(server, "http://") && !startswith(server, "https://"))
                return usage_error(command_find(c->command), "--server must be an http:// or https:// URL: %s", server);
        if (strchr(server, '?') || strchr(server, '#'))
                return usage_error(command_find(c->command), "--server takes no query or fragment: %s", server);
        c->base = strprintf("%s%s", server, endswith(server, "/") ? "" : "/");
        return c->base ? 0 : CLI_ERROR;
}

static int cli_run(Client *c, const Command *cmd, char **args) {
        const char *name = args[0];

        if (streq(cmd->name, "machines"))
                return cmd_machines(c);
        if (streq(cmd->name, "show"))
                return cmd_show(c, name);
        if (streq(cmd->name, "inventory"))
                return cmd_raw(c, name, "/inventory");
        if (streq(cmd->name, "log"))
                return cmd_raw(c, name, "/log");
        if (streq(cmd->name, "events"))
                return cmd_events(c, name);
        if (streq(cmd->name, "hold")) {
                json_t *body = c->message ? json_pack("{s:s}", "message", c->message) : json_object();
                int k = body ? cmd_action(c, "hold", name, body) : CLI_ERROR;
                json_decref(body);
                return k;
        }
        if (streq(cmd->name, "assign")) {
                const char *profile = args[1];
                json_t *body = streq(profile, "-") ? json_pack("{s:n}", "profile") :
                                                     json_pack("{s:s}", "profile", profile);
                int k = body ? cmd_action(c, "assign", name, body) : CLI_ERROR;
                json_decref(body);
                return k;
        }
        return cmd_action(c, cmd->name, name, NULL);
}

int cli_main(int argc, char **argv) {
        static const struct option options[] = {
                { "server", required_argument, NULL, 's' },
                { "token-file", required_argument, NULL, 't' },
                { "json", no_argument, NULL, 'j' },
                { "message", required_argument, NULL, 'm' },
                { "attempt", required_argument, NULL, 'a' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *server = getenv("SITE_SERVER"), *token_file = getenv("SITE_TOKEN_FILE");
        Client c = {};
        const Command *cmd;
        char **args;
        unsigned n;
        int opt, k;

        if (argc < 1 || !argv[0] || streq(argv[0], "help") || streq(argv[0], "--help") || streq(argv[0], "-h")) {
                cli_usage(stdout);
                return argc < 1 || !argv[0] ? CLI_USAGE : CLI_OK;
        }
        cmd = command_find(argv[0]);
        if (!cmd) {
                fprintf(stderr, "site-server: unknown command \"");
                put_term(stderr, argv[0]);
                fprintf(stderr, "\"\n");
                cli_usage(stderr);
                return CLI_USAGE;
        }
        c.command = cmd->name;

        /* GNU getopt permutes: options may come before or after the
         * arguments; "--" ends the options, "-" is an argument. */
        optind = 0; /* a fresh scan (main may have used getopt) */
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                unsigned need = 0;
                switch (opt) {
                case 's': server = optarg; break;
                case 't': token_file = optarg; break;
                case 'j': c.json = true; need = OPT_JSON; break;
                case 'm': c.message = optarg; need = OPT_MESSAGE; break;
                case 'a': c.attempt = optarg; need = OPT_ATTEMPT; break;
                case 'h': command_help(cmd, stdout); return CLI_OK;
                case ':': return usage_error(cmd, "%s needs an argument", argv[optind - 1]);
                default: return usage_error(cmd, "unknown option: %s", argv[optind - 1]);
                }
                if (need && !(cmd->options & need))
                        return usage_error(cmd, "this command takes no %s", argv[optind - 1]);
        }
        args = argv + optind;
        n = (unsigned) (argc - optind);
        if (n < cmd->n_args)
                return usage_error(cmd, "missing %s", cmd->args);
        if (n > cmd->n_args)
                return usage_error(cmd, "too many arguments: %s", args[cmd->n_args]);
        if (c.attempt && !attempt_valid(c.attempt))
                return usage_error(cmd, "--attempt takes a number >= 1: %s", c.attempt);
        if (n >= 1 && !*args[0])
                return usage_error(cmd, "an empty MACHINE");
        if (streq(cmd->name, "assign") && !streq(args[1], "-") && !profile_name_valid(args[1]))
                return usage_error(cmd, "not a profile name (a file under the profiles directory: letters, "
                                        "digits, '.', '_', '-'): %s", args[1]);

        c.token_file = token_file && *token_file ? token_file : DEFAULT_TOKEN_FILE;
        k = client_base(&c, server && *server ? server : DEFAULT_SERVER);
        if (k != 0)
                return k;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                free(c.base);
                fprintf(stderr, "site-server %s: libcurl failed to initialize\n", c.command);
                return CLI_ERROR;
        }
        k = cli_run(&c, cmd, args);
        curl_global_cleanup();
        free(c.base);
        return k;
}
