/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The database edge of the store (server/store.c): one small interface over
 * SQLite (db-sqlite.c) and PostgreSQL (db-pg.c, libpq), so that the store's
 * SQL is written once.
 *
 * SQL: parameters are written as `?` and passed as text (NULL = SQL NULL);
 * the PostgreSQL driver rewrites them to $1..$n (outside quotes and
 * comments), SQLite binds them as text and lets column affinity convert
 * (write CAST(? AS BIGINT) where no column gives the type, e.g. LIMIT).
 * Parameters must be UTF-8: invalid bytes are replaced by U+FFFD before they
 * reach either backend (PostgreSQL refuses them, so both store the same).
 * A statement ending in " FOR UPDATE" takes row locks in PostgreSQL; the
 * SQLite driver drops the clause (its writers are serialised by
 * db_begin()'s BEGIN IMMEDIATE, which is the same guarantee).
 * Statements are prepared once per connection and cached by their text.
 *
 * Errors (every call returns >= 0 or -errno; the message from db_error()):
 *   -EAGAIN  the transaction lost a race (SQLITE_BUSY/LOCKED after the busy
 *            timeout, PostgreSQL serialization failure or deadlock): roll
 *            back and run the whole transaction again
 *   -EEXIST  a UNIQUE or PRIMARY KEY constraint refused a row
 *   -ENOMEM
 *   -EIO     anything else (the message says what)
 * Messages never contain the URL or a password. A Db is one connection and
 * is not thread-safe. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Db Db;

typedef struct DbResult {
        size_t n_rows, n_cols;
        char **cells;           /* n_rows * n_cols, row-major; NULL = SQL NULL */
} DbResult;

/* "sqlite:PATH", "sqlite://PATH" or a plain PATH: SQLite, the file created
 * (mode 0600) when missing, its directory must exist; WAL, foreign keys on,
 * a 10 s busy timeout. "postgresql://..." or "postgres://..." (a libpq URI),
 * or "postgresql:" followed by a libpq "key=value ..." string: PostgreSQL.
 * *ret_error (may be NULL) gets a message on failure. */
int db_open(const char *url, Db **ret, char **ret_error);
void db_close(Db *db);
const char *db_backend(const Db *db); /* "sqlite" or "postgresql" */
const char *db_error(const Db *db);

/* Run one statement. ret (may be NULL) gets the rows (SELECT, RETURNING).
 * Returns the number of rows the statement changed (INSERT, UPDATE,
 * DELETE; 0 for others), capped at INT_MAX. */
int db_exec(Db *db, const char *sql, const char *const *params, size_t n_params, DbResult *ret);
#define DB_PARAMS(...) (const char *const[]){ __VA_ARGS__ }, (sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

/* A write transaction: SQLite BEGIN IMMEDIATE (the write lock is taken at
 * once, so it cannot fail later with a busy upgrade), PostgreSQL BEGIN (READ
 * COMMITTED; take row locks with SELECT ... FOR UPDATE). */
int db_begin(Db *db);
int db_commit(Db *db);
int db_rollback(Db *db); /* never fails the caller: errors are only recorded */
/* A lock held until the end of the transaction: PostgreSQL
 * pg_advisory_xact_lock(key); SQLite: nothing (BEGIN IMMEDIATE already
 * serialises). For schema creation by servers starting at once. */
int db_lock(Db *db, int64_t key);

/* The column type of an automatically numbered primary key, for CREATE
 * TABLE: ids are never reused after a DELETE. */
const char *db_serial_primary_key(const Db *db);

void db_result_done(DbResult *r);
static inline const char *db_value(const DbResult *r, size_t row, size_t col) {
        return r->cells[row * r->n_cols + col];
}

/* --- for the drivers only ------------------------------------------------- */
typedef struct DbOps {
        const char *name;
        void (*close)(Db *db);
        int (*exec)(Db *db, const char *sql, const char *const *params, size_t n_params, DbResult *ret);
        int (*begin)(Db *db);
        int (*lock)(Db *db, int64_t key);
        const char *serial_primary_key;
} DbOps;

struct Db {
        const DbOps *ops;
        char *error;
};

int db_sqlite_open(const char *path, Db **ret, char **ret_error);
int db_pg_open(const char *conninfo, Db **ret, char **ret_error);
void db_set_error(Db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A copy of s with invalid UTF-8 replaced by U+FFFD, or NULL when s is valid
 * UTF-8 (then use s itself). *ret_oom set on allocation failure. */
char *db_utf8_fix(const char *s, size_t len, bool *ret_oom);
