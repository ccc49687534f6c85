/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server/db.h for SQLite: one file, WAL, foreign keys, a 10 s busy timeout,
 * statements prepared once and cached by their text. */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/strutil.h"

#define SQLITE_BUSY_TIMEOUT_MS 10000

typedef struct CachedStmt {
        char *sql;
        sqlite3_stmt *stmt;
} CachedStmt;

typedef struct DbSqlite {
        Db db; /* first: a Db * is a DbSqlite * */
        sqlite3 *conn;
        CachedStmt *cache;
        size_t n_cache;
} DbSqlite;

static int sqlite_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EAGAIN;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_CONSTRAINT:
                if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                        return -EEXIST;
                return -EIO;
        default:
                return -EIO;
        }
}

static int sqlite_fail(DbSqlite *d, int rc, const char *what) {
        db_set_error(&d->db, "SQLite: %s: %s", what, sqlite3_errmsg(d->conn));
        return sqlite_errno(sqlite3_extended_errcode(d->conn) ? sqlite3_extended_errcode(d->conn) : rc);
}

static void sqlite_close(Db *db) {
        DbSqlite *d = (DbSqlite *) db;
        for (size_t i = 0; i < d->n_cache; i++) {
                sqlite3_finalize(d->cache[i].stmt);
                free(d->cache[i].sql);
        }
        free(d->cache);
        sqlite3_close_v2(d->conn);
        free(d);
}

static int sqlite_prepare(DbSqlite *d, const char *sql, sqlite3_stmt **ret) {
        for (size_t i = 0; i < d->n_cache; i++)
                if (streq(d->cache[i].sql, sql)) {
                        *ret = d->cache[i].stmt;
                        return 0;
                }

        /* Row locks are PostgreSQL's; SQLite's writers are serialised by
         * BEGIN IMMEDIATE already. */
        size_t len = strlen(sql);
        const char *fu = " FOR UPDATE";
        if (len >= strlen(fu) && streq(sql + len - strlen(fu), fu))
                len -= strlen(fu);

        sqlite3_stmt *stmt = NULL;
        int rc = sqlite3_prepare_v3(d->conn, sql, (int) len, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
        if (rc != SQLITE_OK)
                return sqlite_fail(d, rc, "preparing a statement");

        CachedStmt *c = realloc(d->cache, (d->n_cache + 1) * sizeof(CachedStmt));
        char *copy = strdup(sql);
        if (c)
                d->cache = c;
        if (!c || !copy) {
                free(copy);
                sqlite3_finalize(stmt);
                db_set_error(&d->db, "out of memory");
                return -ENOMEM;
        }
        d->cache[d->n_cache++] = (CachedStmt) { copy, stmt };
        *ret = stmt;
        return 0;
}

static int sqlite_exec(Db *db, const char *sql, const char *const *params, size_t n_params, DbResult *ret) {
        DbSqlite *d = (DbSqlite *) db;
        sqlite3_stmt *stmt = NULL;
        char **cells = NULL;
        size_t n_rows = 0, n_alloc = 0, n_cols;
        int r, rc;

        r = sqlite_prepare(d, sql, &stmt);
        if (r < 0)
                return r;

        if ((size_t) sqlite3_bind_parameter_count(stmt) != n_params) {
                db_set_error(db, "SQLite: %zu parameters for %d placeholders", n_params,
                             sqlite3_bind_parameter_count(stmt));
                return -EINVAL;
        }
        for (size_t i = 0; i < n_params; i++) {
                rc = params[i] ? sqlite3_bind_text(stmt, (int) i + 1, params[i], -1, SQLITE_STATIC)
                               : sqlite3_bind_null(stmt, (int) i + 1);
                if (rc != SQLITE_OK) {
                        r = sqlite_fail(d, rc, "binding a parameter");
                        goto finish;
                }
        }

        n_cols = (size_t) sqlite3_column_count(stmt);
        for (;;) {
                rc = sqlite3_step(stmt);
                if (rc == SQLITE_DONE)
                        break;
                if (rc != SQLITE_ROW) {
                        r = sqlite_fail(d, rc, "running a statement");
                        goto finish;
                }
                if (!ret || n_cols == 0)
                        continue;
                if (n_rows == n_alloc) {
                        size_t na = n_alloc ? n_alloc * 2 : 4;
                        char **c = realloc(cells, na * n_cols * sizeof(char *));
                        if (!c) {
                                r = -ENOMEM;
                                db_set_error(db, "out of memory");
                                goto finish;
                        }
                        cells = c;
                        n_alloc = na;
                }
                for (size_t j = 0; j < n_cols; j++) {
                        char **cell = &cells[n_rows * n_cols + j];
                        *cell = NULL;
                        if (sqlite3_column_type(stmt, (int) j) == SQLITE_NULL)
                                continue;
                        const unsigned char *t = sqlite3_column_text(stmt, (int) j);
                        *cell = strdup(t ? (const char *) t : "");
                        if (!*cell) {
                                for (size_t k = 0; k < j; k++)
                                        free(cells[n_rows * n_cols + k]);
                                r = -ENOMEM;
                                db_set_error(db, "out of memory");
                                goto finish;
                        }
                }
                n_rows++;
        }
        {
                sqlite3_int64 ch = sqlite3_stmt_readonly(stmt) ? 0 : sqlite3_changes64(d->conn);
                r = ch > INT_MAX ? INT_MAX : (int) ch;
        }
        if (ret) {
                ret->cells = TAKE_PTR(cells);
                ret->n_rows = n_rows;
                ret->n_cols = n_cols;
        }
finish:
        if (cells) {
                for (size_t i = 0; i < n_rows * n_cols; i++)
                        free(cells[i]);
                free(cells);
        }
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return r;
}

static int sqlite_begin(Db *db) {
        return db_exec(db, "BEGIN IMMEDIATE", NULL, 0, NULL);
}

static int sqlite_lock(Db *db, int64_t key) {
        return 0;
}

static const DbOps sqlite_ops = {
        .name = "sqlite",
        .close = sqlite_close,
        .exec = sqlite_exec,
        .begin = sqlite_begin,
        .lock = sqlite_lock,
        .serial_primary_key = "INTEGER PRIMARY KEY AUTOINCREMENT",
};

int db_sqlite_open(const char *path, Db **ret, char **ret_error) {
        DbSqlite *d;
        int fd, rc, r;

        if (!*path) {
                if (ret_error)
                        *ret_error = strdup("SQLite: no file name");
                return -EINVAL;
        }
        /* Create the file ourselves, so that it is 0600 whatever the umask
         * (SQLite gives its -wal and -shm files the same mode). */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0) {
                r = -errno;
                if (ret_error)
                        *ret_error = strprintf("SQLite: cannot open %s: %s", path, strerror(-r));
                return r;
        }
        close(fd);

        d = new0(DbSqlite, 1);
        if (!d)
                return -ENOMEM;
        d->db.ops = &sqlite_ops;
        rc = sqlite3_open_v2(path, &d->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL);
        if (rc != SQLITE_OK) {
                if (ret_error)
                        *ret_error = strprintf("SQLite: cannot open %s: %s", path,
                                               d->conn ? sqlite3_errmsg(d->conn) : sqlite3_errstr(rc));
                sqlite3_close_v2(d->conn);
                free(d);
                return -EIO;
        }
        sqlite3_extended_result_codes(d->conn, 1);
        sqlite3_busy_timeout(d->conn, SQLITE_BUSY_TIMEOUT_MS);

        static const char *const setup[] = {
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = NORMAL",
                "PRAGMA foreign_keys = ON",
        };
        for (size_t i = 0; i < ELEMENTSOF(setup); i++) {
                /* Switching a new file to WAL needs it to itself, and SQLite
                 * does not wait for that (no busy handler): servers opening
                 * one new file at once try again for up to the busy timeout. */
                for (unsigned tries = 0;; tries++) {
                        r = sqlite_exec(&d->db, setup[i], NULL, 0, NULL);
                        if (r != -EAGAIN || tries >= SQLITE_BUSY_TIMEOUT_MS / 10)
                                break;
                        struct timespec ts = { 0, 10 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                }
                if (r < 0) {
                        if (ret_error)
                                *ret_error = strprintf("%s (%s, on %s)", db_error(&d->db), setup[i], path);
                        char *e = d->db.error;
                        sqlite_close(&d->db);
                        free(e);
                        return r;
                }
        }
        *ret = &d->db;
        return 0;
}
