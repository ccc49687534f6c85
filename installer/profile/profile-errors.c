/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>

#include "basic/strutil.h"
#include "profile/profile.h"

static void profile_error_done(ProfileError *e) {
        free(e->file);
        free(e->key);
        free(e->message);
}

int profile_errors_addv(ProfileErrors *e, const char *file, unsigned line, unsigned column,
                        const char *key, const char *fmt, va_list ap) {
        ProfileError n = { .line = line, .column = column };
        ProfileError *v;

        if (vasprintf(&n.message, fmt, ap) < 0)
                return -ENOMEM;

        if (free_and_strdup(&n.file, file) < 0 || free_and_strdup(&n.key, key) < 0)
                goto oom;

        v = realloc(e->v, (e->n + 1) * sizeof(ProfileError));
        if (!v)
                goto oom;
        v[e->n++] = n;
        e->v = v;
        return 0;
oom:
        profile_error_done(&n);
        return -ENOMEM;
}

int profile_errors_add(ProfileErrors *e, const char *file, unsigned line, unsigned column,
                       const char *key, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = profile_errors_addv(e, file, line, column, key, fmt, ap);
        va_end(ap);
        return r;
}

void profile_errors_print(FILE *f, const ProfileErrors *e) {
        for (size_t i = 0; e && i < e->n; i++) {
                const ProfileError *x = &e->v[i];

                fputs(x->file ?: "profile", f);
                if (x->line > 0)
                        fprintf(f, ":%u:%u", x->line, x->column);
                fputs(": error: ", f);
                if (x->key && x->key[0])
                        fprintf(f, "%s: ", x->key);
                fprintf(f, "%s\n", x->message);
        }
}

void profile_errors_done(ProfileErrors *e) {
        if (!e)
                return;
        for (size_t i = 0; i < e->n; i++)
                profile_error_done(&e->v[i]);
        free(e->v);
        *e = (ProfileErrors) {};
}
