/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ydoc/ydoc.h"

#include <inttypes.h>
#include <yaml.h>

#include "basic/fileio.h"
#include "basic/strutil.h"

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

typedef struct Loader {
        yaml_document_t *doc;
        const char *name;
        const char *file;       /* the YDoc's filename, for every node */
        size_t count;
        char *error;
} Loader;

static int loader_fail(Loader *l, const yaml_mark_t *m, const char *msg) {
        if (!l->error)
                l->error = strprintf("%s:%zu:%zu: %s", l->name, m->line + 1, m->column + 1, msg);
        return -EINVAL;
}

static int convert(Loader *l, yaml_node_t *src, unsigned depth, YNode **ret) {
        YNode *n;
        int r;

        if (depth > YDOC_MAX_DEPTH)
                return loader_fail(l, &src->start_mark, "document nested deeper than 64 levels");
        if (++l->count > YDOC_MAX_NODES)
                return loader_fail(l, &src->start_mark, "document has more than 100000 nodes");

        n = new0(YNode, 1);
        if (!n)
                return -ENOMEM;
        n->file = l->file;
        n->line = (unsigned) src->start_mark.line + 1;
        n->column = (unsigned) src->start_mark.column + 1;

        switch (src->type) {
        case YAML_SCALAR_NODE:
                n->type = YNODE_SCALAR;
                n->value = strndup((const char *) src->data.scalar.value, src->data.scalar.length);
                n->plain = src->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                if (!n->value)
                        goto oom;
                if (memchr(src->data.scalar.value, 0, src->data.scalar.length)) {
                        ynode_free(n);
                        return loader_fail(l, &src->start_mark, "scalar contains a NUL byte");
                }
                break;

        case YAML_SEQUENCE_NODE: {
                size_t cnt = (size_t) (src->data.sequence.items.top - src->data.sequence.items.start);
                n->type = YNODE_SEQUENCE;
                n->items = new0(YNode *, cnt ? cnt : 1);
                if (!n->items)
                        goto oom;
                for (size_t i = 0; i < cnt; i++) {
                        yaml_node_t *c = yaml_document_get_node(l->doc, src->data.sequence.items.start[i]);
                        r = convert(l, c, depth + 1, &n->items[i]);
                        if (r < 0) {
                                ynode_free(n);
                                return r;
                        }
                        n->n = i + 1;
                }
                break;
        }

        case YAML_MAPPING_NODE: {
                size_t cnt = (size_t) (src->data.mapping.pairs.top - src->data.mapping.pairs.start);
                n->type = YNODE_MAPPING;
                n->keys = new0(YNode *, cnt ? cnt : 1);
                n->items = new0(YNode *, cnt ? cnt : 1);
                if (!n->keys || !n->items)
                        goto oom;
                for (size_t i = 0; i < cnt; i++) {
                        yaml_node_pair_t *p = &src->data.mapping.pairs.start[i];
                        yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
                        yaml_node_t *v = yaml_document_get_node(l->doc, p->value);

                        if (k->type != YAML_SCALAR_NODE) {
                                ynode_free(n);
                                return loader_fail(l, &k->start_mark, "mapping keys must be plain strings");
                        }
                        r = convert(l, k, depth + 1, &n->keys[i]);
                        if (r >= 0)
                                r = convert(l, v, depth + 1, &n->items[i]);
                        n->n = i + 1;
                        if (r < 0) {
                                ynode_free(n);
                                return r;
                        }
                        for (size_t j = 0; j < i; j++)
                                if (streq(n->keys[j]->value, n->keys[i]->value)) {
                                        _cleanup_free_ char *what = strprintf(
                                                "duplicate key '%s' (first at line %u)",
                                                n->keys[i]->value, n->keys[j]->line);
                                        ynode_free(n);
                                        return loader_fail(l, &k->start_mark, what ? what : "duplicate key");
                                }
                }
                break;
        }

        default:
                ynode_free(n);
                return loader_fail(l, &src->start_mark, "unsupported YAML node");
        }

        *ret = n;
        return 0;
oom:
        ynode_free(n);
        return -ENOMEM;
}

int ydoc_parse_string(const char *name, const char *data, size_t size, YDoc **ret, char **ret_error) {
        yaml_parser_t parser;
        yaml_document_t doc, extra;
        YDoc *d;
        int r = 0;

        d = new0(YDoc, 1);
        if (!d || !(d->filename = strdup(name))) {
                free(d);
                return -ENOMEM;
        }

        if (!yaml_parser_initialize(&parser)) {
                ydoc_free(d);
                return -ENOMEM;
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, size);

        if (!yaml_parser_load(&parser, &doc)) {
                if (ret_error)
                        *ret_error = strprintf("%s:%zu:%zu: YAML syntax error: %s%s%s", name,
                                               parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                                               parser.problem ? parser.problem : "unknown problem",
                                               parser.context ? " " : "", parser.context ? parser.context : "");
                yaml_parser_delete(&parser);
                ydoc_free(d);
                return -EINVAL;
        }

        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root) {
                Loader l = { .doc = &doc, .name = name, .file = d->filename };
                r = convert(&l, root, 0, &d->root);
                if (r < 0 && ret_error)
                        *ret_error = TAKE_PTR(l.error);
                free(l.error);
        }
        yaml_document_delete(&doc);

        /* Exactly one document per file. */
        if (r >= 0 && root) {
                if (!yaml_parser_load(&parser, &extra)) {
                        if (ret_error)
                                *ret_error = strprintf("%s:%zu:%zu: YAML syntax error: %s", name,
                                                       parser.problem_mark.line + 1,
                                                       parser.problem_mark.column + 1,
                                                       parser.problem ? parser.problem : "unknown problem");
                        r = -EINVAL;
                } else {
                        yaml_node_t *x = yaml_document_get_root_node(&extra);
                        if (x) {
                                if (ret_error)
                                        *ret_error = strprintf("%s:%zu:%zu: a profile file holds one YAML document; found a second one here",
                                                               name, x->start_mark.line + 1, x->start_mark.column + 1);
                                r = -EINVAL;
                        }
                        yaml_document_delete(&extra);
                }
        }
        yaml_parser_delete(&parser);

        if (r < 0) {
                ydoc_free(d);
                return r;
        }
        *ret = d;
        return 0;
}

int ydoc_parse_file(const char *path, YDoc **ret, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, &data, &size);
        if (r < 0) {
                if (ret_error)
                        *ret_error = strprintf("%s: cannot read: %s", path, strerror(-r));
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
