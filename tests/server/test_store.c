/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server/store.c against SQLite (a new file in a temporary directory for
 * every case) and, when $SITE_TEST_PG_URL is set (tests/server/store-pg.sh),
 * against that PostgreSQL too: the same cases, the tables emptied before
 * each. Lifecycle transitions from every state, attempts and tokens, events
 * (dedupe, late batches, the install's finish), inventories, logs,
 * settings, audit, name resolution, and two connections adding the same
 * events at once. */
#include <fcntl.h>
#include <inttypes.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "basic/strutil.h"
#include "db.h"
#include "store.h"

#define T0 INT64_C(1796000000000000) /* a fixed "now" (usec) */
#define TOKEN_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TOKEN_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define TOKEN_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static char *tmpdir;
static unsigned db_counter;
static const char *pg_url; /* NULL: this group runs SQLite */

typedef struct Fixture {
        char *url;
        Store *s;
} Fixture;

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

/* Empty every table (PostgreSQL: one database shared by all cases). */
static void wipe(const char *url) {
        Db *db = NULL;
        char *err = NULL;
        assert_int_equal(db_open(url, &db, &err), 0);
        static const char *const sql[] = {
                "DELETE FROM machines", "DELETE FROM audit", "DELETE FROM settings",
        };
        for (size_t i = 0; i < ELEMENTSOF(sql); i++)
                if (db_exec(db, sql[i], NULL, 0, NULL) < 0)
                        fail_msg("%s: %s", sql[i], db_error(db));
        db_close(db);
}

static int setup(void **state) {
        Fixture *f = new0(Fixture, 1);
        char *err = NULL;

        assert_non_null(f);
        if (pg_url)
                f->url = strdup(pg_url);
        else
                f->url = strprintf("sqlite:%s/store-%u.db", tmpdir, db_counter++);
        assert_non_null(f->url);
        if (store_open(f->url, &f->s, &err) < 0)
                fail_msg("store_open: %s", err);
        if (pg_url)
                wipe(f->url);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        store_close(f->s);
        free(f->url);
        free(f);
        return 0;
}

#define S(state) (((Fixture *) *(state))->s)
#define OK(s, expr)                                                                    \
        do {                                                                           \
                int _r = (expr);                                                       \
                if (_r < 0)                                                            \
                        fail_msg("%s: %s (%s)", #expr, strerror(-_r), store_error(s)); \
        } while (0)

static int64_t new_machine(Store *s, const char *mac, MachineState st) {
        Machine m = {};
        int r = store_machine_create(s, mac, NULL, NULL, "pcbios", st, T0, &m);
        if (r != 1)
                fail_msg("store_machine_create %s: %d %s", mac, r, store_error(s));
        int64_t id = m.id;
        assert_true(id > 0);
        machine_done(&m);
        return id;
}

static Machine get(Store *s, int64_t id) {
        Machine m = {};
        OK(s, store_machine_get(s, id, &m));
        return m;
}

static MachineState state_of(Store *s, int64_t id) {
        Machine m = get(s, id);
        MachineState st = m.state;
        machine_done(&m);
        return st;
}

static size_t audit_count(Store *s, int64_t id) {
        AuditEntry *l = NULL;
        size_t n = 0;
        OK(s, store_audit_list(s, id, &l, &n));
        audit_list_free(l, n);
        return n;
}

/* An event as the intake would pass it; json made up from the fields. */
typedef struct Ev {
        IntakeEvent e;
        char json[256];
} Ev;

static Ev ev(int64_t seq, const char *type, const char *phase, const char *message, int exit_status) {
        Ev x = { .e = { .seq = seq, .type = type, .phase = phase, .message = message, .exit_status = exit_status,
                        .duration = -1, .progress_eta = -1, .time = T0 + seq } };
        snprintf(x.json, sizeof(x.json), "{\"seq\":%" PRId64 ",\"type\":\"%s\",\"phase\":\"%s\"}", seq, type,
                 phase ?: "");
        x.e.json = NULL; /* set where the Ev rests (it is returned by value) */
        if (streq(type, "finish"))
                x.e.result = exit_status == 0 ? "ok" : "failed";
        return x;
}

static Ev progress(int64_t seq, const char *phase, int64_t done, int64_t total) {
        Ev x = ev(seq, "progress", phase, NULL, -1);
        x.e.progress_done = done;
        x.e.progress_total = total;
        x.e.progress_rate = 1000.5;
        x.e.progress_eta = 12.25;
        return x;
}

static size_t add(Store *s, int64_t attempt, const Ev *evs, size_t n, int64_t now) {
        IntakeEvent list[n > 0 ? n : 1];
        size_t fresh = 999;
        for (size_t i = 0; i < n; i++)
                list[i] = evs[i].e, list[i].json = evs[i].json; /* Ev was copied: its own text */
        OK(s, store_events_add(s, attempt, list, n, now, &fresh));
        return fresh;
}

static Attempt attempt_get(Store *s, const char *token) {
        Attempt a = {};
        OK(s, store_attempt_by_token(s, token, &a, NULL));
        return a;
}

/* --- states and transitions ---------------------------------------------- */

static void test_state_strings(void **state) {
        for (int i = 0; i < _MACHINE_STATE_MAX; i++)
                assert_int_equal(machine_state_from_string(machine_state_to_string((MachineState) i)), i);
        assert_int_equal(machine_state_from_string("bogus"), -EINVAL);
        assert_int_equal(machine_state_from_string(NULL), -EINVAL);
        assert_null(machine_state_to_string(_MACHINE_STATE_MAX));
        assert_string_equal(store_backend(S(state)), pg_url ? "postgresql" : "sqlite");
}

typedef enum Action { A_REINSTALL, A_HOLD, A_RELEASE, A_ASSIGN, A_FORGET } Action;
#define NONE (-1)
#define GONE (-2)

static const struct Transition {
        int from, prior; /* prior: the state before a hold, when from is HELD */
        Action action;
        int want, want_prior;
} transitions[] = {
        /* reinstall: READY from everywhere */
        { MACHINE_DISCOVERED, NONE, A_REINSTALL, MACHINE_READY, NONE },
        { MACHINE_READY, NONE, A_REINSTALL, MACHINE_READY, NONE },
        { MACHINE_INSTALLING, NONE, A_REINSTALL, MACHINE_READY, NONE },
        { MACHINE_INSTALLED, NONE, A_REINSTALL, MACHINE_READY, NONE },
        { MACHINE_FAILED, NONE, A_REINSTALL, MACHINE_READY, NONE },
        { MACHINE_HELD, MACHINE_INSTALLED, A_REINSTALL, MACHINE_READY, NONE },
        /* hold: HELD, the prior state kept (and kept over a second hold) */
        { MACHINE_DISCOVERED, NONE, A_HOLD, MACHINE_HELD, MACHINE_DISCOVERED },
        { MACHINE_READY, NONE, A_HOLD, MACHINE_HELD, MACHINE_READY },
        { MACHINE_INSTALLING, NONE, A_HOLD, MACHINE_HELD, MACHINE_INSTALLING },
        { MACHINE_INSTALLED, NONE, A_HOLD, MACHINE_HELD, MACHINE_INSTALLED },
        { MACHINE_FAILED, NONE, A_HOLD, MACHINE_HELD, MACHINE_FAILED },
        { MACHINE_HELD, MACHINE_INSTALLED, A_HOLD, MACHINE_HELD, MACHINE_INSTALLED },
        /* release: see store.h */
        { MACHINE_DISCOVERED, NONE, A_RELEASE, MACHINE_READY, NONE },
        { MACHINE_READY, NONE, A_RELEASE, MACHINE_READY, NONE },
        { MACHINE_INSTALLING, NONE, A_RELEASE, MACHINE_INSTALLING, NONE },
        { MACHINE_INSTALLED, NONE, A_RELEASE, MACHINE_INSTALLED, NONE },
        { MACHINE_FAILED, NONE, A_RELEASE, MACHINE_READY, NONE },
        { MACHINE_HELD, MACHINE_DISCOVERED, A_RELEASE, MACHINE_READY, NONE },
        { MACHINE_HELD, MACHINE_READY, A_RELEASE, MACHINE_READY, NONE },
        { MACHINE_HELD, MACHINE_INSTALLING, A_RELEASE, MACHINE_INSTALLING, NONE },
        { MACHINE_HELD, MACHINE_INSTALLED, A_RELEASE, MACHINE_INSTALLED, NONE },
        { MACHINE_HELD, MACHINE_FAILED, A_RELEASE, MACHINE_READY, NONE },
        /* assign: the state stays */
        { MACHINE_DISCOVERED, NONE, A_ASSIGN, MACHINE_DISCOVERED, NONE },
        { MACHINE_READY, NONE, A_ASSIGN, MACHINE_READY, NONE },
        { MACHINE_INSTALLING, NONE, A_ASSIGN, MACHINE_INSTALLING, NONE },
        { MACHINE_INSTALLED, NONE, A_ASSIGN, MACHINE_INSTALLED, NONE },
        { MACHINE_FAILED, NONE, A_ASSIGN, MACHINE_FAILED, NONE },
        { MACHINE_HELD, MACHINE_READY, A_ASSIGN, MACHINE_HELD, MACHINE_READY },
        /* forget: gone from every state */
        { MACHINE_DISCOVERED, NONE, A_FORGET, GONE, NONE },
        { MACHINE_READY, NONE, A_FORGET, GONE, NONE },
        { MACHINE_INSTALLING, NONE, A_FORGET, GONE, NONE },
        { MACHINE_INSTALLED, NONE, A_FORGET, GONE, NONE },
        { MACHINE_FAILED, NONE, A_FORGET, GONE, NONE },
        { MACHINE_HELD, MACHINE_FAILED, A_FORGET, GONE, NONE },
};

static void test_transitions(void **state) {
        Store *s = S(state);
        static const char *const names[] = { "reinstall", "hold", "release", "assign", "forget" };

        for (size_t i = 0; i < ELEMENTSOF(transitions); i++) {
                const struct Transition *t = &transitions[i];
                char mac[18];
                snprintf(mac, sizeof(mac), "52:54:00:00:01:%02zx", i);
                int64_t id;
                if (t->from == MACHINE_HELD) {
                        id = new_machine(s, mac, (MachineState) t->prior);
                        OK(s, store_machine_hold(s, id, "first hold", "setup", T0 + 1));
                } else
                        id = new_machine(s, mac, (MachineState) t->from);
                size_t audits = audit_count(s, id);
                Machine before = get(s, id);
                int64_t now = T0 + 1000 + (int64_t) i;

                switch (t->action) {
                case A_REINSTALL:
                        OK(s, store_machine_reinstall(s, id, "op", now));
                        break;
                case A_HOLD:
                        OK(s, store_machine_hold(s, id, "cabling", "op", now));
                        break;
                case A_RELEASE:
                        OK(s, store_machine_release(s, id, "op", now));
                        break;
                case A_ASSIGN:
                        OK(s, store_machine_assign(s, id, "web", "op", now));
                        break;
                case A_FORGET:
                        OK(s, store_machine_forget(s, id, "op", now));
                        break;
                }

                Machine m = {};
                int r = store_machine_get(s, id, &m);
                if (t->want == GONE) {
                        if (r != -ENOENT)
                                fail_msg("case %zu (%s from %s): machine still there", i, names[t->action],
                                         machine_state_to_string((MachineState) t->from));
                } else {
                        OK(s, r);
                        if ((int) m.state != t->want)
                                fail_msg("case %zu: %s from %s (prior %d): %s, want %s", i, names[t->action],
                                         machine_state_to_string((MachineState) t->from), t->prior,
                                         machine_state_to_string(m.state),
                                         machine_state_to_string((MachineState) t->want));
                        if (t->want_prior != NONE && (int) m.prior_state != t->want_prior)
                                fail_msg("case %zu: prior %s, want %s", i, machine_state_to_string(m.prior_state),
                                         machine_state_to_string((MachineState) t->want_prior));
                        /* state_since moves with the state, and only then */
                        if (m.state != before.state)
                                assert_int_equal(m.state_since, now);
                        else
                                assert_int_equal(m.state_since, before.state_since);
                        if (t->action == A_HOLD)
                                assert_string_equal(m.message, "cabling");
                        if (t->want != MACHINE_HELD)
                                assert_null(m.message);
                        if (t->action == A_ASSIGN)
                                assert_string_equal(m.profile, "web");
                }
                /* every action leaves one audit entry, forget too */
                assert_int_equal(audit_count(s, id), audits + 1);
                AuditEntry *l = NULL;
                size_t n = 0;
                OK(s, store_audit_list(s, id, &l, &n));
                assert_string_equal(l[n - 1].action, names[t->action]);
                assert_string_equal(l[n - 1].actor, "op");
                assert_int_equal(l[n - 1].time, now);
                assert_int_equal(l[n - 1].machine_id, id);
                audit_list_free(l, n);
                machine_done(&m);
                machine_done(&before);
        }
}

static void test_operator_errors(void **state) {
        Store *s = S(state);
        assert_int_equal(store_machine_reinstall(s, 999999, "op", T0), -ENOENT);
        assert_int_equal(store_machine_hold(s, 999999, NULL, "op", T0), -ENOENT);
        assert_int_equal(store_machine_release(s, 999999, "op", T0), -ENOENT);
        assert_int_equal(store_machine_assign(s, 999999, "x", "op", T0), -ENOENT);
        assert_int_equal(store_machine_forget(s, 999999, "op", T0), -ENOENT);
        assert_int_equal(audit_count(s, 0), 0);

        /* hold without a message gets a default; assign NULL clears */
        int64_t id = new_machine(s, "52:54:00:00:02:01", MACHINE_READY);
        OK(s, store_machine_hold(s, id, NULL, "op", T0 + 1));
        Machine m = get(s, id);
        assert_non_null(m.message);
        machine_done(&m);
        OK(s, store_machine_assign(s, id, "db", "op", T0 + 2));
        OK(s, store_machine_assign(s, id, NULL, "op", T0 + 3));
        m = get(s, id);
        assert_null(m.profile);
        machine_done(&m);
}

/* --- machines ------------------------------------------------------------- */

static void test_create_find_seen(void **state) {
        Store *s = S(state);
        Machine m = {};

        assert_int_equal(store_machine_create(s, "52:54:00:AA:BB:01", "uuid-1", "SN1", "efi", MACHINE_DISCOVERED, T0,
                                              &m),
                         1);
        int64_t id = m.id;
        assert_string_equal(m.mac, "52:54:00:aa:bb:01"); /* normalised */
        assert_string_equal(m.uuid, "uuid-1");
        assert_string_equal(m.serial, "SN1");
        assert_string_equal(m.platform, "efi");
        assert_null(m.hostname);
        assert_int_equal(m.state, MACHINE_DISCOVERED);
        assert_int_equal(m.created, T0);
        assert_int_equal(m.last_seen, T0);
        assert_int_equal(m.current_install, 0);
        assert_false(m.has_inventory);
        assert_int_equal(m.progress_eta, -1);
        machine_done(&m);

        /* the same MAC again: the existing machine, 0 */
        assert_int_equal(store_machine_create(s, "52:54:00:aa:bb:01", NULL, NULL, NULL, MACHINE_READY, T0 + 5, &m), 0);
        assert_int_equal(m.id, id);
        assert_int_equal(m.state, MACHINE_DISCOVERED);
        machine_done(&m);

        /* find: MAC first, then UUID, then serial */
        OK(s, store_machine_find(s, "52:54:00:aa:bb:01", NULL, NULL, &m));
        assert_int_equal(m.id, id);
        machine_done(&m);
        OK(s, store_machine_find(s, "52:54:00:ff:ff:ff", "uuid-1", NULL, &m));
        assert_int_equal(m.id, id);
        machine_done(&m);
        OK(s, store_machine_find(s, "52:54:00:ff:ff:ff", "nope", "SN1", &m));
        assert_int_equal(m.id, id);
        machine_done(&m);
        assert_int_equal(store_machine_find(s, "52:54:00:ff:ff:ff", "nope", "nope", &m), -ENOENT);
        assert_int_equal(store_machine_find(s, NULL, NULL, NULL, &m), -ENOENT);

        /* seen: last_seen, and only the fields given */
        OK(s, store_machine_seen(s, id, NULL, "SN2", NULL, T0 + 100));
        m = get(s, id);
        assert_int_equal(m.last_seen, T0 + 100);
        assert_string_equal(m.uuid, "uuid-1");
        assert_string_equal(m.serial, "SN2");
        assert_string_equal(m.platform, "efi");
        machine_done(&m);
        assert_int_equal(store_machine_seen(s, 999999, NULL, NULL, NULL, T0), -ENOENT);

        /* list, by id */
        int64_t id2 = new_machine(s, "52:54:00:aa:bb:02", MACHINE_READY);
        Machine *l = NULL;
        size_t n = 0;
        OK(s, store_machine_list(s, &l, &n));
        assert_int_equal(n, 2);
        assert_int_equal(l[0].id, id);
        assert_int_equal(l[1].id, id2);
        machine_list_free(l, n);
        assert_int_equal(store_machine_get(s, 999999, &m), -ENOENT);
}

static void test_resolve(void **state) {
        Store *s = S(state);
        Machine m = {};
        char name[32];

        assert_int_equal(store_machine_create(s, "52:54:00:00:03:01", "0a0b0c0d-0000-4000-8000-000000000001",
                                              "SERIAL-1", NULL, MACHINE_READY, T0, &m),
                         1);
        int64_t a = m.id;
        machine_done(&m);
        int64_t b = new_machine(s, "52:54:00:00:03:02", MACHINE_READY);
        OK(s, store_inventory_set(s, b, 0, "{\"format\":1,\"hostname\":\"web1\"}", T0));

        snprintf(name, sizeof(name), "%" PRId64, a);
        static const struct {
                const char *name;
                int which; /* 0: a, 1: b */
        } cases[] = {
                { NULL, 0 }, /* the number, filled in below */
                { "52:54:00:00:03:01", 0 },
                { "52-54-00-00-03-01", 0 },
                { "52:54:00:00:03:02", 1 },
                { "0A0B0C0D-0000-4000-8000-000000000001", 0 },
                { "SERIAL-1", 0 },
                { "web1", 1 },
                { "WEB1", 1 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *n = cases[i].name ?: name;
                OK(s, store_machine_resolve(s, n, &m));
                if (m.id != (cases[i].which ? b : a))
                        fail_msg("resolve %s: %" PRId64, n, m.id);
                machine_done(&m);
        }
        assert_int_equal(store_machine_resolve(s, "nobody", &m), -ENOENT);
        assert_int_equal(store_machine_resolve(s, "", &m), -ENOENT);
        assert_int_equal(store_machine_resolve(s, "999999", &m), -ENOENT);

        /* a serial that is another machine's hostname: ambiguous */
        assert_int_equal(store_machine_create(s, "52:54:00:00:03:03", NULL, "web1", NULL, MACHINE_READY, T0, &m), 1);
        machine_done(&m);
        assert_int_equal(store_machine_resolve(s, "web1", &m), -ENOTUNIQ);
        assert_non_null(strstr(store_error(s), "more than one"));
        /* two machines with one (cloned) UUID */
        assert_int_equal(store_machine_create(s, "52:54:00:00:03:04", "0a0b0c0d-0000-4000-8000-000000000001", NULL,
                                              NULL, MACHINE_READY, T0, &m),
                         1);
        machine_done(&m);
        assert_int_equal(store_machine_resolve(s, "0a0b0c0d-0000-4000-8000-000000000001", &m), -ENOTUNIQ);
}

/* --- attempts ------------------------------------------------------------- */

static void test_attempts(void **state) {
        Store *s = S(state);
        int64_t id = new_machine(s, "52:54:00:00:04:01", MACHINE_READY), a1, a2, d1;
        char *hash = NULL;
        Attempt a = {};

        OK(s, store_attempt_begin(s, id, ATTEMPT_INSTALL, "lookup", TOKEN_A, T0 + 10, &a1));
        Machine m = get(s, id);
        assert_int_equal(m.state, MACHINE_INSTALLING);
        assert_int_equal(m.state_since, T0 + 10);
        assert_int_equal(m.current_install, a1);
        machine_done(&m);

        OK(s, store_attempt_by_token(s, TOKEN_A, &a, &hash));
        assert_string_equal(hash, TOKEN_A);
        free(hash);
        assert_int_equal(a.id, a1);
        assert_int_equal(a.machine_id, id);
        assert_int_equal(a.number, 1);
        assert_int_equal(a.kind, ATTEMPT_INSTALL);
        assert_string_equal(a.profile, "lookup");
        assert_int_equal(a.started, T0 + 10);
        assert_int_equal(a.finished, 0);
        assert_int_equal(a.exit_status, -1);
        assert_int_equal(a.events, 0);
        assert_false(a.has_log);
        attempt_done(&a);

        /* a power cut: the next boot begins attempt 2 (state_since stays:
         * it was INSTALLING already); the phase etc. are cleared */
        Ev e[] = { ev(1, "start", "install", NULL, -1), ev(2, "error", "image", "broken", -1) };
        add(s, a1, e, 2, T0 + 11);
        m = get(s, id);
        assert_string_equal(m.phase, "install");
        assert_string_equal(m.last_error, "broken");
        machine_done(&m);
        OK(s, store_attempt_begin(s, id, ATTEMPT_INSTALL, "web", TOKEN_B, T0 + 20, &a2));
        assert_true(a2 != a1);
        m = get(s, id);
        assert_int_equal(m.current_install, a2);
        assert_int_equal(m.state_since, T0 + 10);
        assert_null(m.phase);
        assert_null(m.last_error);
        machine_done(&m);
        a = attempt_get(s, TOKEN_B);
        assert_int_equal(a.number, 2);
        attempt_done(&a);

        /* numbers count per kind; a discover attempt leaves the state */
        OK(s, store_machine_hold(s, id, NULL, "op", T0 + 25));
        OK(s, store_attempt_begin(s, id, ATTEMPT_DISCOVER, NULL, TOKEN_C, T0 + 30, &d1));
        a = attempt_get(s, TOKEN_C);
        assert_int_equal(a.number, 1);
        assert_int_equal(a.kind, ATTEMPT_DISCOVER);
        assert_null(a.profile);
        attempt_done(&a);
        assert_int_equal(state_of(s, id), MACHINE_HELD);

        /* a token is one attempt's only */
        int64_t x;
        assert_int_equal(store_attempt_begin(s, id, ATTEMPT_INSTALL, NULL, TOKEN_A, T0 + 40, &x), -EEXIST);
        assert_int_equal(store_attempt_begin(s, 999999, ATTEMPT_INSTALL, NULL, "dd", T0 + 40, &x), -ENOENT);
        assert_int_equal(store_attempt_by_token(s, "ee", &a, NULL), -ENOENT);

        Attempt *l = NULL;
        size_t n = 0;
        OK(s, store_attempt_list(s, id, &l, &n));
        assert_int_equal(n, 3);
        assert_int_equal(l[0].id, a1);
        assert_int_equal(l[0].events, 2);
        assert_int_equal(l[1].id, a2);
        assert_int_equal(l[2].id, d1);
        attempt_list_free(l, n);
}

/* --- events --------------------------------------------------------------- */

static int64_t installing(Store *s, const char *mac, const char *token) {
        int64_t id = new_machine(s, mac, MACHINE_READY), a;
        OK(s, store_attempt_begin(s, id, ATTEMPT_INSTALL, "lookup", token, T0, &a));
        return a;
}

static void test_events_dedupe(void **state) {
        Store *s = S(state);
        int64_t a = installing(s, "52:54:00:00:05:01", TOKEN_A);
        Ev e[] = { ev(1, "start", "install", "installer run", -1), ev(2, "start", "detect", NULL, -1),
                   ev(3, "finish", "detect", NULL, 0), ev(4, "start", "image", "http://x/i.tar", -1),
                   progress(5, "image", 100, 1000) };

        assert_int_equal(add(s, a, e, 5, T0 + 1), 5);
        assert_int_equal(add(s, a, e, 5, T0 + 2), 0); /* the same batch again */
        assert_int_equal(add(s, a, e + 3, 2, T0 + 3), 0);
        /* a batch with one old and one new event, and a duplicate inside */
        Ev more[] = { e[4], progress(6, "image", 500, 1000), progress(6, "image", 500, 1000) };
        assert_int_equal(add(s, a, more, 3, T0 + 4), 1);
        assert_int_equal(add(s, a, NULL, 0, T0 + 5), 0);

        Attempt at = attempt_get(s, TOKEN_A);
        assert_int_equal(at.events, 6);
        attempt_done(&at);

        StoredEvent *l = NULL;
        size_t n = 0;
        OK(s, store_events_list(s, a, 0, 0, &l, &n));
        assert_int_equal(n, 6);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(l[i].seq, (int64_t) i + 1);
        assert_string_equal(l[0].type, "start");
        assert_string_equal(l[0].phase, "install");
        assert_string_equal(l[0].json, e[0].json);
        assert_int_equal(l[0].received, T0 + 1);
        assert_int_equal(l[0].time, T0 + 1);
        assert_int_equal(l[5].received, T0 + 4);
        stored_event_list_free(l, n);

        /* paging: after and limit */
        OK(s, store_events_list(s, a, 2, 3, &l, &n));
        assert_int_equal(n, 3);
        assert_int_equal(l[0].seq, 3);
        assert_int_equal(l[2].seq, 5);
        stored_event_list_free(l, n);
        OK(s, store_events_list(s, a, 6, 0, &l, &n));
        assert_int_equal(n, 0);
        stored_event_list_free(l, n);

        at = attempt_get(s, TOKEN_A);
        Machine m = get(s, at.machine_id);
        attempt_done(&at);
        assert_string_equal(m.phase, "image");
        assert_int_equal(m.progress_done, 500);
        assert_int_equal(m.progress_total, 1000);
        assert_true(m.progress_rate > 1000 && m.progress_rate < 1001);
        assert_true(m.progress_eta > 12.2 && m.progress_eta < 12.3);
        assert_int_equal(m.progress_time, T0 + 4);
        assert_int_equal(m.last_seen, T0 + 4);
        machine_done(&m);

        /* a big batch (several multi-row INSERTs) repeating seqs inside */
        {
                static Ev big[150];
                for (size_t i = 0; i < ELEMENTSOF(big); i++)
                        big[i] = progress(100 + (int64_t) (i % 40), "image", (int64_t) i, 1000);
                assert_int_equal(add(s, a, big, ELEMENTSOF(big), T0 + 6), 40);
                assert_int_equal(add(s, a, big, ELEMENTSOF(big), T0 + 7), 0);
                OK(s, store_events_list(s, a, 99, 0, &l, &n));
                assert_int_equal(n, 40);
                assert_string_equal(l[39].json, big[39].json);
                stored_event_list_free(l, n);
        }

        size_t fresh;
        IntakeEvent one = e[0].e;
        one.json = e[0].json;
        assert_int_equal(store_events_add(s, 999999, &one, 1, T0, &fresh), -ENOENT);
}

static void test_events_out_of_order(void **state) {
        Store *s = S(state);
        int64_t a = installing(s, "52:54:00:00:06:01", TOKEN_A);
        Attempt at = attempt_get(s, TOKEN_A);
        int64_t id = at.machine_id;
        attempt_done(&at);

        /* the second batch arrives first ... */
        Ev late[] = { ev(7, "start", "image", NULL, -1), progress(8, "image", 10, 20),
                      ev(9, "error", "image", "checksum mismatch", -1) };
        assert_int_equal(add(s, a, late, 3, T0 + 1), 3);
        /* ... then the first, listed backwards: it must not undo the newer */
        Ev early[] = { progress(6, "partition", 1, 2), ev(5, "error", "partition", "old error", -1),
                       ev(2, "start", "partition", NULL, -1), ev(1, "start", "install", NULL, -1) };
        assert_int_equal(add(s, a, early, 4, T0 + 2), 4);
        Machine m = get(s, id);
        assert_string_equal(m.phase, "image");
        assert_string_equal(m.last_error, "checksum mismatch");
        assert_int_equal(m.progress_done, 10);
        assert_int_equal(m.progress_total, 20);
        machine_done(&m);

        /* a newer phase start resets the progress */
        Ev next[] = { ev(10, "start", "configure", NULL, -1) };
        assert_int_equal(add(s, a, next, 1, T0 + 3), 1);
        m = get(s, id);
        assert_string_equal(m.phase, "configure");
        assert_int_equal(m.progress_done, 0);
        assert_int_equal(m.progress_total, 0);
        assert_int_equal(m.progress_time, 0);
        machine_done(&m);

        StoredEvent *l = NULL;
        size_t n = 0;
        OK(s, store_events_list(s, a, 0, 0, &l, &n));
        assert_int_equal(n, 8);
        int64_t want[] = { 1, 2, 5, 6, 7, 8, 9, 10 };
        for (size_t i = 0; i < n; i++)
                assert_int_equal(l[i].seq, want[i]);
        stored_event_list_free(l, n);
}

static const struct FinishCase {
        int exit_status;   /* of the install's finish event; -1: absent */
        const char *result;
        MachineState want;
} finish_cases[] = {
        { 0, "ok", MACHINE_INSTALLED },
        { 7, "failed", MACHINE_FAILED },
        { 1, "failed", MACHINE_FAILED },
        { -1, "ok", MACHINE_INSTALLED },    /* no exit_status: from the result */
        { -1, "failed", MACHINE_FAILED },
};

static void test_finish(void **state) {
        Store *s = S(state);

        for (size_t i = 0; i < ELEMENTSOF(finish_cases); i++) {
                const struct FinishCase *c = &finish_cases[i];
                char mac[18], token[65];
                snprintf(mac, sizeof(mac), "52:54:00:00:07:%02zx", i);
                snprintf(token, sizeof(token), "%064zx", i + 1);
                int64_t a = installing(s, mac, token);
                Ev e[] = { ev(1, "start", "install", NULL, -1), ev(2, "start", "image", NULL, -1),
                           ev(3, "error", "image", "no space", -1), ev(4, "finish", "image", NULL, c->exit_status),
                           ev(5, "finish", "install", "done", c->exit_status) };
                e[4].e.result = c->result;
                e[3].e.result = c->result;
                e[3].e.exit_status = -1;
                /* the last batch alone first: the finish may come before the rest */
                assert_int_equal(add(s, a, e + 3, 2, T0 + 50), 2);
                assert_int_equal(add(s, a, e, 3, T0 + 60), 3);

                Attempt at = attempt_get(s, token);
                Machine m = get(s, at.machine_id);
                if (m.state != c->want)
                        fail_msg("case %zu: %s", i, machine_state_to_string(m.state));
                assert_int_equal(m.state_since, T0 + 50);
                assert_int_equal(at.finished, T0 + 50);
                assert_int_equal(at.exit_status, c->exit_status >= 0 ? c->exit_status : c->want == MACHINE_INSTALLED ? 0 : 1);
                assert_string_equal(m.phase, "image"); /* the phase that ran last (and failed) */
                assert_string_equal(m.last_error, "no space");
                machine_done(&m);
                attempt_done(&at);
        }
}

/* The hostname comes from the configure phase's start event ("hostname
 * NAME, N users"); then the machine resolves by it. */
static void test_hostname_from_configure(void **state) {
        static const struct {
                const char *message, *want;
        } cases[] = {
                { "hostname web7, 2 users", "web7" },
                { "hostname db1.example.org, 1 user", "db1.example.org" },
                { "hostname <b>x</b>, 1 user", NULL },
                { "something else", NULL },
        };
        Store *s = S(state);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char mac[18], token[65];
                snprintf(mac, sizeof(mac), "52:54:00:00:0b:%02zx", i);
                snprintf(token, sizeof(token), "%064zx", i + 100);
                int64_t a = installing(s, mac, token);
                Ev e[] = { ev(1, "start", "install", NULL, -1), ev(2, "start", "configure", cases[i].message, -1) };
                assert_int_equal(add(s, a, e, 2, T0 + 10), 2);
                Attempt at = attempt_get(s, token);
                Machine m = get(s, at.machine_id);
                if (!streq_ptr(m.hostname, cases[i].want))
                        fail_msg("case %zu: hostname %s, want %s", i, m.hostname ?: "(null)", cases[i].want ?: "(null)");
                machine_done(&m);
                if (cases[i].want) {
                        OK(s, store_machine_resolve(s, cases[i].want, &m));
                        assert_int_equal(m.id, at.machine_id);
                        machine_done(&m);
                }
                attempt_done(&at);
        }
}

static void test_finish_not_current(void **state) {
        Store *s = S(state);
        int64_t id = new_machine(s, "52:54:00:00:08:01", MACHINE_READY), a1, a2, d;
        Ev fin[] = { ev(1, "start", "install", NULL, -1), ev(2, "finish", "install", NULL, 0) };
        Ev fail[] = { ev(1, "start", "install", NULL, -1), ev(2, "error", "x", "late error", -1),
                      ev(3, "finish", "install", NULL, 9) };

        /* attempt 1 superseded by attempt 2 (the machine rebooted): attempt
         * 1's finish is recorded but does not move the machine */
        OK(s, store_attempt_begin(s, id, ATTEMPT_INSTALL, NULL, TOKEN_A, T0 + 1, &a1));
        OK(s, store_attempt_begin(s, id, ATTEMPT_INSTALL, NULL, TOKEN_B, T0 + 2, &a2));
        assert_int_equal(add(s, a1, fail, 3, T0 + 3), 3);
        Machine m = get(s, id);
        assert_int_equal(m.state, MACHINE_INSTALLING);
        assert_null(m.last_error); /* not the current attempt's */
        assert_null(m.phase);
        machine_done(&m);
        Attempt at = attempt_get(s, TOKEN_A);
        assert_int_equal(at.exit_status, 9);
        assert_int_equal(at.finished, T0 + 3);
        attempt_done(&at);

        /* the current attempt's finish while the operator holds it: no move */
        OK(s, store_machine_hold(s, id, NULL, "op", T0 + 4));
        assert_int_equal(add(s, a2, fin, 2, T0 + 5), 2);
        assert_int_equal(state_of(s, id), MACHINE_HELD);
        at = attempt_get(s, TOKEN_B);
        assert_int_equal(at.exit_status, 0);
        attempt_done(&at);

        /* a discover run's finish never moves the machine */
        int64_t id2 = new_machine(s, "52:54:00:00:08:02", MACHINE_DISCOVERED);
        OK(s, store_attempt_begin(s, id2, ATTEMPT_DISCOVER, NULL, TOKEN_C, T0 + 1, &d));
        m = get(s, id2);
        assert_int_equal(m.state, MACHINE_DISCOVERED);
        assert_int_equal(m.current_install, d);
        machine_done(&m);
        Ev disc[] = { ev(1, "start", "detect", NULL, -1), ev(2, "start", "discover", NULL, -1),
                      ev(3, "finish", "discover", NULL, 0) };
        assert_int_equal(add(s, d, disc, 3, T0 + 2), 3);
        m = get(s, id2);
        assert_int_equal(m.state, MACHINE_DISCOVERED);
        assert_string_equal(m.phase, "discover");
        machine_done(&m);
        at = attempt_get(s, TOKEN_C);
        assert_int_equal(at.exit_status, 0);
        attempt_done(&at);
}

/* --- inventory, logs, settings, audit, forget ----------------------------- */

static void test_inventory(void **state) {
        Store *s = S(state);
        int64_t a = installing(s, "52:54:00:00:09:01", TOKEN_A);
        Attempt at = attempt_get(s, TOKEN_A);
        int64_t id = at.machine_id;
        attempt_done(&at);
        char *json = NULL;

        assert_int_equal(store_inventory_get(s, id, &json), -ENOENT);
        const char *inv1 = "{\"format\":1,\"firmware\":\"bios\",\"dmi\":{\"product_serial\":\"SN-1\"}}";
        OK(s, store_inventory_set(s, id, a, inv1, T0));
        OK(s, store_inventory_get(s, id, &json));
        assert_string_equal(json, inv1);
        free(json);
        Machine m = get(s, id);
        assert_true(m.has_inventory);
        assert_null(m.hostname);
        machine_done(&m);

        /* the latest replaces the earlier; a hostname in it is taken */
        const char *inv2 = "{\"format\":1,\"hostname\":\"db7\",\"text\":\"caf\xc3\xa9\"}";
        OK(s, store_inventory_set(s, id, 0, inv2, T0 + 1));
        OK(s, store_inventory_get(s, id, &json));
        assert_string_equal(json, inv2);
        free(json);
        m = get(s, id);
        assert_string_equal(m.hostname, "db7");
        machine_done(&m);
        /* one without keeps the hostname */
        OK(s, store_inventory_set(s, id, a, inv1, T0 + 2));
        m = get(s, id);
        assert_string_equal(m.hostname, "db7");
        machine_done(&m);
        assert_int_equal(store_inventory_set(s, 999999, 0, inv1, T0), -ENOENT);
}

static void test_logs(void **state) {
        Store *s = S(state);
        int64_t a = installing(s, "52:54:00:00:0a:01", TOKEN_A);
        char *text = NULL;
        size_t size = 0;

        assert_int_equal(store_log_get(s, a, &text, &size), -ENOENT);
        OK(s, store_log_set(s, a, "first log\n", 10, T0));
        OK(s, store_log_set(s, a, "second log\nline 2\n", 18, T0 + 1));
        OK(s, store_log_get(s, a, &text, &size));
        assert_string_equal(text, "second log\nline 2\n");
        assert_int_equal(size, 18);
        free(text);
        Attempt at = attempt_get(s, TOKEN_A);
        assert_true(at.has_log);
        attempt_done(&at);

        /* NUL and invalid UTF-8 become U+FFFD; valid UTF-8 stays */
        static const char raw[] = "a\0b\xff" "c\xc3\xa9";
        OK(s, store_log_set(s, a, raw, sizeof(raw) - 1, T0 + 2));
        OK(s, store_log_get(s, a, &text, &size));
        assert_string_equal(text, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xc3\xa9");
        free(text);
        OK(s, store_log_set(s, a, "", 0, T0 + 3));
        OK(s, store_log_get(s, a, &text, &size));
        assert_string_equal(text, "");
        assert_int_equal(size, 0);
        free(text);
        assert_int_equal(store_log_set(s, 999999, "x", 1, T0), -ENOENT);
}

static void test_settings(void **state) {
        Store *s = S(state);
        char *v = NULL;

        assert_int_equal(store_setting_get(s, "operator_token_sha256", &v), -ENOENT);
        assert_int_equal(store_setting_init(s, "operator_token_sha256", "1111"), 1);
        assert_int_equal(store_setting_init(s, "operator_token_sha256", "2222"), 0);
        OK(s, store_setting_get(s, "operator_token_sha256", &v));
        assert_string_equal(v, "1111");
        free(v);
        OK(s, store_setting_set(s, "operator_token_sha256", "3333"));
        OK(s, store_setting_set(s, "other", "0123"));
        OK(s, store_setting_get(s, "operator_token_sha256", &v));
        assert_string_equal(v, "3333");
        free(v);
        OK(s, store_setting_get(s, "other", &v));
        assert_string_equal(v, "0123"); /* text stays text */
        free(v);
}

static void test_audit(void **state) {
        Store *s = S(state);
        int64_t a = new_machine(s, "52:54:00:00:0b:01", MACHINE_DISCOVERED);
        int64_t b = new_machine(s, "52:54:00:00:0b:02", MACHINE_DISCOVERED);
        AuditEntry *l = NULL;
        size_t n = 0;

        OK(s, store_audit_add(s, a, "server", "created", "policy discover", T0));
        OK(s, store_machine_release(s, a, "alice", T0 + 1));
        OK(s, store_machine_hold(s, b, "bad disk", "bob", T0 + 2));
        OK(s, store_machine_forget(s, b, "bob", T0 + 3));
        assert_int_equal(store_audit_add(s, a, "x", NULL, NULL, T0), -EINVAL);

        OK(s, store_audit_list(s, a, &l, &n));
        assert_int_equal(n, 2);
        assert_string_equal(l[0].action, "created");
        assert_string_equal(l[0].detail, "policy discover");
        assert_string_equal(l[1].action, "release");
        assert_string_equal(l[1].actor, "alice");
        assert_non_null(strstr(l[1].detail, "ready"));
        audit_list_free(l, n);

        /* the forgotten machine's entries stay (who forgot it) */
        OK(s, store_audit_list(s, b, &l, &n));
        assert_int_equal(n, 2);
        assert_string_equal(l[0].action, "hold");
        assert_non_null(strstr(l[0].detail, "bad disk"));
        assert_string_equal(l[1].action, "forget");
        assert_non_null(strstr(l[1].detail, "52:54:00:00:0b:02"));
        audit_list_free(l, n);

        OK(s, store_audit_list(s, 0, &l, &n));
        assert_int_equal(n, 4);
        audit_list_free(l, n);
}

static int64_t count(const char *url, const char *sql) {
        Db *db = NULL;
        DbResult r = {};
        assert_int_equal(db_open(url, &db, NULL), 0);
        if (db_exec(db, sql, NULL, 0, &r) < 0)
                fail_msg("%s: %s", sql, db_error(db));
        int64_t v = strtoll(db_value(&r, 0, 0), NULL, 10);
        db_result_done(&r);
        db_close(db);
        return v;
}

static void test_forget_cascades(void **state) {
        Store *s = S(state);
        const char *url = ((Fixture *) *state)->url;
        int64_t keep = installing(s, "52:54:00:00:0c:01", TOKEN_B);
        int64_t a = installing(s, "52:54:00:00:0c:02", TOKEN_A);
        Attempt at = attempt_get(s, TOKEN_A);
        int64_t id = at.machine_id;
        attempt_done(&at);
        Ev e[] = { ev(1, "start", "install", NULL, -1), ev(2, "finish", "install", NULL, 3) };
        assert_int_equal(add(s, a, e, 2, T0), 2);
        assert_int_equal(add(s, keep, e, 1, T0), 1);
        OK(s, store_inventory_set(s, id, a, "{}", T0));
        OK(s, store_log_set(s, a, "log", 3, T0));

        OK(s, store_machine_forget(s, id, "op", T0 + 1));
        char *x = NULL;
        assert_int_equal(store_attempt_by_token(s, TOKEN_A, NULL, NULL), -ENOENT);
        assert_int_equal(store_inventory_get(s, id, &x), -ENOENT);
        assert_int_equal(store_log_get(s, a, &x, NULL), -ENOENT);
        assert_int_equal(count(url, "SELECT COUNT(*) FROM events"), 1);
        assert_int_equal(count(url, "SELECT COUNT(*) FROM attempts"), 1);
        assert_int_equal(count(url, "SELECT COUNT(*) FROM machines"), 1);
        assert_int_equal(count(url, "SELECT COUNT(*) FROM inventories"), 0);
        assert_int_equal(count(url, "SELECT COUNT(*) FROM logs"), 0);
        /* events of a forgotten attempt have nowhere to go */
        assert_int_equal(add(s, keep, e, 1, T0), 0);
        size_t fresh;
        IntakeEvent one = e[1].e;
        one.json = e[1].json;
        assert_int_equal(store_events_add(s, a, &one, 1, T0, &fresh), -ENOENT);
        /* numbers are not reused */
        Machine m = {};
        assert_int_equal(store_machine_create(s, "52:54:00:00:0c:02", NULL, NULL, NULL, MACHINE_READY, T0 + 2, &m), 1);
        assert_true(m.id > id);
        machine_done(&m);
}

static void test_open_again(void **state) {
        const char *url = ((Fixture *) *state)->url;
        Store *s2 = NULL;
        char *err = NULL;

        /* the schema exists: a second open is fine and sees the data */
        int64_t id = new_machine(S(state), "52:54:00:00:0d:01", MACHINE_READY);
        if (store_open(url, &s2, &err) < 0)
                fail_msg("%s", err);
        assert_int_equal(state_of(s2, id), MACHINE_READY);
        store_close(s2);

        /* failures say why, without a password */
        assert_true(store_open("sqlite:/nonexistent-dir/x.db", &s2, &err) < 0);
        assert_non_null(err);
        assert_non_null(strstr(err, "/nonexistent-dir/x.db"));
        free(err);
        assert_true(store_open("mysql://x", &s2, &err) < 0);
        free(err);
        if (pg_url) {
                _cleanup_free_ char *bad = strprintf("%s&dbname=nosuchdb&password=hunter2secret", pg_url);
                assert_true(store_open(bad, &s2, &err) < 0);
                assert_non_null(err);
                assert_null(strstr(err, "hunter2secret"));
                free(err);
        }
}

/* --- two connections at once ---------------------------------------------- */

#define CONC_EVENTS 400
static Ev conc_events[CONC_EVENTS + 1];

typedef struct Worker {
        const char *url;
        int64_t attempt;
        unsigned seed;
        size_t stored;
        int error;
        char message[256];
} Worker;

/* Every event of 1..CONC_EVENTS (and the finish), in batches of random
 * size and order, some sent twice: both workers send all of them. */
static void *worker_run(void *userdata) {
        Worker *w = userdata;
        Store *s = NULL;
        char *err = NULL;

        if (store_open(w->url, &s, &err) < 0) {
                snprintf(w->message, sizeof(w->message), "%s", err);
                free(err);
                w->error = -EIO;
                return NULL;
        }
        int64_t seq = 1;
        while (seq <= CONC_EVENTS + 1) {
                size_t n = 1 + (size_t) (rand_r(&w->seed) % 25);
                IntakeEvent batch[32];
                size_t k = 0;
                for (; k < n && seq <= CONC_EVENTS + 1; k++, seq++)
                        batch[k] = conc_events[seq - 1].e;
                /* send the batch backwards sometimes */
                if (rand_r(&w->seed) % 2)
                        for (size_t i = 0; i < k / 2; i++) {
                                IntakeEvent t = batch[i];
                                batch[i] = batch[k - 1 - i];
                                batch[k - 1 - i] = t;
                        }
                size_t fresh = 0;
                int r = store_events_add(s, w->attempt, batch, k, T0 + seq, &fresh);
                if (r < 0) {
                        snprintf(w->message, sizeof(w->message), "%s", store_error(s));
                        w->error = r;
                        break;
                }
                w->stored += fresh;
                if (rand_r(&w->seed) % 4 == 0) { /* a retry of a lost answer */
                        r = store_events_add(s, w->attempt, batch, k, T0 + seq, &fresh);
                        if (r < 0) {
                                snprintf(w->message, sizeof(w->message), "%s", store_error(s));
                                w->error = r;
                                break;
                        }
                        w->stored += fresh;
                }
        }
        store_close(s);
        return NULL;
}

static void test_concurrent_events(void **state) {
        Store *s = S(state);
        const char *url = ((Fixture *) *state)->url;
        int64_t a = installing(s, "52:54:00:00:0e:01", TOKEN_A);

        for (int64_t i = 1; i <= CONC_EVENTS; i++)
                conc_events[i - 1] = i % 10 == 1 ? ev(i, "start", "image", NULL, -1) : progress(i, "image", i, CONC_EVENTS);
        conc_events[CONC_EVENTS] = ev(CONC_EVENTS + 1, "finish", "install", NULL, 0);
        /* the json pointers point into conc_events: fix them up */
        for (size_t i = 0; i <= CONC_EVENTS; i++)
                conc_events[i].e.json = conc_events[i].json;

        for (int round = 0; round < 3; round++) {
                if (round > 0) {
                        char token[65];
                        snprintf(token, sizeof(token), "%064d", round);
                        Attempt at = attempt_get(s, TOKEN_A);
                        OK(s, store_machine_reinstall(s, at.machine_id, "op", T0));
                        OK(s, store_attempt_begin(s, at.machine_id, ATTEMPT_INSTALL, NULL, token, T0, &a));
                        attempt_done(&at);
                }
                Worker w[2] = {
                        { .url = url, .attempt = a, .seed = 1u + (unsigned) round * 2 },
                        { .url = url, .attempt = a, .seed = 2u + (unsigned) round * 2 },
                };
                pthread_t th[2];
                for (int i = 0; i < 2; i++)
                        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
                for (int i = 0; i < 2; i++)
                        assert_int_equal(pthread_join(th[i], NULL), 0);
                for (int i = 0; i < 2; i++)
                        if (w[i].error < 0)
                                fail_msg("worker %d: %s (%s)", i, strerror(-w[i].error), w[i].message);

                /* no duplicates, nothing lost, counted once */
                assert_int_equal(w[0].stored + w[1].stored, CONC_EVENTS + 1);
                StoredEvent *l = NULL;
                size_t n = 0;
                OK(s, store_events_list(s, a, 0, 0, &l, &n));
                assert_int_equal(n, CONC_EVENTS + 1);
                for (size_t i = 0; i < n; i++)
                        assert_int_equal(l[i].seq, (int64_t) i + 1);
                stored_event_list_free(l, n);
                Attempt at = {};
                Attempt *al = NULL;
                size_t an = 0;
                int64_t mid;
                {
                        Attempt t = attempt_get(s, TOKEN_A);
                        mid = t.machine_id;
                        attempt_done(&t);
                }
                OK(s, store_attempt_list(s, mid, &al, &an));
                for (size_t i = 0; i < an; i++)
                        if (al[i].id == a)
                                at = al[i];
                assert_int_equal(at.events, CONC_EVENTS + 1);
                assert_int_equal(at.exit_status, 0);
                attempt_list_free(al, an);
                Machine m = get(s, mid);
                assert_int_equal(m.state, MACHINE_INSTALLED);
                assert_string_equal(m.phase, "image");
                assert_int_equal(m.progress_done, CONC_EVENTS);
                machine_done(&m);
        }
}

/* One connection installs (attempts, events, finishes) while another holds,
 * releases and reinstalls the same machine: no transaction fails (no
 * deadlock between their locks), and every attempt's count matches its
 * rows. */
#define RACE_ROUNDS 30

typedef struct Racer {
        const char *url;
        int64_t machine;
        int role, error;
        char message[256];
} Racer;

static void *racer_run(void *userdata) {
        Racer *w = userdata;
        Store *s = NULL;
        char *err = NULL;
        int r = 0;

        if (store_open(w->url, &s, &err) < 0) {
                snprintf(w->message, sizeof(w->message), "%s", err);
                free(err);
                w->error = -EIO;
                return NULL;
        }
        for (int i = 0; i < RACE_ROUNDS && r >= 0; i++) {
                if (w->role == 0) {
                        char token[65];
                        int64_t a;
                        snprintf(token, sizeof(token), "%064x", 0x1000 + i);
                        r = store_attempt_begin(s, w->machine, ATTEMPT_INSTALL, NULL, token, T0 + i, &a);
                        Ev e[] = { ev(1, "start", "install", NULL, -1), ev(2, "start", "image", NULL, -1),
                                   progress(3, "image", 1, 2), ev(4, "error", "image", "x", -1),
                                   ev(5, "finish", "install", NULL, i % 3 == 0 ? 0 : 4) };
                        IntakeEvent l[5];
                        for (size_t j = 0; j < 5; j++)
                                l[j] = e[j].e, l[j].json = e[j].json;
                        size_t fresh;
                        if (r >= 0)
                                r = store_events_add(s, a, l, 3, T0 + i, &fresh);
                        if (r >= 0)
                                r = store_events_add(s, a, l + 2, 3, T0 + i, &fresh);
                        if (r >= 0)
                                r = store_log_set(s, a, "log", 3, T0 + i);
                        if (r >= 0)
                                r = store_inventory_set(s, w->machine, a, "{}", T0 + i);
                } else {
                        switch (i % 4) {
                        case 0:
                                r = store_machine_hold(s, w->machine, NULL, "op", T0 + i);
                                break;
                        case 1:
                                r = store_machine_release(s, w->machine, "op", T0 + i);
                                break;
                        case 2:
                                r = store_machine_reinstall(s, w->machine, "op", T0 + i);
                                break;
                        default:
                                r = store_machine_assign(s, w->machine, i % 8 ? "p" : NULL, "op", T0 + i);
                        }
                }
        }
        if (r < 0) {
                snprintf(w->message, sizeof(w->message), "%s", store_error(s));
                w->error = r;
        }
        store_close(s);
        return NULL;
}

static void test_concurrent_operator(void **state) {
        Store *s = S(state);
        const char *url = ((Fixture *) *state)->url;
        int64_t id = new_machine(s, "52:54:00:00:10:01", MACHINE_READY);
        Racer w[2] = { { .url = url, .machine = id, .role = 0 }, { .url = url, .machine = id, .role = 1 } };
        pthread_t th[2];

        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_create(&th[i], NULL, racer_run, &w[i]), 0);
        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_join(th[i], NULL), 0);
        for (int i = 0; i < 2; i++)
                if (w[i].error < 0)
                        fail_msg("racer %d: %s (%s)", i, strerror(-w[i].error), w[i].message);

        Attempt *l = NULL;
        size_t n = 0;
        OK(s, store_attempt_list(s, id, &l, &n));
        assert_int_equal(n, RACE_ROUNDS);
        for (size_t i = 0; i < n; i++) {
                StoredEvent *e = NULL;
                size_t ne = 0;
                OK(s, store_events_list(s, l[i].id, 0, 0, &e, &ne));
                assert_int_equal(ne, 5);
                assert_int_equal(l[i].events, 5);
                assert_int_equal(l[i].exit_status, i % 3 == 0 ? 0 : 4);
                assert_true(l[i].has_log);
                stored_event_list_free(e, ne);
        }
        Machine m = get(s, id);
        assert_int_equal(m.current_install, l[n - 1].id);
        assert_true(m.has_inventory);
        machine_done(&m);
        attempt_list_free(l, n);
        assert_int_equal(audit_count(s, id), RACE_ROUNDS);
}

/* Servers starting at once against a new database: every one of them
 * opens it (the schema is created once, under a lock). */
#define OPENERS 6

typedef struct Opener {
        const char *url;
        pthread_barrier_t *barrier;
        int index, r;
        char *error;
} Opener;

static void *opener_run(void *userdata) {
        Opener *o = userdata;
        Store *s = NULL;
        pthread_barrier_wait(o->barrier);
        o->r = store_open(o->url, &s, &o->error);
        if (o->r >= 0) {
                /* and it works at once */
                Machine m = {};
                char mac[18];
                snprintf(mac, sizeof(mac), "52:54:00:00:0f:%02x", (unsigned) o->index);
                o->r = store_machine_create(s, mac, NULL, NULL, NULL, MACHINE_READY, T0, &m);
                machine_done(&m);
        }
        store_close(s);
        return NULL;
}

static void test_concurrent_open(void **state) {
        _cleanup_free_ char *url = NULL, *dbname = NULL;
        Db *admin = NULL;

        if (pg_url) {
                dbname = strprintf("site_open_%d", (int) getpid());
                assert_int_equal(db_open(pg_url, &admin, NULL), 0);
                _cleanup_free_ char *sql = strprintf("CREATE DATABASE %s", dbname);
                if (db_exec(admin, sql, NULL, 0, NULL) < 0)
                        fail_msg("%s: %s", sql, db_error(admin));
                url = strprintf("%s&dbname=%s", pg_url, dbname);
        } else
                url = strprintf("sqlite:%s/open-%u.db", tmpdir, db_counter++);

        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, OPENERS);
        Opener o[OPENERS];
        pthread_t th[OPENERS];
        for (int i = 0; i < OPENERS; i++) {
                o[i] = (Opener) { .url = url, .barrier = &barrier, .index = i };
                assert_int_equal(pthread_create(&th[i], NULL, opener_run, &o[i]), 0);
        }
        for (int i = 0; i < OPENERS; i++)
                assert_int_equal(pthread_join(th[i], NULL), 0);
        pthread_barrier_destroy(&barrier);
        int failed = 0;
        for (int i = 0; i < OPENERS; i++) {
                if (o[i].r < 0) {
                        print_error("opener %d: %s (%s)\n", i, strerror(-o[i].r), o[i].error ?: "");
                        failed++;
                }
                free(o[i].error);
        }

        if (pg_url) {
                _cleanup_free_ char *sql = strprintf("DROP DATABASE %s", dbname);
                if (db_exec(admin, sql, NULL, 0, NULL) < 0)
                        fail_msg("%s: %s", sql, db_error(admin));
                db_close(admin);
        }
        assert_int_equal(failed, 0);
}

/* --- main ----------------------------------------------------------------- */

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
static const struct CMUnitTest tests[] = {
        TEST(test_state_strings),   TEST(test_transitions),       TEST(test_operator_errors),
        TEST(test_create_find_seen), TEST(test_resolve),          TEST(test_attempts),
        TEST(test_events_dedupe),   TEST(test_events_out_of_order), TEST(test_finish),
        TEST(test_finish_not_current), TEST(test_inventory),      TEST(test_logs),
        TEST(test_settings),        TEST(test_audit),             TEST(test_forget_cascades),
        TEST(test_open_again),      TEST(test_concurrent_open),   TEST(test_concurrent_events),
        TEST(test_concurrent_operator), TEST(test_hostname_from_configure),
};

static int group_setup(void **state) {
        tmpdir = strdup("/tmp/test-store-XXXXXX");
        if (!tmpdir || !mkdtemp(tmpdir))
                return -1;
        return 0;
}

static int group_teardown(void **state) {
        (void) nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(tmpdir);
        tmpdir = NULL;
        return 0;
}

int main(void) {
        int r;

        pg_url = NULL;
        printf("test_store: SQLite\n");
        fflush(stdout);
        r = cmocka_run_group_tests_name("store on SQLite", tests, group_setup, group_teardown);
        const char *url = getenv("SITE_TEST_PG_URL");
        if (url && *url) {
                pg_url = url;
                printf("test_store: PostgreSQL\n");
                fflush(stdout);
                r += cmocka_run_group_tests_name("store on PostgreSQL", tests, group_setup, group_teardown);
        }
        return r;
}
