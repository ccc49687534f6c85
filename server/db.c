/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The backend-independent part of server/db.h: the URL, parameters, errors. */
#include "db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strutil.h"

int db_open(const char *url, Db **ret, char **ret_error) {
        const char *p;

        if (ret_error)
                *ret_error = NULL;
        if (!url || !*url) {
                if (ret_error)
                        *ret_error = strdup("no database URL");
                return -EINVAL;
        }
        if (startswith(url, "postgresql://") || startswith(url, "postgres://"))
                return db_pg_open(url, ret, ret_error);
        if ((p = startswith(url, "postgresql:")) || (p = startswith(url, "postgres:")))
                return db_pg_open(p, ret, ret_error);
        if ((p = startswith(url, "sqlite://")) || (p = startswith(url, "sqlite:")))
                return db_sqlite_open(p, ret, ret_error);
        if (strstr(url, "://")) {
                if (ret_error)
                        *ret_error = strdup("unknown database URL scheme (sqlite:PATH or postgresql://...)");
                return -EINVAL;
        }
        return db_sqlite_open(url, ret, ret_error);
}

void db_close(Db *db) {
        if (!db)
                return;
        char *e = db->error;
        db->ops->close(db);
        free(e);
}

const char *db_backend(const Db *db) {
        return db->ops->name;
}

const char *db_error(const Db *db) {
        return db->error ? db->error : "no error";
}

const char *db_serial_primary_key(const Db *db) {
        return db->ops->serial_primary_key;
}

void db_set_error(Db *db, const char *fmt, ...) {
        va_list ap;
        char *m;

        va_start(ap, fmt);
        m = strvprintf(fmt, ap);
        va_end(ap);
        if (!m)
                return; /* keep the old message rather than none */
        /* Drop a trailing newline (libpq ends its messages with one). */
        size_t l = strlen(m);
        while (l > 0 && (m[l - 1] == '\n' || m[l - 1] == ' '))
                m[--l] = 0;
        free(db->error);
        db->error = m;
}

/* The length of the valid UTF-8 sequence at s (at most len bytes), 0 when
 * it is not one. Overlong forms, surrogates and code points past U+10FFFF
 * are invalid; NUL is not accepted either (neither backend stores it). */
static size_t utf8_seq(const unsigned char *s, size_t len) {
        unsigned c = s[0];
        size_t n;
        unsigned cp, min;

        if (c == 0)
                return 0;
        if (c < 0x80)
                return 1;
        if ((c & 0xe0) == 0xc0)
                n = 2, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
                n = 3, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
                n = 4, cp = c & 0x07, min = 0x10000;
        else
                return 0;
        if (len < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

char *db_utf8_fix(const char *s, size_t len, bool *ret_oom) {
        const unsigned char *u = (const unsigned char *) s;
        size_t i = 0, k;

        *ret_oom = false;
        while (i < len && (k = utf8_seq(u + i, len - i)) > 0)
                i += k;
        if (i == len)
                return NULL;

        /* At most 3 bytes out for every byte in. */
        char *out = malloc(len * 3 + 1), *o = out;
        if (!out) {
                *ret_oom = true;
                return NULL;
        }
        memcpy(o, s, i);
        o += i;
        while (i < len) {
                k = utf8_seq(u + i, len - i);
                if (k > 0) {
                        memcpy(o, s + i, k);
                        o += k;
                        i += k;
                } else {
                        memcpy(o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                }
        }
        *o = 0;
        return out;
}

int db_exec(Db *db, const char *sql, const char *const *params, size_t n_params, DbResult *ret) {
        char *fixed[n_params > 0 ? n_params : 1];
        const char *use[n_params > 0 ? n_params : 1];
        bool any = false;
        int r;

        if (ret)
                *ret = (DbResult) {};
        for (size_t i = 0; i < n_params; i++) {
                bool oom;
                fixed[i] = params[i] ? db_utf8_fix(params[i], strlen(params[i]), &oom) : NULL;
                if (params[i] && oom) {
                        for (size_t j = 0; j < i; j++)
                                free(fixed[j]);
                        db_set_error(db, "out of memory");
                        return -ENOMEM;
                }
                use[i] = fixed[i] ? fixed[i] : params[i];
                any = any || fixed[i];
        }
        r = db->ops->exec(db, sql, any ? use : params, n_params, ret);
        for (size_t i = 0; i < n_params; i++)
                free(fixed[i]);
        return r;
}

int db_begin(Db *db) {
        return db->ops->begin(db);
}

int db_commit(Db *db) {
        return db_exec(db, "COMMIT", NULL, 0, NULL);
}

int db_rollback(Db *db) {
        /* Keep the message of the failure that made the caller roll back. */
        char *saved = db->error ? strdup(db->error) : NULL;
        (void) db_exec(db, "ROLLBACK", NULL, 0, NULL);
        free(db->error);
        db->error = saved;
        return 0;
}

int db_lock(Db *db, int64_t key) {
        return db->ops->lock(db, key);
}

void db_result_done(DbResult *r) {
        if (!r || !r->cells)
                return;
        for (size_t i = 0; i < r->n_rows * r->n_cols; i++)
                free(r->cells[i]);
        free(r->cells);
        *r = (DbResult) {};
}
