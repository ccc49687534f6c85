/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server/db.h for PostgreSQL (libpq): `?` rewritten to $n, statements
 * prepared once per connection (PQprepare) and run with text parameters and
 * text results (PQexecPrepared). */
#include "db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strutil.h"

typedef struct PgStmt {
        char *sql;      /* as the caller wrote it: the cache key */
        char name[24];
} PgStmt;

typedef struct DbPg {
        Db db; /* first: a Db * is a DbPg * */
        PGconn *conn;
        PgStmt *cache;
        size_t n_cache;
        unsigned next_name;
} DbPg;

static void pg_quiet(void *arg, const char *message) {
        /* "relation ... already exists, skipping" and such: not for stderr. */
}

static void pg_drop_cache(DbPg *d) {
        for (size_t i = 0; i < d->n_cache; i++)
                free(d->cache[i].sql);
        free(d->cache);
        d->cache = NULL;
        d->n_cache = 0;
}

static void pg_close(Db *db) {
        DbPg *d = (DbPg *) db;
        pg_drop_cache(d);
        PQfinish(d->conn);
        free(d);
}

/* The error of a result (or the connection's) as -errno, the message
 * recorded. */
static int pg_fail(DbPg *d, PGresult *res, const char *what) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *msg = res ? PQresultErrorMessage(res) : NULL;

        if (!msg || !*msg)
                msg = PQerrorMessage(d->conn);
        db_set_error(&d->db, "PostgreSQL: %s: %s", what, msg && *msg ? msg : "unknown error");
        if (!state)
                return -EIO;
        if (streq(state, "40001") || streq(state, "40P01") || streq(state, "55P03"))
                return -EAGAIN;
        if (streq(state, "23505"))
                return -EEXIST;
        return -EIO;
}

/* sql with every `?` outside quotes and comments replaced by $1, $2, ... */
static char *pg_rewrite(const char *sql, size_t *ret_n) {
        size_t len = strlen(sql), n = 0;
        char *out = malloc(len * 6 + 1), *o = out; /* "?" -> "$12345" at most */
        char quote = 0;

        if (!out)
                return NULL;
        for (const char *p = sql; *p; p++) {
                if (quote) {
                        if (*p == quote)
                                quote = 0; /* '' and "" are two quoted strings back to back: fine */
                        *o++ = *p;
                } else if (*p == '\'' || *p == '"') {
                        quote = *p;
                        *o++ = *p;
                } else if (p[0] == '-' && p[1] == '-') {
                        while (*p && *p != '\n')
                                *o++ = *p++;
                        if (!*p)
                                break;
                        *o++ = *p;
                } else if (*p == '?') {
                        o += sprintf(o, "$%zu", ++n);
                } else
                        *o++ = *p;
        }
        *o = 0;
        *ret_n = n;
        return out;
}

static int pg_prepare(DbPg *d, const char *sql, size_t n_params, const char **ret_name) {
        for (size_t i = 0; i < d->n_cache; i++)
                if (streq(d->cache[i].sql, sql)) {
                        *ret_name = d->cache[i].name;
                        return 0;
                }

        size_t n;
        _cleanup_free_ char *text = pg_rewrite(sql, &n);
        if (!text) {
                db_set_error(&d->db, "out of memory");
                return -ENOMEM;
        }
        if (n != n_params) {
                db_set_error(&d->db, "PostgreSQL: %zu parameters for %zu placeholders", n_params, n);
                return -EINVAL;
        }
        PgStmt *c = realloc(d->cache, (d->n_cache + 1) * sizeof(PgStmt));
        if (!c) {
                db_set_error(&d->db, "out of memory");
                return -ENOMEM;
        }
        d->cache = c;
        PgStmt *s = &d->cache[d->n_cache];
        s->sql = strdup(sql);
        if (!s->sql) {
                db_set_error(&d->db, "out of memory");
                return -ENOMEM;
        }
        snprintf(s->name, sizeof(s->name), "site_%u", d->next_name++);

        PGresult *res = PQprepare(d->conn, s->name, text, (int) n, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                int r = pg_fail(d, res, "preparing a statement");
                PQclear(res);
                free(s->sql);
                return r;
        }
        PQclear(res);
        d->n_cache++;
        *ret_name = s->name;
        return 0;
}

static int pg_exec(Db *db, const char *sql, const char *const *params, size_t n_params, DbResult *ret) {
        DbPg *d = (DbPg *) db;
        const char *name = NULL;
        PGresult *res;
        int r;

        /* A connection lost between two transactions comes back here (the
         * server restarted); one lost inside a transaction fails it. */
        if (PQstatus(d->conn) == CONNECTION_BAD) {
                PQreset(d->conn);
                pg_drop_cache(d);
                if (PQstatus(d->conn) == CONNECTION_BAD)
                        return pg_fail(d, NULL, "reconnecting");
        }
        if (n_params > INT_MAX)
                return -E2BIG;

        /* Outside a transaction, a statement that finds the connection
         * gone (the server restarted since the last one) runs once more on
         * a new connection. Inside one, the transaction fails. */
        bool idle = PQtransactionStatus(d->conn) == PQTRANS_IDLE;
        for (unsigned tries = 0;; tries++) {
                r = pg_prepare(d, sql, n_params, &name);
                if (r >= 0) {
                        res = PQexecPrepared(d->conn, name, (int) n_params, params, NULL, NULL, 0);
                        ExecStatusType st = PQresultStatus(res);
                        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
                                break;
                        r = pg_fail(d, res, "running a statement");
                        PQclear(res);
                }
                if (!idle || tries > 0 || PQstatus(d->conn) != CONNECTION_BAD)
                        return r;
                PQreset(d->conn);
                pg_drop_cache(d);
                if (PQstatus(d->conn) == CONNECTION_BAD)
                        return pg_fail(d, NULL, "reconnecting");
        }

        if (ret && PQnfields(res) > 0) {
                size_t rows = (size_t) PQntuples(res), cols = (size_t) PQnfields(res);
                char **cells = rows > 0 ? calloc(rows * cols, sizeof(char *)) : NULL;
                if (rows > 0 && !cells)
                        goto oom;
                *ret = (DbResult) { .n_rows = rows, .n_cols = cols, .cells = cells };
                for (size_t i = 0; i < rows; i++)
                        for (size_t j = 0; j < cols; j++) {
                                if (PQgetisnull(res, (int) i, (int) j))
                                        continue;
                                cells[i * cols + j] = strdup(PQgetvalue(res, (int) i, (int) j));
                                if (!cells[i * cols + j]) {
                                        db_result_done(ret);
                                        goto oom;
                                }
                        }
        }
        {
                const char *t = PQcmdTuples(res);
                long long ch = t && *t ? strtoll(t, NULL, 10) : 0;
                r = ch > INT_MAX ? INT_MAX : ch < 0 ? 0 : (int) ch;
        }
        /* A SELECT's count is its rows: only DML counts as changes. */
        {
                const char *st = PQcmdStatus(res);
                if (!startswith(st, "INSERT") && !startswith(st, "UPDATE") && !startswith(st, "DELETE"))
                        r = 0;
        }
        PQclear(res);
        return r;
oom:
        PQclear(res);
        db_set_error(db, "out of memory");
        return -ENOMEM;
}

static int pg_begin(Db *db) {
        return db_exec(db, "BEGIN", NULL, 0, NULL);
}

static int pg_lock(Db *db, int64_t key) {
        char k[24];
        snprintf(k, sizeof(k), "%lld", (long long) key);
        return db_exec(db, "SELECT pg_advisory_xact_lock(CAST(? AS BIGINT))", DB_PARAMS(k), NULL);
}

static const DbOps pg_ops = {
        .name = "postgresql",
        .close = pg_close,
        .exec = pg_exec,
        .begin = pg_begin,
        .lock = pg_lock,
        .serial_primary_key = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
};

int db_pg_open(const char *conninfo, Db **ret, char **ret_error) {
        DbPg *d = new0(DbPg, 1);
        int r;

        if (!d)
                return -ENOMEM;
        d->db.ops = &pg_ops;
        d->conn = PQconnectdb(conninfo);
        if (!d->conn) {
                free(d);
                return -ENOMEM;
        }
        if (PQstatus(d->conn) != CONNECTION_OK) {
                /* libpq's message names the host/socket and user, never the
                 * password. */
                if (ret_error)
                        *ret_error = strprintf("PostgreSQL: cannot connect: %s", PQerrorMessage(d->conn));
                if (ret_error && *ret_error) {
                        size_t l = strlen(*ret_error);
                        while (l > 0 && (*ret_error)[l - 1] == '\n')
                                (*ret_error)[--l] = 0;
                }
                pg_close(&d->db);
                return -EIO;
        }
        PQsetNoticeProcessor(d->conn, pg_quiet, NULL);
        r = db_exec(&d->db, "SET client_min_messages = warning", NULL, 0, NULL);
        if (r >= 0)
                r = db_exec(&d->db, "SET TIME ZONE 'UTC'", NULL, 0, NULL);
        if (r < 0) {
                if (ret_error)
                        *ret_error = strdup(db_error(&d->db));
                db_close(&d->db);
                return r;
        }
        *ret = &d->db;
        return 0;
}
