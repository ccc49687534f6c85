/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The site server's store (server/store.h): the logic, written once in SQL
 * that SQLite and PostgreSQL both accept, over the driver edge server/db.h.
 *
 * Locking: every transaction that changes anything about a machine first
 * takes that machine's row lock (SELECT ... FOR UPDATE: a row lock in
 * PostgreSQL, nothing in SQLite, whose BEGIN IMMEDIATE serialises all
 * writers), and takes no other lock before it. So two servers sharing one
 * PostgreSQL serialise per machine and cannot deadlock on each other's
 * order; a transaction that still loses a race (-EAGAIN) runs again. */
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/strutil.h"
#include "db.h"

#define SCHEMA_VERSION 1
#define SCHEMA_LOCK_KEY INT64_C(0x5174e5c4e3a00001) /* pg_advisory_xact_lock: "site schema" */
#define TX_TRIES 8
#define DEFAULT_HOLD_MESSAGE "held by the operator"

#define EVENTS_PER_INSERT 64

struct Store {
        Db *db;
        char *error;
        char *events_sql[4]; /* see events_insert_sql() */
};

/* --- small helpers -------------------------------------------------------- */

typedef struct Num {
        char s[32];
} Num;

static Num num(int64_t v) {
        Num n;
        snprintf(n.s, sizeof(n.s), "%" PRId64, v);
        return n;
}

static Num dbl(double v) {
        Num n;
        if (!isfinite(v))
                v = -1;
        snprintf(n.s, sizeof(n.s), "%.17g", v);
        return n;
}

static int64_t to_i64(const char *s) {
        return s ? strtoll(s, NULL, 10) : 0;
}

static double to_dbl(const char *s) {
        return s ? strtod(s, NULL) : 0;
}

static int dup_or_null(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

_printf_(3, 4) static int store_fail(Store *s, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *m = strvprintf(fmt, ap);
        va_end(ap);
        if (m) {
                free(s->error);
                s->error = m;
        }
        return r;
}

/* Run a statement; on failure the driver's message becomes the store's. */
static int sq(Store *s, const char *sql, const char *const *params, size_t n, DbResult *ret) {
        int r = db_exec(s->db, sql, params, n, ret);
        if (r < 0)
                store_fail(s, r, "%s", db_error(s->db));
        return r;
}
#define SQ(s, sql, res, ...) sq((s), (sql), DB_PARAMS(__VA_ARGS__), (res))
#define SQ0(s, sql, res) sq((s), (sql), NULL, 0, (res))

typedef int (*TxFunc)(Store *s, void *userdata);

static unsigned long now_seed(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ((unsigned long) ts.tv_nsec ^ ((unsigned long) ts.tv_sec << 20) ^ (unsigned long) (uintptr_t) &ts) | 1;
}

/* Run f in a write transaction; again (up to TX_TRIES times, after a short
 * random pause) when it lost a race. f must start from scratch every time
 * (it gets called again with the same userdata). */
static int store_tx(Store *s, TxFunc f, void *userdata) {
        /* The pause's jitter: rand() is not thread-safe (the HTTP layer runs
         * one Store per thread), so a seed of this thread's own. */
        static _Thread_local unsigned seed;
        int r = -EIO;

        if (seed == 0)
                seed = (unsigned) now_seed();
        for (unsigned i = 0; i < TX_TRIES; i++) {
                if (i > 0) {
                        struct timespec ts = { 0, (long) (1 + rand_r(&seed) % 20) * (long) i * 1000000L };
                        nanosleep(&ts, NULL);
                }
                r = db_begin(s->db);
                if (r < 0) {
                        store_fail(s, r, "%s", db_error(s->db));
                        if (r == -EAGAIN)
                                continue;
                        return r;
                }
                r = f(s, userdata);
                if (r >= 0) {
                        int k = db_commit(s->db);
                        if (k >= 0)
                                return r;
                        store_fail(s, k, "%s", db_error(s->db));
                        r = k;
                }
                db_rollback(s->db);
                if (r != -EAGAIN)
                        return r;
        }
        return r;
}

/* --- states --------------------------------------------------------------- */

static const char *const state_names[_MACHINE_STATE_MAX] = {
        [MACHINE_DISCOVERED] = "discovered", [MACHINE_READY] = "ready",   [MACHINE_INSTALLING] = "installing",
        [MACHINE_INSTALLED] = "installed",   [MACHINE_FAILED] = "failed", [MACHINE_HELD] = "held",
};

const char *machine_state_to_string(MachineState st) {
        if ((int) st < 0 || st >= _MACHINE_STATE_MAX)
                return NULL;
        return state_names[st];
}

int machine_state_from_string(const char *str) {
        if (!str)
                return -EINVAL;
        for (int i = 0; i < _MACHINE_STATE_MAX; i++)
                if (streq(str, state_names[i]))
                        return i;
        return -EINVAL;
}

static const char *kind_to_string(AttemptKind k) {
        return k == ATTEMPT_DISCOVER ? "discover" : "install";
}

/* --- schema --------------------------------------------------------------- */

/* %s: the automatically numbered primary key of the backend. */
static const char *const schema[] = {
        "CREATE TABLE IF NOT EXISTS site_schema (id BIGINT PRIMARY KEY, version BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS machines ("
        " id %s,"
        " mac TEXT NOT NULL UNIQUE,"
        " uuid TEXT, serial TEXT, platform TEXT, hostname TEXT,"
        " state TEXT NOT NULL, prior_state TEXT, profile TEXT, message TEXT,"
        " created BIGINT NOT NULL, state_since BIGINT NOT NULL, last_seen BIGINT NOT NULL,"
        " current_install BIGINT NOT NULL DEFAULT 0,"
        /* of the current attempt, each with the seq of the event it came
         * from, so that a late batch of older events does not undo it */
        " phase TEXT, phase_seq BIGINT NOT NULL DEFAULT 0,"
        " last_error TEXT, error_seq BIGINT NOT NULL DEFAULT 0,"
        " progress_done BIGINT NOT NULL DEFAULT 0, progress_total BIGINT NOT NULL DEFAULT 0,"
        " progress_rate DOUBLE PRECISION NOT NULL DEFAULT 0, progress_eta DOUBLE PRECISION NOT NULL DEFAULT -1,"
        " progress_time BIGINT NOT NULL DEFAULT 0, progress_seq BIGINT NOT NULL DEFAULT 0)",
        "CREATE INDEX IF NOT EXISTS machines_uuid ON machines (uuid)",
        "CREATE INDEX IF NOT EXISTS machines_serial ON machines (serial)",
        "CREATE INDEX IF NOT EXISTS machines_hostname ON machines (hostname)",
        "CREATE TABLE IF NOT EXISTS attempts ("
        " id %s,"
        " machine_id BIGINT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,"
        " number BIGINT NOT NULL, kind TEXT NOT NULL, profile TEXT,"
        " token_sha256 TEXT NOT NULL UNIQUE,"
        " started BIGINT NOT NULL, finished BIGINT NOT NULL DEFAULT 0,"
        " exit_status BIGINT NOT NULL DEFAULT -1, events BIGINT NOT NULL DEFAULT 0,"
        " UNIQUE (machine_id, kind, number))",
        /* The machine list reads every machine's attempts: without this, 0.45 s
         * for 400 machines on SQLite, 12 ms with it. */
        "CREATE INDEX IF NOT EXISTS attempts_machine ON attempts (machine_id)",
        "CREATE TABLE IF NOT EXISTS events ("
        " attempt_id BIGINT NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,"
        " seq BIGINT NOT NULL, received BIGINT NOT NULL, time BIGINT NOT NULL,"
        " phase TEXT, type TEXT NOT NULL, json TEXT NOT NULL,"
        " PRIMARY KEY (attempt_id, seq))",
        "CREATE TABLE IF NOT EXISTS inventories ("
        " machine_id BIGINT PRIMARY KEY REFERENCES machines (id) ON DELETE CASCADE,"
        " attempt_id BIGINT REFERENCES attempts (id) ON DELETE SET NULL,"
        " received BIGINT NOT NULL, json TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS logs ("
        " attempt_id BIGINT PRIMARY KEY REFERENCES attempts (id) ON DELETE CASCADE,"
        " received BIGINT NOT NULL, size BIGINT NOT NULL, body TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        /* No foreign key: the audit outlives a forgotten machine (it records
         * who forgot it). Ids are never reused. */
        "CREATE TABLE IF NOT EXISTS audit ("
        " id %s, time BIGINT NOT NULL, machine_id BIGINT NOT NULL,"
        " actor TEXT, action TEXT NOT NULL, detail TEXT)",
        "CREATE INDEX IF NOT EXISTS audit_machine ON audit (machine_id)",
};

static int schema_tx(Store *s, void *userdata) {
        int *ret_version = userdata;
        _cleanup_(db_result_done) DbResult res = {};
        int r;

        r = db_lock(s->db, SCHEMA_LOCK_KEY);
        if (r < 0)
                return store_fail(s, r, "%s", db_error(s->db));
        for (size_t i = 0; i < ELEMENTSOF(schema); i++) {
                _cleanup_free_ char *sql = NULL;
                if (strstr(schema[i], "%s")) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                        sql = strprintf(schema[i], db_serial_primary_key(s->db));
#pragma GCC diagnostic pop
                        if (!sql)
                                return -ENOMEM;
                }
                r = SQ0(s, sql ? sql : schema[i], NULL);
                if (r < 0)
                        return r;
        }
        r = SQ(s, "INSERT INTO site_schema (id, version) VALUES (1, ?) ON CONFLICT (id) DO NOTHING", NULL,
               num(SCHEMA_VERSION).s);
        if (r < 0)
                return r;
        r = SQ0(s, "SELECT version FROM site_schema WHERE id = 1", &res);
        if (r < 0)
                return r;
        *ret_version = res.n_rows > 0 ? (int) to_i64(db_value(&res, 0, 0)) : 0;
        return 0;
}

int store_open(const char *url, Store **ret, char **ret_error) {
        Store *s;
        int r, version = 0;

        if (ret_error)
                *ret_error = NULL;
        s = new0(Store, 1);
        if (!s)
                return -ENOMEM;
        r = db_open(url, &s->db, ret_error);
        if (r < 0) {
                free(s);
                return r;
        }
        r = store_tx(s, schema_tx, &version);
        if (r >= 0 && version != SCHEMA_VERSION)
                r = store_fail(s, -EPROTONOSUPPORT,
                               "the database has schema version %d, this server knows version %d", version,
                               SCHEMA_VERSION);
        if (r < 0) {
                if (ret_error)
                        *ret_error = strprintf("cannot set up the %s store: %s", db_backend(s->db),
                                               store_error(s));
                store_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

void store_close(Store *s) {
        if (!s)
                return;
        db_close(s->db);
        for (size_t i = 0; i < ELEMENTSOF(s->events_sql); i++)
                free(s->events_sql[i]);
        free(s->error);
        free(s);
}

const char *store_error(Store *s) {
        return s->error ? s->error : "no error";
}

const char *store_backend(const Store *s) {
        return db_backend(s->db);
}

/* --- machines ------------------------------------------------------------- */

#define MACHINE_COLUMNS                                                                                      \
        "m.id, m.mac, m.uuid, m.serial, m.platform, m.hostname, m.state, m.prior_state, m.profile, "        \
        "m.message, m.created, m.state_since, m.last_seen, m.current_install, m.phase, m.last_error, "      \
        "m.progress_done, m.progress_total, m.progress_rate, m.progress_eta, m.progress_time, "             \
        "CASE WHEN EXISTS (SELECT 1 FROM inventories i WHERE i.machine_id = m.id) THEN 1 ELSE 0 END"

void machine_done(Machine *m) {
        if (!m)
                return;
        free(m->mac);
        free(m->uuid);
        free(m->serial);
        free(m->platform);
        free(m->hostname);
        free(m->profile);
        free(m->message);
        free(m->phase);
        free(m->last_error);
        *m = (Machine) {};
}

void machine_list_free(Machine *l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                machine_done(&l[i]);
        free(l);
}

static int machine_from_row(const DbResult *res, size_t row, Machine *m) {
        int st;

        *m = (Machine) {};
        m->id = to_i64(db_value(res, row, 0));
        if (dup_or_null(db_value(res, row, 1), &m->mac) < 0 || dup_or_null(db_value(res, row, 2), &m->uuid) < 0 ||
            dup_or_null(db_value(res, row, 3), &m->serial) < 0 ||
            dup_or_null(db_value(res, row, 4), &m->platform) < 0 ||
            dup_or_null(db_value(res, row, 5), &m->hostname) < 0 ||
            dup_or_null(db_value(res, row, 8), &m->profile) < 0 ||
            dup_or_null(db_value(res, row, 9), &m->message) < 0 ||
            dup_or_null(db_value(res, row, 14), &m->phase) < 0 ||
            dup_or_null(db_value(res, row, 15), &m->last_error) < 0) {
                machine_done(m);
                return -ENOMEM;
        }
        st = machine_state_from_string(db_value(res, row, 6));
        m->state = st < 0 ? MACHINE_HELD : (MachineState) st; /* an unknown state: do nothing with it */
        st = machine_state_from_string(db_value(res, row, 7));
        m->prior_state = st < 0 ? MACHINE_DISCOVERED : (MachineState) st;
        m->created = to_i64(db_value(res, row, 10));
        m->state_since = to_i64(db_value(res, row, 11));
        m->last_seen = to_i64(db_value(res, row, 12));
        m->current_install = to_i64(db_value(res, row, 13));
        m->progress_done = to_i64(db_value(res, row, 16));
        m->progress_total = to_i64(db_value(res, row, 17));
        m->progress_rate = to_dbl(db_value(res, row, 18));
        m->progress_eta = to_dbl(db_value(res, row, 19));
        m->progress_time = to_i64(db_value(res, row, 20));
        m->has_inventory = to_i64(db_value(res, row, 21)) != 0;
        return 0;
}

/* The first machine a query returns: -ENOENT none. */
static int machine_query_one(Store *s, const char *sql, const char *const *params, size_t n, Machine *ret) {
        _cleanup_(db_result_done) DbResult res = {};
        int r = sq(s, sql, params, n, &res);
        if (r < 0)
                return r;
        if (res.n_rows == 0)
                return -ENOENT;
        if (!ret)
                return 0;
        return machine_from_row(&res, 0, ret);
}

/* A MAC as stored: lower case with colons when it parses, else as given. */
static const char *mac_key(const char *mac, char buf[static 18]) {
        if (mac && mac_normalize(mac, buf) >= 0)
                return buf;
        return mac;
}

int store_machine_find(Store *s, const char *mac, const char *uuid, const char *serial, Machine *ret) {
        char buf[18];
        int r;

        if (mac) {
                r = machine_query_one(s, "SELECT " MACHINE_COLUMNS " FROM machines m WHERE m.mac = ?",
                                      DB_PARAMS(mac_key(mac, buf)), ret);
                if (r != -ENOENT)
                        return r;
        }
        /* UUIDs and serials are not unique everywhere (cloned firmware):
         * the machine seen last wins. */
        if (uuid) {
                r = machine_query_one(s,
                                      "SELECT " MACHINE_COLUMNS " FROM machines m WHERE m.uuid = ?"
                                      " ORDER BY m.last_seen DESC, m.id DESC LIMIT 1",
                                      DB_PARAMS(uuid), ret);
                if (r != -ENOENT)
                        return r;
        }
        if (serial) {
                r = machine_query_one(s,
                                      "SELECT " MACHINE_COLUMNS " FROM machines m WHERE m.serial = ?"
                                      " ORDER BY m.last_seen DESC, m.id DESC LIMIT 1",
                                      DB_PARAMS(serial), ret);
                if (r != -ENOENT)
                        return r;
        }
        return store_fail(s, -ENOENT, "no such machine");
}

int store_machine_get(Store *s, int64_t id, Machine *ret) {
        int r = machine_query_one(s, "SELECT " MACHINE_COLUMNS " FROM machines m WHERE m.id = ?",
                                  DB_PARAMS(num(id).s), ret);
        if (r == -ENOENT)
                return store_fail(s, r, "no machine %" PRId64, id);
        return r;
}

static bool is_number(const char *s) {
        if (!*s || strlen(s) > 18)
                return false;
        for (const char *p = s; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return true;
}

int store_machine_resolve(Store *s, const char *name, Machine *ret) {
        _cleanup_(db_result_done) DbResult res = {};
        _cleanup_free_ char *lower = NULL;
        char buf[18];
        int r;

        if (!name || !*name)
                return store_fail(s, -ENOENT, "no machine name");
        lower = strdup(name);
        if (!lower)
                return -ENOMEM;
        for (char *p = lower; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');

        /* Every way the name can match, all at once: a name that means two
         * machines is refused rather than guessed. */
        r = SQ(s,
               "SELECT m.id FROM machines m WHERE m.id = CAST(? AS BIGINT) OR m.mac = ? OR LOWER(m.uuid) = ?"
               " OR m.serial = ? OR LOWER(m.hostname) = ? ORDER BY m.id LIMIT 2",
               &res, is_number(name) ? name : "0", mac_key(lower, buf), lower, name, lower);
        if (r < 0)
                return r;
        if (res.n_rows == 0)
                return store_fail(s, -ENOENT, "no machine is called \"%s\"", name);
        if (res.n_rows > 1)
                return store_fail(s, -ENOTUNIQ, "\"%s\" names more than one machine (%s, %s): use its number",
                                  name, db_value(&res, 0, 0), db_value(&res, 1, 0));
        return store_machine_get(s, to_i64(db_value(&res, 0, 0)), ret);
}

int store_machine_create(Store *s, const char *mac, const char *uuid, const char *serial, const char *platform,
                         MachineState state, int64_t now, Machine *ret) {
        _cleanup_(db_result_done) DbResult res = {};
        char buf[18];
        int r;

        if (!mac || !machine_state_to_string(state))
                return store_fail(s, -EINVAL, "a machine needs a MAC and a state");
        /* Two servers may see the same new machine at once: the second
         * finds the first one's row (and returns 0, not 1). */
        r = SQ(s,
               "INSERT INTO machines (mac, uuid, serial, platform, state, created, state_since, last_seen)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mac) DO NOTHING RETURNING id",
               &res, mac_key(mac, buf), uuid, serial, platform, machine_state_to_string(state), num(now).s,
               num(now).s, num(now).s);
        if (r < 0)
                return r;
        if (res.n_rows == 0) {
                r = store_machine_find(s, mac, NULL, NULL, ret);
                return r < 0 ? r : 0;
        }
        r = store_machine_get(s, to_i64(db_value(&res, 0, 0)), ret);
        return r < 0 ? r : 1;
}

int store_machine_seen(Store *s, int64_t id, const char *uuid, const char *serial, const char *platform, int64_t now) {
        int r = SQ(s,
                   "UPDATE machines SET last_seen = ?, uuid = COALESCE(?, uuid), serial = COALESCE(?, serial),"
                   " platform = COALESCE(?, platform) WHERE id = ?",
                   NULL, num(now).s, uuid, serial, platform, num(id).s);
        if (r == 0)
                return store_fail(s, -ENOENT, "no machine %" PRId64, id);
        return r < 0 ? r : 0;
}

int store_machine_list(Store *s, Machine **ret, size_t *ret_n) {
        _cleanup_(db_result_done) DbResult res = {};
        Machine *l;
        int r;

        r = SQ0(s, "SELECT " MACHINE_COLUMNS " FROM machines m ORDER BY m.id", &res);
        if (r < 0)
                return r;
        l = new0(Machine, res.n_rows + 1);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < res.n_rows; i++) {
                r = machine_from_row(&res, i, &l[i]);
                if (r < 0) {
                        machine_list_free(l, i);
                        return r;
                }
        }
        *ret = l;
        *ret_n = res.n_rows;
        return 0;
}

/* --- operator actions ----------------------------------------------------- */

/* Lock the machine's row for the rest of the transaction; its state and
 * prior state (-1 when NULL). -ENOENT. */
static int machine_lock(Store *s, int64_t id, int *ret_state, int *ret_prior, int64_t *ret_current) {
        _cleanup_(db_result_done) DbResult res = {};
        int r = SQ(s, "SELECT state, prior_state, current_install FROM machines WHERE id = ? FOR UPDATE", &res,
                   num(id).s);
        if (r < 0)
                return r;
        if (res.n_rows == 0)
                return store_fail(s, -ENOENT, "no machine %" PRId64, id);
        if (ret_state)
                *ret_state = machine_state_from_string(db_value(&res, 0, 0));
        if (ret_prior)
                *ret_prior = machine_state_from_string(db_value(&res, 0, 1));
        if (ret_current)
                *ret_current = to_i64(db_value(&res, 0, 2));
        return 0;
}

static int audit_insert(Store *s, int64_t machine_id, const char *actor, const char *action, const char *detail,
                        int64_t now) {
        int r = SQ(s, "INSERT INTO audit (time, machine_id, actor, action, detail) VALUES (?, ?, ?, ?, ?)", NULL,
                   num(now).s, num(machine_id).s, actor, action, detail);
        return r < 0 ? r : 0;
}

/* Move to a state; state_since only changes when the state does. */
static int machine_set_state(Store *s, int64_t id, MachineState st, int old, const char *prior, const char *message,
                             int64_t now) {
        int r;
        if (old == (int) st)
                r = SQ(s, "UPDATE machines SET prior_state = ?, message = ? WHERE id = ?", NULL, prior, message,
                       num(id).s);
        else
                r = SQ(s, "UPDATE machines SET state = ?, state_since = ?, prior_state = ?, message = ? WHERE id = ?",
                       NULL, machine_state_to_string(st), num(now).s, prior, message, num(id).s);
        return r < 0 ? r : 0;
}

typedef enum OperatorAction { OP_REINSTALL, OP_HOLD, OP_RELEASE, OP_ASSIGN, OP_FORGET } OperatorAction;

typedef struct OperatorArgs {
        OperatorAction action;
        int64_t id, now;
        const char *actor, *text; /* hold: message; assign: profile */
} OperatorArgs;

static const char *state_or(int st, const char *fallback) {
        const char *n = st >= 0 ? machine_state_to_string((MachineState) st) : NULL;
        return n ? n : fallback;
}

static int operator_tx(Store *s, void *userdata) {
        const OperatorArgs *a = userdata;
        _cleanup_free_ char *detail = NULL;
        const char *action = NULL;
        int state, prior, r;

        r = machine_lock(s, a->id, &state, &prior, NULL);
        if (r < 0)
                return r;

        switch (a->action) {
        case OP_REINSTALL:
                action = "reinstall";
                detail = strprintf("%s -> ready", state_or(state, "?"));
                r = machine_set_state(s, a->id, MACHINE_READY, state, NULL, NULL, a->now);
                break;
        case OP_HOLD: {
                const char *msg = a->text ? a->text : DEFAULT_HOLD_MESSAGE;
                action = "hold";
                detail = strprintf("%s -> held: %s", state_or(state, "?"), msg);
                /* Held again: the state before the first hold is kept. */
                r = machine_set_state(s, a->id, MACHINE_HELD, state,
                                      state == MACHINE_HELD ? state_or(prior, NULL) : state_or(state, NULL), msg,
                                      a->now);
                break;
        }
        case OP_RELEASE: {
                int to = -1;
                action = "release";
                if (state == MACHINE_HELD)
                        to = prior < 0 || prior == MACHINE_DISCOVERED || prior == MACHINE_FAILED ||
                                             prior == MACHINE_HELD
                                     ? MACHINE_READY
                                     : prior;
                else if (state == MACHINE_DISCOVERED || state == MACHINE_FAILED)
                        to = MACHINE_READY;
                if (to >= 0) {
                        detail = strprintf("%s -> %s", state_or(state, "?"), state_or(to, "?"));
                        r = machine_set_state(s, a->id, (MachineState) to, state, NULL, NULL, a->now);
                } else
                        detail = strprintf("%s: unchanged", state_or(state, "?"));
                break;
        }
        case OP_ASSIGN:
                action = "assign";
                detail = strdup(a->text ? a->text : "(none: lookup)");
                r = SQ(s, "UPDATE machines SET profile = ? WHERE id = ?", NULL, a->text, num(a->id).s);
                break;
        case OP_FORGET: {
                _cleanup_(db_result_done) DbResult res = {};
                action = "forget";
                r = SQ(s, "SELECT mac, uuid, serial, hostname FROM machines WHERE id = ?", &res, num(a->id).s);
                if (r < 0)
                        return r;
                detail = strprintf("mac %s uuid %s serial %s hostname %s (was %s)", db_value(&res, 0, 0),
                                   db_value(&res, 0, 1) ?: "-", db_value(&res, 0, 2) ?: "-",
                                   db_value(&res, 0, 3) ?: "-", state_or(state, "?"));
                r = SQ(s, "DELETE FROM machines WHERE id = ?", NULL, num(a->id).s);
                break;
        }
        }
        if (r < 0)
                return r;
        if (!detail)
                return -ENOMEM;
        return audit_insert(s, a->id, a->actor, action, detail, a->now);
}

static int operator_action(Store *s, OperatorAction action, int64_t id, const char *text, const char *actor,
                           int64_t now) {
        OperatorArgs a = { .action = action, .id = id, .now = now, .actor = actor, .text = text };
        return store_tx(s, operator_tx, &a);
}

int store_machine_reinstall(Store *s, int64_t id, const char *actor, int64_t now) {
        return operator_action(s, OP_REINSTALL, id, NULL, actor, now);
}
int store_machine_hold(Store *s, int64_t id, const char *message, const char *actor, int64_t now) {
        return operator_action(s, OP_HOLD, id, message, actor, now);
}
int store_machine_release(Store *s, int64_t id, const char *actor, int64_t now) {
        return operator_action(s, OP_RELEASE, id, NULL, actor, now);
}
int store_machine_assign(Store *s, int64_t id, const char *profile, const char *actor, int64_t now) {
        return operator_action(s, OP_ASSIGN, id, profile, actor, now);
}
int store_machine_forget(Store *s, int64_t id, const char *actor, int64_t now) {
        return operator_action(s, OP_FORGET, id, NULL, actor, now);
}

/* --- attempts ------------------------------------------------------------- */

#define ATTEMPT_COLUMNS                                                                                      \
        "a.id, a.machine_id, a.number, a.kind, a.profile, a.started, a.finished, a.exit_status, a.events, " \
        "CASE WHEN EXISTS (SELECT 1 FROM logs l WHERE l.attempt_id = a.id) THEN 1 ELSE 0 END, a.token_sha256"

void attempt_done(Attempt *a) {
        if (!a)
                return;
        free(a->profile);
        *a = (Attempt) {};
}

void attempt_list_free(Attempt *l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                attempt_done(&l[i]);
        free(l);
}

static int attempt_from_row(const DbResult *res, size_t row, Attempt *a) {
        *a = (Attempt) {};
        a->id = to_i64(db_value(res, row, 0));
        a->machine_id = to_i64(db_value(res, row, 1));
        a->number = (int) to_i64(db_value(res, row, 2));
        a->kind = streq_ptr(db_value(res, row, 3), "discover") ? ATTEMPT_DISCOVER : ATTEMPT_INSTALL;
        if (dup_or_null(db_value(res, row, 4), &a->profile) < 0)
                return -ENOMEM;
        a->started = to_i64(db_value(res, row, 5));
        a->finished = to_i64(db_value(res, row, 6));
        a->exit_status = (int) to_i64(db_value(res, row, 7));
        a->events = to_i64(db_value(res, row, 8));
        a->has_log = to_i64(db_value(res, row, 9)) != 0;
        return 0;
}

typedef struct BeginArgs {
        int64_t machine_id, now;
        AttemptKind kind;
        const char *profile, *token;
        int64_t id; /* out */
} BeginArgs;

static int begin_tx(Store *s, void *userdata) {
        BeginArgs *a = userdata;
        _cleanup_(db_result_done) DbResult res = {}, ins = {};
        int state, r;

        r = machine_lock(s, a->machine_id, &state, NULL, NULL);
        if (r < 0)
                return r;
        r = SQ(s, "SELECT COALESCE(MAX(number), 0) + 1 FROM attempts WHERE machine_id = ? AND kind = ?", &res,
               num(a->machine_id).s, kind_to_string(a->kind));
        if (r < 0)
                return r;
        r = SQ(s,
               "INSERT INTO attempts (machine_id, number, kind, profile, token_sha256, started)"
               " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
               &ins, num(a->machine_id).s, db_value(&res, 0, 0), kind_to_string(a->kind), a->profile, a->token,
               num(a->now).s);
        if (r == -EEXIST)
                return store_fail(s, r, "an attempt with this token exists already");
        if (r < 0)
                return r;
        if (ins.n_rows != 1)
                return store_fail(s, -EIO, "INSERT ... RETURNING returned no id");
        a->id = to_i64(db_value(&ins, 0, 0));

        r = SQ(s,
               "UPDATE machines SET current_install = ?, last_seen = ?, phase = NULL, phase_seq = 0,"
               " last_error = NULL, error_seq = 0, progress_done = 0, progress_total = 0, progress_rate = 0,"
               " progress_eta = -1, progress_time = 0, progress_seq = 0 WHERE id = ?",
               NULL, num(a->id).s, num(a->now).s, num(a->machine_id).s);
        if (r < 0)
                return r;
        if (a->kind == ATTEMPT_INSTALL) {
                r = machine_set_state(s, a->machine_id, MACHINE_INSTALLING, state, NULL, NULL, a->now);
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_attempt_begin(Store *s, int64_t machine_id, AttemptKind kind, const char *profile,
                        const char *token_sha256_hex, int64_t now, int64_t *ret_attempt_id) {
        BeginArgs a = { .machine_id = machine_id, .now = now, .kind = kind, .profile = profile,
                        .token = token_sha256_hex };
        int r;

        if (!token_sha256_hex || !*token_sha256_hex)
                return store_fail(s, -EINVAL, "an attempt needs a token hash");
        r = store_tx(s, begin_tx, &a);
        if (r < 0)
                return r;
        if (ret_attempt_id)
                *ret_attempt_id = a.id;
        return 0;
}

int store_attempt_by_token(Store *s, const char *token_sha256_hex, Attempt *ret, char **ret_token_hash) {
        _cleanup_(db_result_done) DbResult res = {};
        int r;

        if (!token_sha256_hex)
                return store_fail(s, -ENOENT, "no token");
        r = SQ(s, "SELECT " ATTEMPT_COLUMNS " FROM attempts a WHERE a.token_sha256 = ?", &res, token_sha256_hex);
        if (r < 0)
                return r;
        if (res.n_rows == 0)
                return store_fail(s, -ENOENT, "unknown token");
        if (ret_token_hash) {
                *ret_token_hash = strdup(db_value(&res, 0, 10));
                if (!*ret_token_hash)
                        return -ENOMEM;
        }
        if (ret) {
                r = attempt_from_row(&res, 0, ret);
                if (r < 0 && ret_token_hash) {
                        free(*ret_token_hash);
                        *ret_token_hash = NULL;
                }
                return r;
        }
        return 0;
}

int store_attempt_list(Store *s, int64_t machine_id, Attempt **ret, size_t *ret_n) {
        _cleanup_(db_result_done) DbResult res = {};
        Attempt *l;
        int r;

        r = SQ(s, "SELECT " ATTEMPT_COLUMNS " FROM attempts a WHERE a.machine_id = ? ORDER BY a.id", &res,
               num(machine_id).s);
        if (r < 0)
                return r;
        l = new0(Attempt, res.n_rows + 1);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < res.n_rows; i++) {
                r = attempt_from_row(&res, i, &l[i]);
                if (r < 0) {
                        attempt_list_free(l, i);
                        return r;
                }
        }
        *ret = l;
        *ret_n = res.n_rows;
        return 0;
}

/* --- events --------------------------------------------------------------- */

typedef struct EventsArgs {
        int64_t attempt_id, now;
        const IntakeEvent *ev;
        size_t n;
        bool *fresh;     /* per event: stored by this call */
        size_t n_new;    /* out */
} EventsArgs;

/* "INSERT INTO events ... VALUES (7 parameters) x k ... RETURNING seq",
 * made once per k and kept (k is one of a few sizes, so that the prepared
 * statements stay few). */
static int events_insert_sql(Store *s, size_t k, const char **ret) {
        size_t slot = k == EVENTS_PER_INSERT ? 0 : k == 16 ? 1 : k == 4 ? 2 : 3;
        if (!s->events_sql[slot]) {
                StrBuf b = {};
                int r = strbuf_append(&b, "INSERT INTO events (attempt_id, seq, received, time, phase, type, json)"
                                          " VALUES ");
                for (size_t j = 0; r >= 0 && j < k; j++)
                        r = strbuf_append(&b, j == 0 ? "(?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?)");
                if (r >= 0)
                        r = strbuf_append(&b, " ON CONFLICT (attempt_id, seq) DO NOTHING RETURNING seq");
                if (r < 0) {
                        strbuf_done(&b);
                        return -ENOMEM;
                }
                s->events_sql[slot] = strbuf_steal(&b);
                if (!s->events_sql[slot])
                        return -ENOMEM;
        }
        *ret = s->events_sql[slot];
        return 0;
}

static bool is_run_finish(const IntakeEvent *e, AttemptKind kind) {
        if (!streq_lit(e->type, "finish") || !e->phase)
                return false;
        return streq(e->phase, "install") || (kind == ATTEMPT_DISCOVER && streq(e->phase, "discover"));
}

/* The installed system's hostname, from the installer's "configure" start
 * event: its message is "hostname NAME, N users" (installer/install/
 * configure.c). NULL when the message has another shape or the name is not
 * a hostname (letters, digits, '-' and '.', at most 253). */
static char *configure_hostname(const char *message) {
        const char *p = startswith(message, "hostname ");
        size_t n;

        if (!p)
                return NULL;
        n = strcspn(p, ", ");
        if (n == 0 || n > 253 || strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") < n)
                return NULL;
        return strndup(p, n);
}

static int events_tx(Store *s, void *userdata) {
        EventsArgs *a = userdata;
        _cleanup_(db_result_done) DbResult m = {}, at = {};
        const IntakeEvent *phase = NULL, *error = NULL, *progress = NULL, *finish = NULL, *configure = NULL;
        int64_t machine_id, current, phase_seq, error_seq, progress_seq;
        AttemptKind kind;
        int state, prior, r;

        a->n_new = 0;
        /* The machine's row lock first, as everywhere (see the top). */
        r = SQ(s,
               "SELECT m.id, m.state, m.current_install, m.phase_seq, m.error_seq, m.progress_seq, m.prior_state"
               " FROM machines m"
               " WHERE m.id = (SELECT a.machine_id FROM attempts a WHERE a.id = ?) FOR UPDATE",
               &m, num(a->attempt_id).s);
        if (r < 0)
                return r;
        if (m.n_rows == 0)
                return store_fail(s, -ENOENT, "no attempt %" PRId64, a->attempt_id);
        machine_id = to_i64(db_value(&m, 0, 0));
        state = machine_state_from_string(db_value(&m, 0, 1));
        current = to_i64(db_value(&m, 0, 2));
        phase_seq = to_i64(db_value(&m, 0, 3));
        error_seq = to_i64(db_value(&m, 0, 4));
        progress_seq = to_i64(db_value(&m, 0, 5));
        prior = machine_state_from_string(db_value(&m, 0, 6));

        r = SQ(s, "SELECT kind, finished FROM attempts WHERE id = ?", &at, num(a->attempt_id).s);
        if (r < 0)
                return r;
        if (at.n_rows == 0)
                return store_fail(s, -ENOENT, "no attempt %" PRId64, a->attempt_id);
        kind = streq_ptr(db_value(&at, 0, 0), "discover") ? ATTEMPT_DISCOVER : ATTEMPT_INSTALL;

        for (size_t i = 0; i < a->n; i++) {
                const IntakeEvent *e = &a->ev[i];
                a->fresh[i] = false;
                if (e->seq < 1 || !e->type || !e->json)
                        return store_fail(s, -EINVAL, "event %zu: no seq, type or text", i);
        }
        /* Many rows per INSERT (one round trip to PostgreSQL for up to
         * EVENTS_PER_INSERT events); RETURNING says which were new. */
        for (size_t i = 0; i < a->n;) {
                size_t left = a->n - i;
                size_t k = left >= EVENTS_PER_INSERT ? EVENTS_PER_INSERT : left >= 16 ? 16 : left >= 4 ? 4 : 1;
                _cleanup_(db_result_done) DbResult ins = {};
                const char *params[EVENTS_PER_INSERT * 7];
                Num nums[EVENTS_PER_INSERT * 2];
                Num aid = num(a->attempt_id), now = num(a->now);
                const char *sql;

                r = events_insert_sql(s, k, &sql);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < k; j++) {
                        const IntakeEvent *e = &a->ev[i + j];
                        nums[2 * j] = num(e->seq);
                        nums[2 * j + 1] = num(e->time);
                        params[7 * j] = aid.s;
                        params[7 * j + 1] = nums[2 * j].s;
                        params[7 * j + 2] = now.s;
                        params[7 * j + 3] = nums[2 * j + 1].s;
                        params[7 * j + 4] = e->phase;
                        params[7 * j + 5] = e->type;
                        params[7 * j + 6] = e->json;
                }
                r = sq(s, sql, params, 7 * k, &ins);
                if (r < 0)
                        return r;
                /* Each seq returned is one new row: the first event of this
                 * chunk with that seq (a batch may repeat one). */
                for (size_t row = 0; row < ins.n_rows; row++) {
                        int64_t seq = to_i64(db_value(&ins, row, 0));
                        for (size_t j = i; j < i + k; j++)
                                if (a->ev[j].seq == seq && !a->fresh[j]) {
                                        a->fresh[j] = true;
                                        break;
                                }
                }
                i += k;
        }
        for (size_t i = 0; i < a->n; i++) {
                const IntakeEvent *e = &a->ev[i];
                if (!a->fresh[i])
                        continue; /* a duplicate */
                a->n_new++;

                /* The newest of each kind among the new events. */
                if (streq(e->type, "start") && e->phase && (!phase || e->seq > phase->seq))
                        phase = e;
                if (streq(e->type, "error") && e->message && (!error || e->seq > error->seq))
                        error = e;
                if ((streq(e->type, "progress") || streq(e->type, "start")) &&
                    (!progress || e->seq > progress->seq))
                        progress = e;
                if (is_run_finish(e, kind) && (!finish || e->seq > finish->seq))
                        finish = e;
                if (streq(e->type, "start") && streq_lit(e->phase, "configure") && e->message &&
                    (!configure || e->seq > configure->seq))
                        configure = e;
        }
        if (a->n_new == 0)
                return 0;

        r = SQ(s, "UPDATE attempts SET events = events + ? WHERE id = ?", NULL, num((int64_t) a->n_new).s,
               num(a->attempt_id).s);
        if (r < 0)
                return r;

        /* The machine shows its current attempt; older events than those
         * already shown (a late batch) do not replace them. */
        if (current == a->attempt_id) {
                if (phase && phase->seq > phase_seq) {
                        r = SQ(s, "UPDATE machines SET phase = ?, phase_seq = ? WHERE id = ?", NULL, phase->phase,
                               num(phase->seq).s, num(machine_id).s);
                        if (r < 0)
                                return r;
                }
                if (error && error->seq > error_seq) {
                        r = SQ(s, "UPDATE machines SET last_error = ?, error_seq = ? WHERE id = ?", NULL,
                               error->message, num(error->seq).s, num(machine_id).s);
                        if (r < 0)
                                return r;
                }
                _cleanup_free_ char *hostname = configure ? configure_hostname(configure->message) : NULL;
                if (hostname) {
                        r = SQ(s, "UPDATE machines SET hostname = ? WHERE id = ?", NULL, hostname,
                               num(machine_id).s);
                        if (r < 0)
                                return r;
                }
                if (progress && progress->seq > progress_seq) {
                        /* A phase that starts has no progress yet. */
                        bool p = streq(progress->type, "progress");
                        r = SQ(s,
                               "UPDATE machines SET progress_done = ?, progress_total = ?, progress_rate = ?,"
                               " progress_eta = ?, progress_time = ?, progress_seq = ? WHERE id = ?",
                               NULL, num(p ? progress->progress_done : 0).s, num(p ? progress->progress_total : 0).s,
                               dbl(p ? progress->progress_rate : 0).s, dbl(p ? progress->progress_eta : -1).s,
                               num(p ? a->now : 0).s, num(progress->seq).s, num(machine_id).s);
                        if (r < 0)
                                return r;
                }
        }
        r = SQ(s, "UPDATE machines SET last_seen = ? WHERE id = ? AND last_seen < ?", NULL, num(a->now).s,
               num(machine_id).s, num(a->now).s);
        if (r < 0)
                return r;

        if (finish) {
                int status = finish->exit_status >= 0 ? finish->exit_status
                                                      : streq_lit(finish->result, "ok") ? 0
                                                                                        : 1;
                r = SQ(s, "UPDATE attempts SET finished = ?, exit_status = ? WHERE id = ?", NULL, num(a->now).s,
                       num(status).s, num(a->attempt_id).s);
                if (r < 0)
                        return r;
                /* Only the install the machine is waiting for moves it; a
                 * discover run, an old attempt (superseded by a reboot or an
                 * operator) or a held machine stay as they are. */
                if (kind == ATTEMPT_INSTALL && state == MACHINE_INSTALLING && current == a->attempt_id) {
                        r = machine_set_state(s, machine_id, status == 0 ? MACHINE_INSTALLED : MACHINE_FAILED,
                                              state, NULL, NULL, a->now);
                        if (r < 0)
                                return r;
                }
                /* Held while this install ran: it stays held, but what it
                 * goes back to on release is the outcome, not "installing"
                 * (which would install it again at its next boot). */
                if (kind == ATTEMPT_INSTALL && state == MACHINE_HELD && prior == MACHINE_INSTALLING &&
                    current == a->attempt_id) {
                        r = SQ(s, "UPDATE machines SET prior_state = ? WHERE id = ?", NULL,
                               machine_state_to_string(status == 0 ? MACHINE_INSTALLED : MACHINE_FAILED),
                               num(machine_id).s);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int store_events_add(Store *s, int64_t attempt_id, const IntakeEvent *ev, size_t n, int64_t now, size_t *ret_new) {
        _cleanup_free_ bool *fresh = new0(bool, n + 1);
        EventsArgs a = { .attempt_id = attempt_id, .now = now, .ev = ev, .n = n, .fresh = fresh };
        int r;

        if (!fresh)
                return -ENOMEM;
        r = store_tx(s, events_tx, &a);
        if (r < 0)
                return r;
        if (ret_new)
                *ret_new = a.n_new;
        return 0;
}

void stored_event_list_free(StoredEvent *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].phase);
                free(l[i].type);
                free(l[i].json);
        }
        free(l);
}

int store_events_list(Store *s, int64_t attempt_id, int64_t after_seq, size_t limit, StoredEvent **ret,
                      size_t *ret_n) {
        _cleanup_(db_result_done) DbResult res = {};
        StoredEvent *l;
        int r;

        r = SQ(s,
               "SELECT seq, received, time, phase, type, json FROM events WHERE attempt_id = ? AND seq > ?"
               " ORDER BY seq LIMIT CAST(? AS BIGINT)",
               &res, num(attempt_id).s, num(after_seq).s,
               num(limit == 0 || limit > INT64_MAX ? INT64_MAX : (int64_t) limit).s);
        if (r < 0)
                return r;
        l = new0(StoredEvent, res.n_rows + 1);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < res.n_rows; i++) {
                l[i].seq = to_i64(db_value(&res, i, 0));
                l[i].received = to_i64(db_value(&res, i, 1));
                l[i].time = to_i64(db_value(&res, i, 2));
                if (dup_or_null(db_value(&res, i, 3), &l[i].phase) < 0 ||
                    dup_or_null(db_value(&res, i, 4), &l[i].type) < 0 ||
                    dup_or_null(db_value(&res, i, 5), &l[i].json) < 0) {
                        stored_event_list_free(l, i + 1);
                        return -ENOMEM;
                }
        }
        *ret = l;
        *ret_n = res.n_rows;
        return 0;
}

/* --- inventories and logs ------------------------------------------------- */

/* The "hostname" member of an inventory, when it has a non-empty one. */
static char *inventory_hostname(const char *json) {
        json_error_t err;
        json_t *root = json_loads(json, 0, &err);
        char *h = NULL;

        if (!root)
                return NULL;
        json_t *v = json_is_object(root) ? json_object_get(root, "hostname") : NULL;
        if (json_is_string(v) && json_string_length(v) > 0 && !memchr(json_string_value(v), 0, json_string_length(v)))
                h = strdup(json_string_value(v));
        json_decref(root);
        return h;
}

typedef struct InventoryArgs {
        int64_t machine_id, attempt_id, now;
        const char *json, *hostname;
} InventoryArgs;

static int inventory_tx(Store *s, void *userdata) {
        const InventoryArgs *a = userdata;
        int r;

        r = machine_lock(s, a->machine_id, NULL, NULL, NULL);
        if (r < 0)
                return r;
        r = SQ(s,
               "INSERT INTO inventories (machine_id, attempt_id, received, json) VALUES (?, ?, ?, ?)"
               " ON CONFLICT (machine_id) DO UPDATE SET attempt_id = excluded.attempt_id,"
               " received = excluded.received, json = excluded.json",
               NULL, num(a->machine_id).s, a->attempt_id > 0 ? num(a->attempt_id).s : NULL, num(a->now).s, a->json);
        if (r < 0)
                return r;
        if (a->hostname) {
                r = SQ(s, "UPDATE machines SET hostname = ? WHERE id = ?", NULL, a->hostname, num(a->machine_id).s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_inventory_set(Store *s, int64_t machine_id, int64_t attempt_id, const char *json, int64_t now) {
        _cleanup_free_ char *hostname = NULL;

        if (!json)
                return store_fail(s, -EINVAL, "no inventory");
        hostname = inventory_hostname(json);
        InventoryArgs a = { .machine_id = machine_id, .attempt_id = attempt_id, .now = now, .json = json,
                            .hostname = hostname };
        return store_tx(s, inventory_tx, &a);
}

int store_inventory_get(Store *s, int64_t machine_id, char **ret_json) {
        _cleanup_(db_result_done) DbResult res = {};
        int r = SQ(s, "SELECT json FROM inventories WHERE machine_id = ?", &res, num(machine_id).s);
        if (r < 0)
                return r;
        if (res.n_rows == 0)
                return store_fail(s, -ENOENT, "machine %" PRId64 " has no inventory", machine_id);
        *ret_json = strdup(db_value(&res, 0, 0));
        return *ret_json ? 0 : -ENOMEM;
}

typedef struct LogArgs {
        int64_t attempt_id, now, size;
        const char *text;
} LogArgs;

static int log_tx(Store *s, void *userdata) {
        const LogArgs *a = userdata;
        _cleanup_(db_result_done) DbResult res = {};
        int r;

        r = SQ(s, "SELECT machine_id FROM attempts WHERE id = ?", &res, num(a->attempt_id).s);
        if (r < 0)
                return r;
        if (res.n_rows == 0)
                return store_fail(s, -ENOENT, "no attempt %" PRId64, a->attempt_id);
        r = machine_lock(s, to_i64(db_value(&res, 0, 0)), NULL, NULL, NULL);
        if (r < 0)
                return r;
        r = SQ(s,
               "INSERT INTO logs (attempt_id, received, size, body) VALUES (?, ?, ?, ?)"
               " ON CONFLICT (attempt_id) DO UPDATE SET received = excluded.received, size = excluded.size,"
               " body = excluded.body",
               NULL, num(a->attempt_id).s, num(a->now).s, num(a->size).s, a->text);
        return r < 0 ? r : 0;
}

int store_log_set(Store *s, int64_t attempt_id, const char *text, size_t size, int64_t now) {
        _cleanup_free_ char *copy = NULL, *fixed = NULL;
        bool oom;

        if (!text && size > 0)
                return store_fail(s, -EINVAL, "no log");
        /* Neither backend keeps NUL in text, PostgreSQL no invalid UTF-8:
         * both become U+FFFD (db_utf8_fix treats NUL as invalid). */
        fixed = db_utf8_fix(text ? text : "", size, &oom);
        if (oom)
                return -ENOMEM;
        if (!fixed) {
                copy = strndup(text ? text : "", size);
                if (!copy)
                        return -ENOMEM;
        }
        LogArgs a = { .attempt_id = attempt_id, .now = now, .size = (int64_t) size, .text = fixed ? fixed : copy };
        return store_tx(s, log_tx, &a);
}

int store_log_get(Store *s, int64_t attempt_id, char **ret_text, size_t *ret_size) {
        _cleanup_(db_result_done) DbResult res = {};
        int r = SQ(s, "SELECT body FROM logs WHERE attempt_id = ?", &res, num(attempt_id).s);
        if (r < 0)
                return r;
        if (res.n_rows == 0)
                return store_fail(s, -ENOENT, "attempt %" PRId64 " has no log", attempt_id);
        *ret_text = strdup(db_value(&res, 0, 0));
        if (!*ret_text)
                return -ENOMEM;
        if (ret_size)
                *ret_size = strlen(*ret_text);
        return 0;
}

/* --- settings and audit --------------------------------------------------- */

int store_setting_get(Store *s, const char *key, char **ret) {
        _cleanup_(db_result_done) DbResult res = {};
        int r = SQ(s, "SELECT value FROM settings WHERE key = ?", &res, key);
        if (r < 0)
                return r;
        if (res.n_rows == 0)
                return store_fail(s, -ENOENT, "no setting %s", key);
        *ret = strdup(db_value(&res, 0, 0));
        return *ret ? 0 : -ENOMEM;
}

int store_setting_set(Store *s, const char *key, const char *value) {
        int r = SQ(s,
                   "INSERT INTO settings (key, value) VALUES (?, ?)"
                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   NULL, key, value);
        return r < 0 ? r : 0;
}

int store_setting_init(Store *s, const char *key, const char *value) {
        int r = SQ(s, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", NULL, key,
                   value);
        return r < 0 ? r : r > 0;
}

void audit_list_free(AuditEntry *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].actor);
                free(l[i].action);
                free(l[i].detail);
        }
        free(l);
}

int store_audit_add(Store *s, int64_t machine_id, const char *actor, const char *action, const char *detail,
                    int64_t now) {
        if (!action)
                return store_fail(s, -EINVAL, "an audit entry needs an action");
        return audit_insert(s, machine_id, actor, action, detail, now);
}

int store_audit_list(Store *s, int64_t machine_id, AuditEntry **ret, size_t *ret_n) {
        _cleanup_(db_result_done) DbResult res = {};
        AuditEntry *l;
        int r;

        r = SQ(s,
               "SELECT time, machine_id, actor, action, detail FROM audit"
               " WHERE machine_id = ? OR CAST(? AS BIGINT) = 0 ORDER BY id",
               &res, num(machine_id).s, num(machine_id).s);
        if (r < 0)
                return r;
        l = new0(AuditEntry, res.n_rows + 1);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < res.n_rows; i++) {
                l[i].time = to_i64(db_value(&res, i, 0));
                l[i].machine_id = to_i64(db_value(&res, i, 1));
                if (dup_or_null(db_value(&res, i, 2), &l[i].actor) < 0 ||
                    dup_or_null(db_value(&res, i, 3), &l[i].action) < 0 ||
                    dup_or_null(db_value(&res, i, 4), &l[i].detail) < 0) {
                        audit_list_free(l, i + 1);
                        return -ENOMEM;
                }
        }
        *ret = l;
        *ret_n = res.n_rows;
        return 0;
}
