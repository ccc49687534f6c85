/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ydoc/ydoc.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <yaml.h>

#include "basic/fileio.h"
#include "basic/strutil.h"

char *ydoc_escape(const char *s, size_t max) {
        StrBuf b = {};
        size_t i = 0;

        for (; s && s[i] && i < max; i++) {
                unsigned char c = (unsigned char) s[i];
                int r = c < 0x20 || c == 0x7f ? strbuf_appendf(&b, "\\x%02x", c) : strbuf_append_n(&b, s + i, 1);
                if (r < 0) {
                        strbuf_done(&b);
                        return NULL;
                }
        }
        if ((s && s[i] && strbuf_append(&b, "...") < 0) || strbuf_append(&b, "") < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

void ynode_free(YNode *n) {
        if (!n)
                return;
        for (size_t i = 0; i < n->n; i++) {
                if (n->keys)
                        ynode_free(n->keys[i]);
                if (n->items)
                        ynode_free(n->items[i]);
        }
        free(n->keys);
        free(n->items);
        if (n->value) {
                /* Profiles hold secrets (plaintext passwords before they are
                 * hashed, password hashes): leave nothing behind in the heap. */
                explicit_bzero(n->value, strlen(n->value));
                free(n->value);
        }
        free(n);
}

void ydoc_free(YDoc *d) {
        if (!d)
                return;
        ynode_free(d->root);
        free(d->filename);
        free(d);
}

/* ---- building the tree from libyaml's events -------------------------------------------------
 *
 * The tree is built from the event stream (yaml_parser_parse), not from
 * libyaml's own document loader, so that every limit stops the parse where
 * it is crossed: a document nested 100000 levels deep is refused at level
 * 65 after reading a few hundred bytes, instead of after libyaml has built
 * (quadratically) the whole tree. */

typedef struct Anchor {
        char *name;
        YNode *node;    /* NULL while the anchored node is being built */
} Anchor;

typedef struct Frame {
        YNode *node;    /* a mapping or a sequence being filled */
        YNode *key;     /* mapping: the key waiting for its value */
        size_t cap;     /* allocated slots of node->keys/items (grown by doubling) */
        size_t anchor;  /* index in Builder.anchors to fill once complete, or SIZE_MAX */
} Frame;

typedef struct Builder {
        const char *name;
        const char *file;       /* the YDoc's filename, for every node */
        Frame stack[YDOC_MAX_DEPTH + 1];
        unsigned depth;         /* frames in use */
        YNode *root;
        bool have_root;
        unsigned documents;
        Anchor *anchors;
        size_t n_anchors;
        size_t count;           /* nodes made, alias copies included */
        char *error;
} Builder;

static int builder_fail(Builder *b, const yaml_mark_t *m, const char *fmt, ...) _printf_(3, 4);
static int builder_fail(Builder *b, const yaml_mark_t *m, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        if (b->error)
                return -EINVAL;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                return -ENOMEM;
        b->error = strprintf("%s:%zu:%zu: %s", b->name, m->line + 1, m->column + 1, msg);
        return b->error ? -EINVAL : -ENOMEM;
}

static int count_node(Builder *b, const yaml_mark_t *m) {
        if (++b->count > YDOC_MAX_NODES)
                return builder_fail(b, m, "document has more than %d nodes (aliases count as copies)",
                                    YDOC_MAX_NODES);
        return 0;
}

static YNode *node_new(Builder *b, YNodeType t, const yaml_mark_t *m) {
        YNode *n = new0(YNode, 1);

        if (!n)
                return NULL;
        n->type = t;
        n->file = b->file;
        n->line = (unsigned) m->line + 1;
        n->column = (unsigned) m->column + 1;
        return n;
}

/* Append to the collection being built in frame f: the arrays grow by
 * doubling, so a list of 100000 items costs no quadratic copying. */
static int append(Frame *f, YNode *key, YNode *item) {
        YNode *parent = f->node;

        if (parent->n == f->cap) {
                size_t cap = f->cap ? f->cap * 2 : 8;
                if (key) {
                        YNode **k = reallocarray(parent->keys, cap, sizeof(YNode *));
                        if (!k)
                                return -ENOMEM;
                        parent->keys = k;
                }
                YNode **v = reallocarray(parent->items, cap, sizeof(YNode *));
                if (!v)
                        return -ENOMEM;
                parent->items = v;
                f->cap = cap;
        }
        if (key)
                parent->keys[parent->n] = key;
        parent->items[parent->n] = item;
        parent->n++;
        return 0;
}

/* A copy of the tree below src, for an alias. Counted: an alias bomb stops
 * at YDOC_MAX_NODES. The copy keeps the anchored node's positions. */
static int node_copy(Builder *b, const YNode *src, const yaml_mark_t *m, YNode **ret) {
        YNode *n;
        int r;

        r = count_node(b, m);
        if (r < 0)
                return r;
        n = new0(YNode, 1);
        if (!n)
                return -ENOMEM;
        *n = (YNode) { .type = src->type, .file = src->file, .line = src->line, .column = src->column,
                       .plain = src->plain };
        if (src->value && !(n->value = strdup(src->value)))
                goto oom;
        if (src->n > 0) {
                n->items = new0(YNode *, src->n);
                if (!n->items || (src->keys && !(n->keys = new0(YNode *, src->n))))
                        goto oom;
        }
        for (size_t i = 0; i < src->n; i++) {
                if (src->keys) {
                        r = node_copy(b, src->keys[i], m, &n->keys[i]);
                        if (r < 0)
                                goto fail;
                }
                r = node_copy(b, src->items[i], m, &n->items[i]);
                if (r < 0) {
                        if (src->keys) {
                                /* keep n consistent for ynode_free */
                                ynode_free(n->keys[i]);
                                n->keys[i] = NULL;
                        }
                        goto fail;
                }
                n->n = i + 1;
        }
        *ret = n;
        return 0;
oom:
        r = -ENOMEM;
fail:
        ynode_free(n);
        return r;
}

typedef struct KeyRef {
        const char *value;
        size_t index;
} KeyRef;

static int keyref_cmp(const void *a, const void *b) {
        const KeyRef *x = a, *y = b;
        int c = strcmp(x->value, y->value);

        if (c != 0)
                return c;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Duplicate keys in a complete mapping: sorted, so that a mapping of 50000
 * keys costs n log n, not n^2. Reports the first duplicate in document order. */
static int check_duplicates(Builder *b, const YNode *m) {
        _cleanup_free_ KeyRef *v = NULL;
        size_t dup = SIZE_MAX, first = 0;

        if (m->n < 2)
                return 0;
        v = new0(KeyRef, m->n);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < m->n; i++)
                v[i] = (KeyRef) { m->keys[i]->value, i };
        qsort(v, m->n, sizeof(KeyRef), keyref_cmp);
        for (size_t i = 1; i < m->n; i++)
                if (streq(v[i].value, v[i - 1].value) && (i < 2 || !streq(v[i].value, v[i - 2].value)) &&
                    v[i].index < dup) {
                        dup = v[i].index;
                        first = v[i - 1].index;
                }
        if (dup == SIZE_MAX)
                return 0;
        const YNode *k = m->keys[dup];
        yaml_mark_t mark = { .line = k->line - 1, .column = k->column - 1 };
        _cleanup_free_ char *shown = ydoc_escape(k->value, 60);
        return builder_fail(b, &mark, "duplicate key '%s' (first at line %u)", shown ? shown : "?",
                            m->keys[first]->line);
}

static Anchor *anchor_find(Builder *b, const char *name) {
        /* The latest definition wins (YAML allows redefining an anchor). */
        for (size_t i = b->n_anchors; i > 0; i--)
                if (streq(b->anchors[i - 1].name, name))
                        return &b->anchors[i - 1];
        return NULL;
}

static int anchor_add(Builder *b, const char *name, YNode *node) {
        Anchor *v;
        char *s = strdup(name);

        if (!s)
                return -ENOMEM;
        v = reallocarray(b->anchors, b->n_anchors + 1, sizeof(Anchor));
        if (!v) {
                free(s);
                return -ENOMEM;
        }
        b->anchors = v;
        b->anchors[b->n_anchors++] = (Anchor) { s, node };
        return 0;
}

/* Hang the complete node n (consumed) into its parent. */
static int attach(Builder *b, YNode *n, const yaml_mark_t *m) {
        Frame *f;

        if (b->depth == 0) {
                b->root = n;
                b->have_root = true;
                return 0;
        }
        f = &b->stack[b->depth - 1];
        if (f->node->type == YNODE_SEQUENCE) {
                int r = append(f, NULL, n);
                if (r < 0)
                        ynode_free(n);
                return r;
        }
        if (!f->key) {
                if (n->type != YNODE_SCALAR) {
                        ynode_free(n);
                        return builder_fail(b, m, "mapping keys must be plain strings");
                }
                f->key = n;
                return 0;
        }
        int r = append(f, f->key, n);
        if (r < 0) {
                ynode_free(n);
                return r;
        }
        f->key = NULL;
        return 0;
}

/* A new node is starting at m: one more node, at depth b->depth. */
static int node_start(Builder *b, const yaml_mark_t *m) {
        if (b->documents > 1)
                return builder_fail(b, m, "a profile file holds one YAML document; found a second one here");
        if (b->depth > YDOC_MAX_DEPTH)
                return builder_fail(b, m, "document nested deeper than %d levels", YDOC_MAX_DEPTH);
        return count_node(b, m);
}

static int on_scalar(Builder *b, const yaml_event_t *e) {
        const yaml_mark_t *m = &e->start_mark;
        YNode *n;
        int r;

        r = node_start(b, m);
        if (r < 0)
                return r;
        if (memchr(e->data.scalar.value, 0, e->data.scalar.length))
                return builder_fail(b, m, "scalar contains a NUL byte");
        n = node_new(b, YNODE_SCALAR, m);
        if (!n)
                return -ENOMEM;
        n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->value = strndup((const char *) e->data.scalar.value, e->data.scalar.length);
        if (!n->value) {
                ynode_free(n);
                return -ENOMEM;
        }
        if (e->data.scalar.anchor) {
                r = anchor_add(b, (const char *) e->data.scalar.anchor, n);
                if (r < 0) {
                        ynode_free(n);
                        return r;
                }
        }
        return attach(b, n, m);
}

static int on_alias(Builder *b, const yaml_event_t *e) {
        const yaml_mark_t *m = &e->start_mark;
        const char *name = (const char *) e->data.alias.anchor;
        Anchor *a;
        YNode *n;
        int r;

        if (b->documents > 1)
                return builder_fail(b, m, "a profile file holds one YAML document; found a second one here");
        if (b->depth > YDOC_MAX_DEPTH)
                return builder_fail(b, m, "document nested deeper than %d levels", YDOC_MAX_DEPTH);
        a = anchor_find(b, name);
        _cleanup_free_ char *shown = ydoc_escape(name, 60);
        if (!shown)
                return -ENOMEM;
        if (!a)
                return builder_fail(b, m, "alias '*%s' names no anchor before it", shown);
        if (!a->node)
                return builder_fail(b, m, "alias '*%s' is used inside the node it names (a cycle)", shown);
        r = node_copy(b, a->node, m, &n);
        if (r < 0)
                return r;
        return attach(b, n, m);
}

static int on_collection_start(Builder *b, const yaml_event_t *e, YNodeType t) {
        const yaml_mark_t *m = &e->start_mark;
        const yaml_char_t *anchor = t == YNODE_MAPPING ? e->data.mapping_start.anchor
                                                        : e->data.sequence_start.anchor;
        Frame *f;
        int r;

        r = node_start(b, m);
        if (r < 0)
                return r;
        if (b->depth >= YDOC_MAX_DEPTH)
                /* its items would be deeper than the limit: stop here */
                return builder_fail(b, m, "document nested deeper than %d levels", YDOC_MAX_DEPTH);
        if (b->depth > 0) {
                Frame *p = &b->stack[b->depth - 1];
                if (p->node->type == YNODE_MAPPING && !p->key)
                        return builder_fail(b, m, "mapping keys must be plain strings");
        }
        f = &b->stack[b->depth];
        *f = (Frame) { .anchor = SIZE_MAX };
        f->node = node_new(b, t, m);
        if (!f->node)
                return -ENOMEM;
        if (anchor) {
                /* Registered now (as "being built") so that an alias to it
                 * from inside is recognised as a cycle. */
                r = anchor_add(b, (const char *) anchor, NULL);
                if (r < 0) {
                        ynode_free(TAKE_PTR(f->node));
                        return r;
                }
                f->anchor = b->n_anchors - 1;
        }
        b->depth++;
        return 0;
}

static int on_collection_end(Builder *b, const yaml_event_t *e) {
        Frame *f;
        YNode *n;
        int r;

        assert(b->depth > 0);
        f = &b->stack[--b->depth];
        n = TAKE_PTR(f->node);
        ynode_free(TAKE_PTR(f->key)); /* libyaml never leaves one, but be safe */
        if (n->type == YNODE_MAPPING) {
                r = check_duplicates(b, n);
                if (r < 0) {
                        ynode_free(n);
                        return r;
                }
        }
        if (f->anchor != SIZE_MAX)
                b->anchors[f->anchor].node = n; /* the tree owns n; anchors only point */
        return attach(b, n, &e->start_mark);
}

static void builder_done(Builder *b) {
        while (b->depth > 0) {
                Frame *f = &b->stack[--b->depth];
                ynode_free(f->node);
                ynode_free(f->key);
        }
        for (size_t i = 0; i < b->n_anchors; i++)
                free(b->anchors[i].name);
        free(b->anchors);
        ynode_free(b->root);
        free(b->error);
}

/* Line and column (1-based, counted in characters as libyaml counts them) of
 * byte offset off in data: libyaml's reader errors (invalid UTF-8, control
 * characters) carry only the offset. */
static void offset_position(const char *data, size_t size, size_t off, size_t *ret_line, size_t *ret_col) {
        size_t line = 1, col = 1;

        for (size_t i = 0; i < off && i < size; i++) {
                unsigned char c = (unsigned char) data[i];
                if (c == '\n') {
                        line++;
                        col = 1;
                } else if ((c & 0xC0) != 0x80)
                        col++; /* not a UTF-8 continuation byte: a new character */
        }
        *ret_line = line;
        *ret_col = col;
}

static char *syntax_message(const char *name, const yaml_parser_t *p, const char *data, size_t size) {
        if (p->error == YAML_READER_ERROR) {
                size_t line, col;

                offset_position(data, size, p->problem_offset, &line, &col);
                if (p->problem_value >= 0)
                        return strprintf("%s:%zu:%zu: invalid input: %s (byte 0x%02X)", name, line, col,
                                         p->problem ? p->problem : "unreadable", (unsigned) p->problem_value & 0xFFu);
                return strprintf("%s:%zu:%zu: invalid input: %s", name, line, col,
                                 p->problem ? p->problem : "unreadable");
        }
        if (p->error == YAML_MEMORY_ERROR)
                return NULL;
        return strprintf("%s:%zu:%zu: YAML syntax error: %s%s%s", name, p->problem_mark.line + 1,
                         p->problem_mark.column + 1, p->problem ? p->problem : "unknown problem",
                         p->context ? " " : "", p->context ? p->context : "");
}

static int build(Builder *b, yaml_parser_t *parser, const char *data, size_t size) {
        for (;;) {
                yaml_event_t e;
                int r = 0;

                if (!yaml_parser_parse(parser, &e)) {
                        if (parser->error == YAML_MEMORY_ERROR)
                                return -ENOMEM;
                        b->error = syntax_message(b->name, parser, data, size);
                        return b->error ? -EINVAL : -ENOMEM;
                }
                switch (e.type) {
                case YAML_STREAM_END_EVENT:
                        yaml_event_delete(&e);
                        return 0;
                case YAML_DOCUMENT_START_EVENT:
                        b->documents++;
                        break;
                case YAML_SCALAR_EVENT:
                        r = on_scalar(b, &e);
                        break;
                case YAML_ALIAS_EVENT:
                        r = on_alias(b, &e);
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        r = on_collection_start(b, &e, YNODE_SEQUENCE);
                        break;
                case YAML_MAPPING_START_EVENT:
                        r = on_collection_start(b, &e, YNODE_MAPPING);
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        r = on_collection_end(b, &e);
                        break;
                default:
                        break;
                }
                yaml_event_delete(&e);
                if (r < 0)
                        return r;
        }
}

int ydoc_parse_string(const char *name, const char *data, size_t size, YDoc **ret, char **ret_error) {
        _cleanup_(builder_done) Builder b = { .name = name };
        yaml_parser_t parser;
        YDoc *d;
        int r;

        if (size > YDOC_MAX_SIZE) {
                if (ret_error)
                        *ret_error = strprintf("%s: document is larger than %d bytes (%zu bytes)", name,
                                               YDOC_MAX_SIZE, size);
                return -EINVAL;
        }
        d = new0(YDoc, 1);
        if (!d || !(d->filename = strdup(name))) {
                free(d);
                return -ENOMEM;
        }
        b.file = d->filename;

        if (!yaml_parser_initialize(&parser)) {
                ydoc_free(d);
                return -ENOMEM;
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, size);
        r = build(&b, &parser, data, size);
        yaml_parser_delete(&parser);
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(b.error);
                ydoc_free(d);
                return r;
        }
        d->root = TAKE_PTR(b.root);
        *ret = d;
        return 0;
}

int ydoc_parse_file(const char *path, YDoc **ret, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_regular_file(path, YDOC_MAX_SIZE, &data, &size);
        if (r < 0) {
                if (ret_error)
                        *ret_error = r == -EFBIG ? strprintf("%s: cannot read: larger than %d bytes", path, YDOC_MAX_SIZE)
                                   : r == -EBADFD ? strprintf("%s: cannot read: not a regular file", path)
                                                  : strprintf("%s: cannot read: %s", path, strerror(-r));
                return r;
        }
        r = ydoc_parse_string(path, data, size, ret, ret_error);
        explicit_bzero(data, size); /* the file may hold secrets */
        return r;
}

YNode *ynode_new_mapping(const char *file, unsigned line, unsigned column) {
        YNode *n = new0(YNode, 1);

        if (!n)
                return NULL;
        *n = (YNode) { .type = YNODE_MAPPING, .file = file, .line = line, .column = column };
        return n;
}

static ssize_t mapping_find(const YNode *m, const char *key) {
        for (size_t i = 0; i < m->n; i++)
                if (m->keys[i] && streq(m->keys[i]->value, key))
                        return (ssize_t) i;
        return -1;
}

int ynode_merge(YNode *dst, YNode *src) {
        int r;

        if (!dst || !src || dst->type != YNODE_MAPPING || src->type != YNODE_MAPPING)
                return -EINVAL;

        /* The merged mapping was last written where src was. */
        dst->file = src->file;
        dst->line = src->line;
        dst->column = src->column;

        for (size_t i = 0; i < src->n; i++) {
                YNode *k = src->keys[i], *v = src->items[i];
                ssize_t j;

                if (!k)
                        continue;
                j = mapping_find(dst, k->value);
                if (j >= 0 && dst->items[j] && v && dst->items[j]->type == YNODE_MAPPING &&
                    v->type == YNODE_MAPPING) {
                        r = ynode_merge(dst->items[j], v);
                        if (r < 0)
                                return r;
                        /* The key too was last written in src. */
                        ynode_free(dst->keys[j]);
                        dst->keys[j] = TAKE_PTR(src->keys[i]);
                        continue;
                }
                if (j < 0) {
                        YNode **keys = reallocarray(dst->keys, dst->n + 1, sizeof(YNode *));
                        if (!keys)
                                return -ENOMEM;
                        dst->keys = keys;
                        YNode **items = reallocarray(dst->items, dst->n + 1, sizeof(YNode *));
                        if (!items)
                                return -ENOMEM;
                        dst->items = items;
                        j = (ssize_t) dst->n;
                        dst->keys[j] = dst->items[j] = NULL;
                        dst->n++;
                }
                ynode_free(dst->keys[j]);
                ynode_free(dst->items[j]);
                dst->keys[j] = TAKE_PTR(src->keys[i]);
                dst->items[j] = TAKE_PTR(src->items[i]);
        }
        return 0;
}

void ynode_remove(YNode *m, const char *key) {
        ssize_t j;

        if (!m || m->type != YNODE_MAPPING || (j = mapping_find(m, key)) < 0)
                return;
        ynode_free(m->keys[j]);
        ynode_free(m->items[j]);
        memmove(m->keys + j, m->keys + j + 1, (m->n - (size_t) j - 1) * sizeof(YNode *));
        memmove(m->items + j, m->items + j + 1, (m->n - (size_t) j - 1) * sizeof(YNode *));
        m->n--;
}

YNode *ynode_get(const YNode *m, const char *key) {
        if (!m || m->type != YNODE_MAPPING)
                return NULL;
        for (size_t i = 0; i < m->n; i++)
                if (streq(m->keys[i]->value, key))
                        return m->items[i];
        return NULL;
}

const char *ynode_get_str(const YNode *m, const char *key) {
        YNode *n = ynode_get(m, key);
        return n && n->type == YNODE_SCALAR && !ynode_is_null(n) ? n->value : NULL;
}

bool ynode_is_null(const YNode *n) {
        return !n || (n->type == YNODE_SCALAR && n->plain &&
                      (streq(n->value, "") || streq(n->value, "~") || streq(n->value, "null") ||
                       streq(n->value, "Null") || streq(n->value, "NULL")));
}

int ynode_bool(const YNode *n, bool *ret) {
        static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
        static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };

        if (!n || n->type != YNODE_SCALAR || !n->plain)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (streq(n->value, yes[i])) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (streq(n->value, no[i])) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

int ynode_u64(const YNode *n, uint64_t *ret) {
        char *end;

        if (!n || n->type != YNODE_SCALAR || !n->plain || !n->value[0] || n->value[0] == '-')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(n->value, &end, 10);
        if (errno != 0 || *end != 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

const char *ynode_type_name(YNodeType t) {
        switch (t) {
        case YNODE_SCALAR: return "a scalar";
        case YNODE_MAPPING: return "a mapping";
        case YNODE_SEQUENCE: return "a list";
        }
        return "?";
}
