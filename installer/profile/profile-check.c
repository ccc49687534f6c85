/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The checker: key paths, error recording, type checks and the table-driven
 * mapping walk shared by every section of the profile. */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <strings.h>

#include "profile/profile-internal.h"

void ck_done(Checker *c) {
        strbuf_done(&c->path);
}

void ck_oom(Checker *c) {
        if (c->r == 0)
                c->r = -ENOMEM;
}

/* ---- the key path ------------------------------------------------------------ */

size_t ck_push_key(Checker *c, const char *key) {
        size_t mark = c->path.len;

        /* Keys may hold any character a quoted YAML string can: control
         * characters are escaped (\x01) in every message. */
        _cleanup_free_ char *shown = ydoc_escape(key, SIZE_MAX);
        if (!shown || strbuf_appendf(&c->path, "%s%s", mark > 0 ? "." : "", shown) < 0)
                ck_oom(c);
        return mark;
}

size_t ck_push_index(Checker *c, size_t i) {
        size_t mark = c->path.len;

        if (strbuf_appendf(&c->path, "[%zu]", i) < 0)
                ck_oom(c);
        return mark;
}

void ck_pop(Checker *c, size_t mark) {
        if (mark <= c->path.len) {
                c->path.len = mark;
                if (c->path.data)
                        c->path.data[mark] = 0;
        }
}

/* ---- recording problems --------------------------------------------------------- */

static void ck_verror(Checker *c, const YNode *at, const char *fmt, va_list ap) _printf_(3, 0);
static void ck_verror(Checker *c, const YNode *at, const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) < 0) {
                msg = NULL; /* undefined after a failure */
                ck_oom(c);
                return;
        }
        /* A node knows the file it was written in: the profile or a fragment. */
        if (profile_errors_add(c->errors, at && at->file ? at->file : c->file, at ? at->line : 0,
                               at ? at->column : 0,
                               c->path.len > 0 ? c->path.data : NULL, "%s", msg) < 0) {
                ck_oom(c);
                return;
        }
        c->n_errors++;
}

void ck_error(Checker *c, const YNode *at, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        ck_verror(c, at, fmt, ap);
        va_end(ap);
}

void ck_error_key(Checker *c, const YNode *at, const char *key, const char *fmt, ...) {
        size_t mark = ck_push_key(c, key);
        va_list ap;

        va_start(ap, fmt);
        ck_verror(c, at, fmt, ap);
        va_end(ap);
        ck_pop(c, mark);
}

Quoted ck_quote(const char *s) {
        Quoted q = {};
        size_t i = 0;

        size_t o = 0;

        /* 60 bytes, each at most 4 characters escaped, and "...": fits. */
        for (; s && s[i] && i < 60; i++) {
                unsigned char ch = (unsigned char) s[i];
                if (ch < 0x20 || ch == 0x7f)
                        o += (size_t) snprintf(q.s + o, sizeof(q.s) - o, "\\x%02x", ch);
                else
                        q.s[o++] = s[i];
        }
        if (s && s[i])
                strcpy(q.s + o, "...");
        return q;
}

/* ---- suggestions ---------------------------------------------------------------- */

#define NOT_CLOSE UINT_MAX

/* How close a mistyped key is to a candidate; lower is closer, NOT_CLOSE is
 * "not a plausible typo". Case variants first, then small edit distances,
 * then prefixes ("password" for "password_hash"). */
static unsigned closeness(const char *typed, const char *candidate) {
        size_t lt = strlen(typed), lc = strlen(candidate);
        unsigned d;

        if (strcasecmp(typed, candidate) == 0)
                return 0;
        d = string_distance(typed, candidate);
        if (d <= 2 && d < lt)
                return d;
        if (lt >= 3 && lc >= 3 && strncasecmp(typed, candidate, MIN(lt, lc)) == 0)
                return 3;
        return NOT_CLOSE;
}

typedef struct Suggestion {
        const char *best;
        unsigned score;
} Suggestion;

static void suggestion_consider(Suggestion *s, const char *typed, const char *candidate) {
        unsigned d = closeness(typed, candidate);

        if (d != NOT_CLOSE && (!s->best || d < s->score)) {
                s->best = candidate;
                s->score = d;
        }
}

/* ---- type checks ------------------------------------------------------------------ */

static const char *node_kind(const YNode *v) {
        if (!v || ynode_is_null(v))
                return "an empty value";
        return ynode_type_name(v->type);
}

bool ck_type(Checker *c, const YNode *v, YNodeType t) {
        if (v && v->type == t && !(t == YNODE_SCALAR && ynode_is_null(v)))
                return true;
        ck_error(c, v, "expected %s, got %s", t == YNODE_SCALAR ? "a string" : ynode_type_name(t),
                 node_kind(v));
        return false;
}

const char *ck_scalar(Checker *c, const YNode *v) {
        return ck_type(c, v, YNODE_SCALAR) ? v->value : NULL;
}

bool ck_bool(Checker *c, const YNode *v, bool *ret) {
        bool b;

        if (!ck_type(c, v, YNODE_SCALAR))
                return false;
        if (ynode_bool(v, &b) >= 0) {
                *ret = b;
                return true;
        }
        if (!v->plain && (streq(v->value, "true") || streq(v->value, "false")))
                ck_error(c, v, "expected true or false, got the quoted string '%s' (remove the quotes)",
                         v->value);
        else
                ck_error(c, v, "expected true or false, got '%s'", ck_quote(v->value).s);
        return false;
}

bool ck_uint(Checker *c, const YNode *v, uint64_t min, uint64_t max, uint64_t *ret) {
        uint64_t u;

        if (!ck_type(c, v, YNODE_SCALAR))
                return false;
        if (ynode_u64(v, &u) < 0 || u < min || u > max) {
                ck_error(c, v, "expected an integer from %" PRIu64 " to %" PRIu64 ", got '%s'", min, max,
                         ck_quote(v->value).s);
                return false;
        }
        *ret = u;
        return true;
}

static char *join_names(const char *const *names, size_t n) {
        StrBuf b = {};

        for (size_t i = 0; i < n; i++)
                if (strbuf_appendf(&b, "%s%s", i > 0 ? ", " : "", names[i]) < 0) {
                        strbuf_done(&b);
                        return NULL;
                }
        return strbuf_steal(&b);
}

int ck_enum(Checker *c, const YNode *v, const char *what, const char *const *names, size_t n) {
        Suggestion s = {};

        if (!ck_type(c, v, YNODE_SCALAR))
                return -1;
        for (size_t i = 0; i < n; i++)
                if (streq(v->value, names[i]))
                        return (int) i;
        for (size_t i = 0; i < n; i++)
                suggestion_consider(&s, v->value, names[i]);
        if (s.best)
                ck_error(c, v, "unknown %s '%s'; did you mean '%s'?", what, ck_quote(v->value).s, s.best);
        else {
                _cleanup_free_ char *list = join_names(names, n);
                ck_error(c, v, "unknown %s '%s'; expected one of: %s", what, ck_quote(v->value).s,
                         list ?: "?");
        }
        return -1;
}

bool ck_strdup(Checker *c, const char *s, char **ret) {
        if (free_and_strdup(ret, s) < 0) {
                ck_oom(c);
                return false;
        }
        return true;
}

/* ---- mappings ------------------------------------------------------------------------ */

const YNode *ck_key_node(const YNode *m, const char *key) {
        if (!m || m->type != YNODE_MAPPING)
                return NULL;
        for (size_t i = 0; i < m->n; i++)
                if (streq(m->keys[i]->value, key))
                        return m->keys[i];
        return NULL;
}

const YNode *ck_value(const YNode *m, const char *key) {
        const YNode *v = ynode_get(m, key);
        return ynode_is_null(v) ? NULL : v;
}

const YNode *ck_present_key(const YNode *m, const char *key) {
        return ck_value(m, key) ? ck_key_node(m, key) : NULL;
}

static const Field *field_find(const Field *fields, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (streq(fields[i].key, key))
                        return &fields[i];
        return NULL;
}

static void report_unknown_key(Checker *c, const YNode *k, const Field *fields, size_t n) {
        Suggestion s = {};
        StrBuf allowed = {};

        for (size_t i = 0; i < n; i++)
                suggestion_consider(&s, k->value, fields[i].key);
        if (s.best) {
                ck_error_key(c, k, k->value, "unknown key '%s'; did you mean '%s'?", ck_quote(k->value).s,
                             s.best);
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (fields[i].parse && strbuf_appendf(&allowed, "%s%s", allowed.len ? ", " : "", fields[i].key) < 0)
                        ck_oom(c);
        ck_error_key(c, k, k->value, "unknown key '%s'; allowed here: %s", ck_quote(k->value).s,
                     allowed.data ?: "nothing");
        strbuf_done(&allowed);
}

/* Was key suggested for one of the unknown keys of m? Then "missing
 * required key" would only repeat that error. */
static bool suggested_for_unknown(const YNode *m, const Field *fields, size_t n, const char *key) {
        for (size_t i = 0; i < m->n; i++) {
                Suggestion s = {};

                if (field_find(fields, n, m->keys[i]->value))
                        continue;
                for (size_t j = 0; j < n; j++)
                        suggestion_consider(&s, m->keys[i]->value, fields[j].key);
                if (s.best && streq(s.best, key))
                        return true;
        }
        return false;
}

bool ck_fields(Checker *c, const YNode *m, const Field *fields, size_t n, void *userdata) {
        if (!ck_type(c, m, YNODE_MAPPING))
                return false;

        for (size_t i = 0; i < m->n; i++) {
                const YNode *k = m->keys[i], *v = m->items[i];
                const Field *f = field_find(fields, n, k->value);

                if (!f)
                        report_unknown_key(c, k, fields, n);
                else if (!f->parse)
                        ck_error_key(c, k, k->value, "'%s' is not supported yet", k->value);
                else if (ynode_is_null(v)) {
                        if (f->required)
                                ck_error_key(c, k, k->value, "'%s' needs a value", k->value);
                } else {
                        size_t mark = ck_push_key(c, k->value);
                        f->parse(c, v, userdata);
                        ck_pop(c, mark);
                }
        }

        for (size_t i = 0; i < n; i++)
                if (fields[i].required && !ck_key_node(m, fields[i].key) &&
                    !suggested_for_unknown(m, fields, n, fields[i].key))
                        ck_error_key(c, m, fields[i].key, "missing required key '%s'", fields[i].key);
        return true;
}

/* ---- lists of strings ------------------------------------------------------------------ */

bool ck_mac(Checker *c, const YNode *v, char mac[static 18]) {
        const char *s = ck_scalar(c, v);

        if (!s)
                return false;
        if (mac_normalize(s, mac) < 0) {
                ck_error(c, v, "invalid MAC address '%s' (expected six hex pairs such as 52:54:00:12:34:56)",
                         ck_quote(s).s);
                return false;
        }
        return true;
}

bool ck_validated(Checker *c, const YNode *v, const char *what, ValidateFunc validate, char **ret) {
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return false;
        why = validate(s);
        if (why) {
                ck_error(c, v, "invalid %s '%s': %s", what, ck_quote(s).s, why);
                return false;
        }
        return ck_strdup(c, s, ret);
}

void ck_sha256(Checker *c, const YNode *v, char **ret) {
        if (!ck_validated(c, v, "sha256", profile_check_sha256, ret))
                return;
        for (char *p = *ret; *p; p++)
                *p = (char) tolower((unsigned char) *p);
}

void ck_strv(Checker *c, const YNode *v, const char *what, bool echo, ValidateFunc validate, char ***ret) {
        if (!ck_type(c, v, YNODE_SEQUENCE))
                return;

        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                const char *s = ck_scalar(c, v->items[i]);
                const char *why = s && validate ? validate(s) : NULL;

                if (s && why) {
                        if (echo)
                                ck_error(c, v->items[i], "invalid %s '%s': %s", what, ck_quote(s).s, why);
                        else
                                ck_error(c, v->items[i], "invalid %s: %s", what, why);
                } else if (s && strv_extend(ret, s) < 0)
                        ck_oom(c);
                ck_pop(c, mark);
        }
}
