/* SPDX-License-Identifier: GPL-2.0-or-later */
/* site-load: a load generator for the site server (server/, docs/site.md).
 *
 * N simulated machines do what an installing machine does, over one libcurl
 * multi handle (one thread, so the client is not what is measured):
 *
 *   1. GET /ipxe/answer?mac=..&uuid=..&serial=..&platform=pcbios: the boot
 *      answer; the machine's number and its token come from the script's
 *      inst.report=URL/api/v1/machines/ID/report and inst.report.token=TOKEN;
 *   2. POST the inventory once (X-Installer-Upload: inventory);
 *   3. POST its events (docs/events.md: install start, the phases, image
 *      progress, install finish with exit status 0) as NDJSON in batches of
 *      1-10, spread evenly until --spread seconds after the start (0: each
 *      batch as soon as the last one was answered: the server's maximum).
 *
 * Meanwhile --readers status page readers GET /api/v1/machines and GET /
 * every --read-interval seconds, as the status page's script does.
 *
 * At the end it checks through the API that the server stored exactly the
 * events sent: every machine "installed", its attempt holding --events
 * events, its inventory there; for the first and the last machine the
 * events themselves (seq 1..E). The sum of the "stored" counts in the
 * answers must equal the events sent. Any failed request, any mismatch or
 * the --timeout passing: exit status 1 and no figures, so that a broken run
 * cannot produce numbers.
 *
 * --mirror URL2 sends every event batch to a second server at the same
 * time (two instances sharing one database): then each event must be stored
 * exactly once over both (stored + duplicates == 2 x sent, stored == sent),
 * and the check runs against both servers.
 *
 * Output on stdout, one "key value" per line (tests/bench.sh reads it);
 * latencies in milliseconds, from handing the request to libcurl to its
 * answer: connecting included (a machine's requests each open a connection,
 * as the installer's do; readers keep theirs), and any wait for one of the
 * --max-connections (default 64) connections. Progress and errors on
 * stderr. Only the URLs given are contacted; tests use 127.0.0.1. */

#include <curl/curl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <time.h>

#include "basic/macro.h"

#define MAX_BATCH 10
#define RESP_CAP (16 * MiB)
#define MIN_EVENTS 28 /* install start+finish, 13 phases start+finish */

typedef enum ReqKind {
        REQ_ANSWER,
        REQ_INVENTORY,
        REQ_EVENTS,
        REQ_API,
        REQ_PAGE,
        _REQ_MAX,
} ReqKind;

static const char *const req_name[_REQ_MAX] = {
        [REQ_ANSWER] = "answer",
        [REQ_INVENTORY] = "inventory",
        [REQ_EVENTS] = "events",
        [REQ_API] = "api_list",
        [REQ_PAGE] = "page",
};

typedef struct Samples {
        double *v;
        size_t n, cap;
} Samples;

typedef enum SimStage { SIM_BOOT, SIM_INVENTORY, SIM_EVENTS, SIM_DONE } SimStage;

typedef struct Sim {
        unsigned idx;
        char mac[18], uuid[37], serial[24];
        int64_t id;
        char token[160];
        SimStage stage;
        unsigned inflight;
        double next;           /* seconds since the start */
        unsigned sent;         /* events acknowledged */
        unsigned nbatches, batch;
        unsigned sizes[MIN_EVENTS * 100];
        double events_from;    /* when its first batch was due */
        bool batch_failed;
} Sim;

typedef struct Reader {
        double next;
        unsigned inflight;
} Reader;

typedef struct Req {
        ReqKind kind;
        Sim *sim;
        Reader *reader;
        CURL *h;
        struct curl_slist *headers;
        char *body;
        size_t body_len;
        char *resp;
        size_t resp_len;
        double t0;
        unsigned nevents;
        unsigned target; /* 0 --url, 1 --mirror */
} Req;

static struct {
        const char *url[2];
        unsigned ntargets;
        unsigned machines, events, readers;
        double spread, read_interval, timeout, ramp;
        unsigned mac_prefix;
        unsigned seed;
        const char *inventory_file;
        long max_connections;
        bool quiet;
} arg = {
        .machines = 10,
        .events = 80,
        .readers = 4,
        .spread = 40,
        .read_interval = 2,
        .timeout = 60,
        .ramp = -1,
        .mac_prefix = 0xb0,
        .seed = 1,
        .max_connections = 64,
};

static struct timespec t_start;
static Samples samples[_REQ_MAX];
static uint64_t requests[_REQ_MAX], failures;
static uint64_t events_sent, events_stored, events_duplicate;
static double first_event = -1, last_event = -1;
static char *inventory;
static CURLM *multi;
static unsigned inflight;

static double elapsed(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) (t.tv_sec - t_start.tv_sec) + (t.tv_nsec - t_start.tv_nsec) / 1e9;
}

static uint32_t rng_state;
static uint32_t rng(void) { /* xorshift32: deterministic per --seed */
        uint32_t x = rng_state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return rng_state = x;
}
static double rng_unit(void) {
        return (double) rng() / 4294967296.0;
}

static int samples_add(Samples *s, double v) {
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 1024;
                double *p = realloc(s->v, cap * sizeof(double));
                if (!p)
                        return -ENOMEM;
                s->v = p;
                s->cap = cap;
        }
        s->v[s->n++] = v;
        return 0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

/* Nearest rank. */
static double samples_pct(Samples *s, double p) {
        if (s->n == 0)
                return NAN;
        size_t k = (size_t) ceil(p / 100.0 * (double) s->n);
        return s->v[k ? k - 1 : 0];
}

_printf_(2, 3) static void fail(const Sim *sim, const char *fmt, ...) {
        va_list ap;
        failures++;
        if (failures > 20)
                return;
        if (sim)
                fprintf(stderr, "site-load: machine %u (%s, id %" PRIi64 "): ", sim->idx, sim->mac, sim->id);
        else
                fprintf(stderr, "site-load: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (failures == 20)
                fprintf(stderr, "site-load: (further failures not shown)\n");
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata) {
        Req *r = userdata;
        size_t n = size * nmemb;
        if (r->resp_len + n > RESP_CAP)
                return 0;
        char *q = realloc(r->resp, r->resp_len + n + 1);
        if (!q)
                return 0;
        memcpy(q + r->resp_len, p, n);
        r->resp = q;
        r->resp_len += n;
        r->resp[r->resp_len] = 0;
        return n;
}

static void req_free(Req *r) {
        if (!r)
                return;
        if (r->h)
                curl_easy_cleanup(r->h);
        curl_slist_free_all(r->headers);
        free(r->body);
        free(r->resp);
        free(r);
}

/* A request to the target's base URL + path; body NULL: GET. Takes body. */
static int req_start(ReqKind kind, unsigned target, Sim *sim, Reader *reader, const char *path, char *body,
                     size_t body_len, const char *content_type, const char *upload) {
        Req *r = new0(Req, 1);
        char *url = NULL;
        if (!r) {
                free(body);
                return -ENOMEM;
        }
        r->kind = kind;
        r->target = target;
        r->sim = sim;
        r->reader = reader;
        r->body = body;
        r->body_len = body_len;
        r->h = curl_easy_init();
        if (!r->h || asprintf(&url, "%s%s", arg.url[target], path) < 0)
                goto oom;
        curl_easy_setopt(r->h, CURLOPT_URL, url);
        free(url);
        curl_easy_setopt(r->h, CURLOPT_PRIVATE, r);
        curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(r->h, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
        /* The installer opens a connection per request (installer/fetch:
         * fetch_post); a status page's browser keeps its connection. */
        if (sim)
                curl_easy_setopt(r->h, CURLOPT_FORBID_REUSE, 1L);
        r->headers = curl_slist_append(r->headers, "Expect:");
        if (sim && sim->token[0] && kind != REQ_ANSWER) {
                char h[200];
                snprintf(h, sizeof h, "Authorization: Bearer %s", sim->token);
                r->headers = curl_slist_append(r->headers, h);
        }
        if (content_type) {
                char h[100];
                snprintf(h, sizeof h, "Content-Type: %s", content_type);
                r->headers = curl_slist_append(r->headers, h);
        }
        if (upload) {
                char h[100];
                snprintf(h, sizeof h, "X-Installer-Upload: %s", upload);
                r->headers = curl_slist_append(r->headers, h);
        }
        if (!r->headers)
                goto oom;
        curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, r->headers);
        if (body) {
                curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, r->body);
                curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) r->body_len);
        }
        r->t0 = elapsed();
        if (curl_multi_add_handle(multi, r->h) != CURLM_OK)
                goto oom;
        requests[kind]++;
        inflight++;
        if (sim)
                sim->inflight++;
        if (reader)
                reader->inflight++;
        return 0;
oom:
        req_free(r);
        return -ENOMEM;
}

static void rfc3339(char *buf, size_t size) {
        struct timespec t;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &t);
        gmtime_r(&t.tv_sec, &tm);
        size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, size - n, ".%06ldZ", t.tv_nsec / 1000);
}

static const char *const phases[] = {
        "detect", "fetch-profile", "validate", "match", "plan", "check-target", "wipe",
        "partition", "mkfs", "mount", "image", "configure", "bootloader",
};
#define PHASE_IMAGE 10

/* Event seq (1..E) of an install with E events: install start, ten phases,
 * image start, E - 28 image progress events, image finish, two phases,
 * install finish (exit status 0). Appended to f as one NDJSON line. */
static void event_write(FILE *f, const Sim *sim, unsigned seq) {
        unsigned e = arg.events, nprogress = e - MIN_EVENTS;
        char now[40];
        const char *phase, *type;
        unsigned k = 0; /* progress index */
        rfc3339(now, sizeof now);
        if (seq == 1 || seq == e) {
                phase = "install";
                type = seq == 1 ? "start" : "finish";
        } else if (seq <= 2 + 2 * PHASE_IMAGE) { /* 2..22: 10 phases, image start */
                phase = phases[(seq - 2) / 2];
                type = (seq - 2) % 2 ? "finish" : "start";
        } else if (seq <= 22 + nprogress) {
                phase = "image";
                type = "progress";
                k = seq - 22;
        } else {
                unsigned j = seq - (23 + nprogress); /* 0 image finish, 1..4 the rest */
                phase = phases[PHASE_IMAGE + (j + 1) / 2];
                type = j % 2 ? "start" : "finish";
        }
        fprintf(f,
                "{\"seq\":%u,\"time\":\"%s\",\"monotonic\":%.6f,\"machine_id\":\"%s\","
                "\"machine_id_source\":\"smbios-uuid\",\"phase\":\"%s\",\"type\":\"%s\"",
                seq, now, elapsed(), sim->uuid, phase, type);
        if (streq(type, "progress")) {
                const uint64_t total = 212212219;
                uint64_t done = total * k / (nprogress ? nprogress : 1);
                fprintf(f,
                        ",\"progress\":{\"what\":\"debian12.tar.zst\",\"done\":%" PRIu64 ",\"total\":%" PRIu64
                        ",\"rate\":6900000,\"eta\":%" PRIu64 ",\"final\":%s}",
                        done, total, (total - done) / 6900000, k == nprogress ? "true" : "false");
        } else if (streq(type, "finish")) {
                fputs(",\"result\":\"ok\",\"duration\":1.234", f);
                if (seq == e)
                        fputs(",\"exit_status\":0,\"message\":\"installed\"", f);
        } else if (streq(type, "start") && streq(phase, "image"))
                fputs(",\"message\":\"http://10.0.2.100/images/debian12.tar.zst\"", f);
        else if (streq(type, "start") && seq == 1)
                fputs(",\"message\":\"installer run\"", f);
        fputs("}\n", f);
}

static void sim_plan_batches(Sim *sim, double now) {
        unsigned left = arg.events;
        sim->nbatches = sim->batch = 0;
        while (left > 0) {
                unsigned n = 1 + rng() % MAX_BATCH;
                n = MIN(n, left);
                sim->sizes[sim->nbatches++] = n;
                left -= n;
        }
        sim->events_from = now;
}

/* When batch k (0-based) of sim is due. */
static double sim_batch_due(const Sim *sim, unsigned k) {
        if (arg.spread <= 0 || sim->events_from >= arg.spread)
                return 0;
        return sim->events_from + (arg.spread - sim->events_from) * (k + 1) / sim->nbatches;
}

static int sim_start(Sim *sim) {
        char path[400];
        int r;
        switch (sim->stage) {
        case SIM_BOOT:
                snprintf(path, sizeof path, "ipxe/answer?mac=%s&uuid=%s&serial=%s&platform=pcbios&arch=x86_64", sim->mac,
                         sim->uuid, sim->serial);
                return req_start(REQ_ANSWER, 0, sim, NULL, path, NULL, 0, NULL, NULL);
        case SIM_INVENTORY: {
                char *body = strdup(inventory);
                if (!body)
                        return -ENOMEM;
                snprintf(path, sizeof path, "api/v1/machines/%" PRIi64 "/report", sim->id);
                return req_start(REQ_INVENTORY, arg.ntargets - 1, sim, NULL, path, body, strlen(body),
                                 "application/json", "inventory");
        }
        case SIM_EVENTS: {
                unsigned n = sim->sizes[sim->batch];
                snprintf(path, sizeof path, "api/v1/machines/%" PRIi64 "/report", sim->id);
                sim->batch_failed = false;
                for (unsigned t = 0; t < arg.ntargets; t++) {
                        char *body = NULL;
                        size_t len = 0;
                        FILE *f = open_memstream(&body, &len);
                        if (!f)
                                return -ENOMEM;
                        for (unsigned i = 1; i <= n; i++)
                                event_write(f, sim, sim->sent + i);
                        if (fclose(f) != 0) {
                                free(body);
                                return -ENOMEM;
                        }
                        r = req_start(REQ_EVENTS, t, sim, NULL, path, body, len, "application/x-ndjson", NULL);
                        if (r < 0)
                                return r;
                }
                if (first_event < 0)
                        first_event = elapsed();
                return 0;
        }
        case SIM_DONE:
                break;
        }
        return 0;
}

/* inst.report=URL/api/v1/machines/ID/report and inst.report.token=TOKEN */
static int parse_answer(Sim *sim, const char *script) {
        const char *p = strstr(script, "inst.report.token=");
        if (!p)
                return -ENOENT;
        p += strlen("inst.report.token=");
        size_t n = strcspn(p, " \t\r\n\"'");
        if (n == 0 || n >= sizeof sim->token)
                return -EBADMSG;
        memcpy(sim->token, p, n);
        sim->token[n] = 0;
        for (p = script; (p = strstr(p, "inst.report=")); p++) {
                const char *m = strstr(p, "/api/v1/machines/");
                size_t word = strcspn(p, " \t\r\n");
                if (!m || m >= p + word)
                        continue;
                char *end;
                long long id = strtoll(m + strlen("/api/v1/machines/"), &end, 10);
                if (id <= 0 || strncmp(end, "/report", 7) != 0)
                        return -EBADMSG;
                sim->id = id;
                return 0;
        }
        return -ENOENT;
}

static void req_done(Req *r, CURLcode cc) {
        Sim *sim = r->sim;
        double now = elapsed();
        long status = 0;
        curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
        inflight--;
        if (r->reader)
                r->reader->inflight--;
        if (sim)
                sim->inflight--;

        bool ok = cc == CURLE_OK && status == 200;
        if (!ok) {
                fail(sim, "%s %s: %s, HTTP %ld%s%.200s", req_name[r->kind], arg.url[r->target],
                     cc == CURLE_OK ? "answered" : curl_easy_strerror(cc), status, r->resp ? ": " : "",
                     r->resp ? r->resp : "");
                if (sim)
                        sim->batch_failed = true;
        } else
                samples_add(&samples[r->kind], (now - r->t0) * 1000.0);

        switch (r->kind) {
        case REQ_ANSWER:
                if (!ok)
                        break;
                if (parse_answer(sim, r->resp) < 0) {
                        /* The script is shown only when it carries no token. */
                        fail(sim, "the boot answer has no inst.report=.../machines/ID/report and inst.report.token=%s%.300s",
                             strstr(r->resp, "token=") ? "" : ": ", strstr(r->resp, "token=") ? "" : r->resp);
                        sim->batch_failed = true;
                        break;
                }
                sim->stage = SIM_INVENTORY;
                sim->next = now;
                break;
        case REQ_INVENTORY:
                if (!ok)
                        break;
                sim->stage = SIM_EVENTS;
                sim_plan_batches(sim, now);
                sim->next = sim_batch_due(sim, 0);
                break;
        case REQ_EVENTS: {
                if (ok) {
                        json_error_t e;
                        json_t *j = json_loads(r->resp ? r->resp : "", 0, &e);
                        json_t *st = json_object_get(j, "stored"), *du = json_object_get(j, "duplicates");
                        if (!json_is_integer(st) || !json_is_integer(du)) {
                                fail(sim, "events answer is not {\"stored\":N,\"duplicates\":M}: %.200s", r->resp);
                                sim->batch_failed = true;
                        } else {
                                events_stored += (uint64_t) json_integer_value(st);
                                events_duplicate += (uint64_t) json_integer_value(du);
                        }
                        json_decref(j);
                }
                if (sim->inflight > 0) /* the mirror's answer is still to come */
                        break;
                if (sim->batch_failed)
                        break;
                sim->sent += sim->sizes[sim->batch];
                events_sent += sim->sizes[sim->batch];
                last_event = now;
                if (++sim->batch == sim->nbatches)
                        sim->stage = SIM_DONE;
                else
                        sim->next = sim_batch_due(sim, sim->batch);
                break;
        }
        case REQ_API:
        case REQ_PAGE:
                break;
        default:
                break;
        }
        if (sim && sim->batch_failed && sim->inflight == 0)
                sim->stage = SIM_DONE; /* the run has failed; stop this machine */
        curl_multi_remove_handle(multi, r->h);
        req_free(r);
}

/* A blocking GET for the final checks; returns the parsed JSON. */
static json_t *get_json(unsigned target, const char *path) {
        _cleanup_free_ char *url = NULL;
        Req r = {};
        json_t *j = NULL;
        long status = 0;
        if (asprintf(&url, "%s%s", arg.url[target], path) < 0)
                return NULL;
        CURL *h = curl_easy_init();
        if (!h)
                return NULL;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        CURLcode cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (cc != CURLE_OK || status != 200)
                fail(NULL, "GET %s: %s, HTTP %ld", url, curl_easy_strerror(cc), status);
        else {
                json_error_t e;
                j = json_loads(r.resp, 0, &e);
                if (!j)
                        fail(NULL, "GET %s: not JSON: %s", url, e.text);
        }
        free(r.resp);
        curl_easy_cleanup(h);
        return j;
}

static int check_target(Sim *sims, unsigned target) {
        json_t *list = get_json(target, "api/v1/machines");
        json_t *ms = json_object_get(list, "machines");
        uint64_t total = 0;
        size_t i;
        json_t *m;
        unsigned found = 0;
        if (!json_is_array(ms)) {
                fail(NULL, "%sapi/v1/machines: no \"machines\" array", arg.url[target]);
                json_decref(list);
                return -EBADMSG;
        }
        /* sims are in id order of creation only by chance: index by id */
        json_array_foreach(ms, i, m) {
                json_int_t id = json_integer_value(json_object_get(m, "id"));
                for (unsigned k = 0; k < arg.machines; k++) {
                        Sim *sim = &sims[k];
                        if (sim->id != id)
                                continue;
                        found++;
                        const char *state = json_string_value(json_object_get(m, "state"));
                        json_t *a = json_object_get(m, "attempt");
                        json_int_t n = json_integer_value(json_object_get(a, "events"));
                        total += (uint64_t) n;
                        if (!streq_ptr(state, "installed"))
                                fail(sim, "%s: state %s, expected installed", arg.url[target], state ?: "(none)");
                        if (n != (json_int_t) arg.events)
                                fail(sim, "%s: %lld events stored, %u sent", arg.url[target], (long long) n,
                                     arg.events);
                        if (!json_is_true(json_object_get(m, "has_inventory")))
                                fail(sim, "%s: no inventory stored", arg.url[target]);
                        if (!streq_ptr(json_string_value(json_object_get(m, "mac")), sim->mac))
                                fail(sim, "%s: the server's machine %lld has mac %s", arg.url[target], (long long) id,
                                     json_string_value(json_object_get(m, "mac")) ?: "(none)");
                        break;
                }
        }
        json_decref(list);
        if (found != arg.machines)
                fail(NULL, "%sapi/v1/machines lists %u of the %u machines", arg.url[target], found, arg.machines);

        /* The events themselves, of the first and the last machine. */
        for (unsigned k = 0; k < arg.machines; k += MAX(arg.machines - 1, 1u)) {
                char path[200];
                snprintf(path, sizeof path, "api/v1/machines/%" PRIi64 "/events?limit=%u", sims[k].id, arg.events + 10);
                json_t *j = get_json(target, path), *ev = json_object_get(j, "events"), *e;
                size_t n = json_array_size(ev);
                if (n != arg.events)
                        fail(&sims[k], "%s%s: %zu events, expected %u", arg.url[target], path, n, arg.events);
                json_array_foreach(ev, i, e) {
                        json_int_t seq = json_integer_value(json_object_get(e, "seq"));
                        if (seq != (json_int_t) i + 1) {
                                fail(&sims[k], "%s%s: event %zu has seq %lld", arg.url[target], path, i,
                                     (long long) seq);
                                break;
                        }
                }
                json_decref(j);
        }
        if (total != events_sent)
                fail(NULL, "%s: the API counts %" PRIu64 " events, %" PRIu64 " were sent", arg.url[target], total,
                     events_sent);
        return failures ? -EBADMSG : 0;
}

static int read_file(const char *path, char **ret) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t len = 0;
        if (!f)
                return -errno;
        FILE *m = open_memstream(&buf, &len);
        if (!m)
                return -ENOMEM;
        int c;
        while ((c = fgetc(f)) != EOF)
                fputc(c, m);
        if (fclose(m) != 0)
                return -ENOMEM;
        *ret = buf;
        return 0;
}

static void usage(FILE *f) {
        fputs("Usage: site-load --url URL [--mirror URL2] [--machines N] [--events E] [--spread S]\n"
              "                 [--readers R] [--read-interval S] [--timeout S] [--ramp S] [--seed N]\n"
              "                 [--mac-prefix BYTE] [--inventory FILE] [--max-connections N]\n"
              "The server must run with --policy install. See the head of tests/bench/site-load.c.\n",
              f);
}

static int parse_args(int argc, char **argv) {
        static const struct option opts[] = {
                { "url", required_argument, NULL, 'u' },
                { "mirror", required_argument, NULL, 'M' },
                { "machines", required_argument, NULL, 'n' },
                { "events", required_argument, NULL, 'e' },
                { "spread", required_argument, NULL, 's' },
                { "readers", required_argument, NULL, 'r' },
                { "read-interval", required_argument, NULL, 'i' },
                { "timeout", required_argument, NULL, 't' },
                { "ramp", required_argument, NULL, 'R' },
                { "seed", required_argument, NULL, 'S' },
                { "mac-prefix", required_argument, NULL, 'p' },
                { "inventory", required_argument, NULL, 'I' },
                { "max-connections", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                char *end = NULL;
                errno = 0;
                switch (c) {
                case 'u': arg.url[0] = optarg; break;
                case 'M': arg.url[1] = optarg; break;
                case 'n': arg.machines = (unsigned) strtoul(optarg, &end, 10); break;
                case 'e': arg.events = (unsigned) strtoul(optarg, &end, 10); break;
                case 's': arg.spread = strtod(optarg, &end); break;
                case 'r': arg.readers = (unsigned) strtoul(optarg, &end, 10); break;
                case 'i': arg.read_interval = strtod(optarg, &end); break;
                case 't': arg.timeout = strtod(optarg, &end); break;
                case 'R': arg.ramp = strtod(optarg, &end); break;
                case 'S': arg.seed = (unsigned) strtoul(optarg, &end, 10); break;
                case 'p': arg.mac_prefix = (unsigned) strtoul(optarg, &end, 0); break;
                case 'I': arg.inventory_file = optarg; break;
                case 'c': arg.max_connections = strtol(optarg, &end, 10); break;
                case 'h': usage(stdout); exit(0);
                default: usage(stderr); return -EINVAL;
                }
                if (end && (*end || errno)) {
                        fprintf(stderr, "site-load: bad number: %s\n", optarg);
                        return -EINVAL;
                }
        }
        if (optind < argc || !arg.url[0]) {
                usage(stderr);
                return -EINVAL;
        }
        if (arg.machines < 1 || arg.machines > 100000 || arg.events < MIN_EVENTS ||
            arg.events > MIN_EVENTS * 100 || arg.mac_prefix > 0xff || arg.read_interval <= 0 || arg.timeout <= 0) {
                fprintf(stderr, "site-load: out of range: 1 <= --machines <= 100000, %d <= --events <= %d, "
                                "--mac-prefix a byte, --read-interval and --timeout > 0\n",
                        MIN_EVENTS, MIN_EVENTS * 100);
                return -EINVAL;
        }
        arg.ntargets = arg.url[1] ? 2 : 1;
        if (arg.ramp < 0)
                arg.ramp = arg.spread > 0 ? arg.spread / 4 : 0;
        return 0;
}

static char *base_url(const char *u) {
        char *s = NULL;
        if (asprintf(&s, "%s%s", u, u[0] && u[strlen(u) - 1] == '/' ? "" : "/") < 0)
                return NULL;
        return s;
}

static void print_latency(ReqKind k) {
        Samples *s = &samples[k];
        qsort(s->v, s->n, sizeof(double), cmp_double);
        printf("%s_requests %" PRIu64 "\n", req_name[k], requests[k]);
        printf("%s_p50_ms %.2f\n", req_name[k], samples_pct(s, 50));
        printf("%s_p99_ms %.2f\n", req_name[k], samples_pct(s, 99));
        printf("%s_max_ms %.2f\n", req_name[k], s->n ? s->v[s->n - 1] : NAN);
}

int main(int argc, char **argv) {
        _cleanup_free_ char *url0 = NULL, *url1 = NULL;
        Sim *sims = NULL;
        Reader *readers = NULL;
        int r;

        if (parse_args(argc, argv) < 0)
                return 2;
        url0 = base_url(arg.url[0]);
        url1 = arg.url[1] ? base_url(arg.url[1]) : NULL;
        if (!url0 || (arg.url[1] && !url1))
                return 1;
        arg.url[0] = url0;
        arg.url[1] = url1;
        if (arg.inventory_file) {
                r = read_file(arg.inventory_file, &inventory);
                if (r < 0) {
                        fprintf(stderr, "site-load: cannot read %s: %s\n", arg.inventory_file, strerror(-r));
                        return 1;
                }
        } else
                inventory = strdup("{\"hostname\":\"bench\",\"disks\":[],\"nics\":[]}");
        rng_state = arg.seed * 2654435761u + 1;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
                return 1;
        multi = curl_multi_init();
        sims = new0(Sim, arg.machines);
        readers = new0(Reader, arg.readers);
        if (!multi || !sims || (arg.readers && !readers) || !inventory)
                return 1;
        /* At most this many connections at once (requests beyond wait in
         * libcurl, and that wait counts in their latency). Here every
         * simulated machine is 127.0.0.1, and site-server takes at most 200
         * connections from one address and 400 in all -- which
         * libmicrohttpd splits over its worker threads (100 each with the
         * default 4), each accepting what it can: 150 at once from here
         * were refused ("Server reached connection limit") in a short
         * stall with 1000 machines. */
        curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, arg.max_connections);
        curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, arg.max_connections);
        clock_gettime(CLOCK_MONOTONIC, &t_start);

        for (unsigned k = 0; k < arg.machines; k++) {
                Sim *s = &sims[k];
                s->idx = k;
                snprintf(s->mac, sizeof s->mac, "02:%02x:%02x:%02x:%02x:%02x", arg.mac_prefix, (k >> 24) & 0xff,
                         (k >> 16) & 0xff, (k >> 8) & 0xff, k & 0xff);
                snprintf(s->uuid, sizeof s->uuid, "%08x-0000-4000-8000-%012x", arg.mac_prefix, k);
                snprintf(s->serial, sizeof s->serial, "BENCH%02X%06u", arg.mac_prefix, k);
                s->next = arg.ramp * rng_unit();
        }
        for (unsigned k = 0; k < arg.readers; k++)
                readers[k].next = arg.read_interval * rng_unit();

        unsigned done = 0;
        bool timed_out = false;
        double last_report = 0;
        while (done < arg.machines || inflight > 0) {
                double now = elapsed(), wake = now + 0.05;
                if (now > arg.timeout) {
                        timed_out = true;
                        break;
                }
                done = 0;
                for (unsigned k = 0; k < arg.machines; k++) {
                        Sim *s = &sims[k];
                        if (s->stage == SIM_DONE) {
                                done++;
                                continue;
                        }
                        if (s->inflight > 0 || failures > 0)
                                continue;
                        if (s->next <= now) {
                                r = sim_start(s);
                                if (r < 0) {
                                        fail(s, "cannot start a request: %s", strerror(-r));
                                        s->stage = SIM_DONE;
                                }
                        } else
                                wake = MIN(wake, s->next);
                }
                if (failures > 0)
                        done = arg.machines; /* stop: wait for what is in flight */
                for (unsigned k = 0; k < arg.readers && done < arg.machines; k++) {
                        Reader *rd = &readers[k];
                        if (rd->inflight > 0)
                                continue;
                        if (rd->next <= now) {
                                if (req_start(REQ_API, 0, NULL, rd, "api/v1/machines", NULL, 0, NULL, NULL) < 0 ||
                                    req_start(REQ_PAGE, 0, NULL, rd, "", NULL, 0, NULL, NULL) < 0)
                                        fail(NULL, "cannot start a reader's request");
                                rd->next += arg.read_interval;
                                if (rd->next < now)
                                        rd->next = now + arg.read_interval; /* fell behind: no burst */
                        }
                        wake = MIN(wake, rd->next);
                }
                int running;
                curl_multi_perform(multi, &running);
                CURLMsg *msg;
                int left;
                while ((msg = curl_multi_info_read(multi, &left))) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        Req *rq = NULL;
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &rq);
                        req_done(rq, msg->data.result);
                }
                if (now - last_report >= 10 && !arg.quiet) {
                        fprintf(stderr, "site-load: %.0f s: %u/%u machines done, %" PRIu64 " events sent, %u in flight\n",
                                now, done, arg.machines, events_sent, inflight);
                        last_report = now;
                }
                int ms = (int) ((wake - elapsed()) * 1000);
                curl_multi_poll(multi, NULL, 0, MAX(0, MIN(ms, 50)), NULL);
        }
        double t_end = elapsed();
        if (timed_out)
                fail(NULL, "not finished after --timeout %.0f s: %u of %u machines done, %" PRIu64 " events sent, %u requests in flight",
                     arg.timeout, done, arg.machines, events_sent, inflight);

        if (failures == 0) {
                uint64_t expect = (uint64_t) arg.machines * arg.events;
                if (events_sent != expect)
                        fail(NULL, "%" PRIu64 " events sent, %" PRIu64 " planned", events_sent, expect);
                if (events_stored != events_sent)
                        fail(NULL, "the answers say %" PRIu64 " events stored, %" PRIu64 " were sent", events_stored,
                             events_sent);
                if (events_duplicate != events_sent * (arg.ntargets - 1))
                        fail(NULL, "the answers say %" PRIu64 " duplicates, expected %" PRIu64, events_duplicate,
                             events_sent * (arg.ntargets - 1));
                for (unsigned t = 0; t < arg.ntargets; t++)
                        check_target(sims, t);
        }
        if (failures > 0) {
                fprintf(stderr, "site-load: FAILED (%" PRIu64 " failures): no figures\n", failures);
                return 1;
        }

        double span = last_event - first_event;
        printf("machines %u\n", arg.machines);
        printf("events_per_machine %u\n", arg.events);
        printf("events_sent %" PRIu64 "\n", events_sent);
        printf("events_stored %" PRIu64 "\n", events_stored);
        printf("events_duplicate %" PRIu64 "\n", events_duplicate);
        printf("events_verified %" PRIu64 "\n", events_sent);
        printf("event_span_s %.2f\n", span);
        printf("events_per_s %.0f\n", span > 0 ? (double) events_stored / span : NAN);
        printf("elapsed_s %.2f\n", t_end);
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
                printf("client_cpu_s %.2f\n", (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                                                   (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
        for (ReqKind k = 0; k < _REQ_MAX; k++)
                print_latency(k);
        fprintf(stderr, "site-load: OK: %u machines, %" PRIu64 " events stored and verified in %.1f s\n", arg.machines,
                events_stored, t_end);
        curl_multi_cleanup(multi);
        curl_global_cleanup();
        free(sims);
        free(readers);
        free(inventory);
        return 0;
}
