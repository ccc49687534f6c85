/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for installer/ydoc: positions, scalar conversions, and the
 * limits that keep a hostile document from costing much. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/strutil.h"
#include "ydoc/ydoc.h"

static YDoc *parse_ok(const char *yaml) {
        _cleanup_free_ char *err = NULL;
        YDoc *d = NULL;
        int r = ydoc_parse_string("t.yaml", yaml, strlen(yaml), &d, &err);

        if (r < 0)
                fprintf(stderr, "unexpected: %s\n", err ?: "?");
        assert_int_equal(r, 0);
        assert_null(err);
        assert_non_null(d);
        return d;
}

/* Parse that must fail; returns the message. */
static char *parse_fail(const char *yaml, size_t size) {
        char *err = NULL;
        YDoc *d = NULL;

        assert_int_equal(ydoc_parse_string("t.yaml", yaml, size, &d, &err), -EINVAL);
        assert_null(d);
        assert_non_null(err);
        return err;
}

static void assert_pos(const YNode *n, unsigned line, unsigned column) {
        assert_non_null(n);
        assert_int_equal(n->line, line);
        assert_int_equal(n->column, column);
}

static void test_positions(void **state) {
        _cleanup_ydoc_ YDoc *d = parse_ok(
                "# comment\n"                    /* 1 */
                "name: web01\n"                  /* 2 */
                "disk:\n"                        /* 3 */
                "  partitions:\n"                /* 4 */
                "    - size: 1GiB\n"             /* 5 */
                "      mount: \"/boot\"\n"       /* 6 */
                "    - {size: rest, mount: /}\n" /* 7 */
                "list: [a, 'b', c]\n");          /* 8 */
        YNode *root = d->root, *disk, *parts, *p0, *p1, *list;

        assert_string_equal(d->filename, "t.yaml");
        assert_int_equal(root->type, YNODE_MAPPING);
        assert_pos(root, 2, 1);
        assert_int_equal(root->n, 3);
        assert_pos(root->keys[0], 2, 1);
        assert_pos(root->items[0], 2, 7);
        assert_string_equal(root->items[0]->value, "web01");

        disk = ynode_get(root, "disk");
        assert_pos(disk, 4, 3);
        assert_pos(disk->keys[0], 4, 3);
        parts = ynode_get(disk, "partitions");
        assert_int_equal(parts->type, YNODE_SEQUENCE);
        assert_pos(parts, 5, 5);
        assert_int_equal(parts->n, 2);
        p0 = parts->items[0];
        assert_pos(p0, 5, 7);
        assert_pos(ynode_get(p0, "size"), 5, 13);
        assert_pos(ynode_get(p0, "mount"), 6, 14);
        assert_string_equal(ynode_get_str(p0, "mount"), "/boot");
        assert_false(ynode_get(p0, "mount")->plain);
        assert_true(ynode_get(p0, "size")->plain);
        p1 = parts->items[1];
        assert_pos(p1, 7, 7);
        assert_pos(p1->keys[1], 7, 20);
        assert_pos(ynode_get(p1, "mount"), 7, 27);

        list = ynode_get(root, "list");
        assert_pos(list, 8, 7);
        assert_pos(list->items[1], 8, 11);
        assert_false(list->items[1]->plain);
        assert_string_equal(list->items[2]->value, "c");
}

/* Every node, keys too, knows the file it was written in. */
static void test_file_of_every_node(void **state) {
        _cleanup_ydoc_ YDoc *d = parse_ok("a: {b: [1, {c: d}]}\n");
        const YNode *a = ynode_get(d->root, "a"), *b = ynode_get(a, "b");

        assert_ptr_equal(d->root->file, d->filename);
        assert_ptr_equal(d->root->keys[0]->file, d->filename);
        assert_ptr_equal(a->file, d->filename);
        assert_ptr_equal(b->items[0]->file, d->filename);
        assert_ptr_equal(ynode_get(b->items[1], "c")->file, d->filename);
}

static void test_merge(void **state) {
        _cleanup_ydoc_ YDoc *base = NULL, *top = NULL;
        _cleanup_free_ char *err = NULL;
        YNode *m;

        static const char base_yaml[] = "x: 1\n"
                                        "map: {a: 1, b: 2, inner: {p: 1}}\n"
                                        "list: [1, 2, 3]\n"
                                        "gone: {k: v}\n";
        static const char top_yaml[] = "\n"
                                       "map: {b: 20, c: 30, inner: {q: 2}}\n"
                                       "list: [9]\n"
                                       "gone: ~\n"
                                       "new: yes\n";

        assert_int_equal(ydoc_parse_string("base.yaml", base_yaml, strlen(base_yaml), &base, &err), 0);
        assert_int_equal(ydoc_parse_string("top.yaml", top_yaml, strlen(top_yaml), &top, &err), 0);
        m = ynode_new_mapping("none", 1, 1);
        assert_non_null(m);
        assert_int_equal(ynode_merge(m, base->root), 0);
        assert_int_equal(ynode_merge(m, top->root), 0);

        /* the merged mapping takes the position of the last document */
        assert_string_equal(m->file, "top.yaml");
        assert_pos(m, 2, 1);
        assert_int_equal(m->n, 5);
        assert_string_equal(m->keys[0]->value, "x");           /* order: first seen */
        assert_string_equal(m->keys[4]->value, "new");
        assert_string_equal(ynode_get_str(m, "x"), "1");
        assert_string_equal(ynode_get(m, "x")->file, "base.yaml");

        YNode *map = ynode_get(m, "map");
        assert_int_equal(map->n, 4);                            /* a, b, inner, c */
        assert_string_equal(ynode_get_str(map, "a"), "1");
        assert_string_equal(ynode_get_str(map, "b"), "20");
        assert_string_equal(ynode_get(map, "b")->file, "top.yaml");
        assert_string_equal(ynode_get_str(map, "c"), "30");
        assert_string_equal(map->file, "top.yaml");
        assert_string_equal(m->keys[1]->file, "top.yaml");      /* the key was last written there */
        YNode *inner = ynode_get(map, "inner");
        assert_string_equal(ynode_get_str(inner, "p"), "1");
        assert_string_equal(ynode_get_str(inner, "q"), "2");

        YNode *list = ynode_get(m, "list");                     /* replaced, not concatenated */
        assert_int_equal(list->n, 1);
        assert_string_equal(list->items[0]->value, "9");
        assert_true(ynode_is_null(ynode_get(m, "gone")));       /* null replaces too */
        assert_non_null(ynode_get(m, "gone"));

        /* not two mappings */
        assert_int_equal(ynode_merge(m, list), -EINVAL);
        assert_int_equal(ynode_merge(NULL, m), -EINVAL);

        ynode_remove(m, "map");
        ynode_remove(m, "nothing");
        assert_int_equal(m->n, 4);
        assert_null(ynode_get(m, "map"));
        assert_string_equal(m->keys[1]->value, "list");
        assert_string_equal(m->keys[3]->value, "new");
        ynode_free(m);
        ynode_free(NULL);
}

static void test_lookup(void **state) {
        _cleanup_ydoc_ YDoc *d = parse_ok("a: 1\nb: [x]\nc:\nd: ~\n");

        assert_string_equal(ynode_get_str(d->root, "a"), "1");
        assert_null(ynode_get_str(d->root, "b")); /* not a scalar */
        assert_null(ynode_get_str(d->root, "c")); /* null */
        assert_null(ynode_get_str(d->root, "d"));
        assert_non_null(ynode_get(d->root, "c"));
        assert_null(ynode_get(d->root, "zzz"));
        assert_null(ynode_get(NULL, "a"));
        assert_null(ynode_get(ynode_get(d->root, "b"), "x")); /* not a mapping */
        assert_string_equal(ynode_type_name(YNODE_SEQUENCE), "a list");
        assert_string_equal(ynode_type_name(YNODE_MAPPING), "a mapping");
}

static void test_scalars(void **state) {
        _cleanup_ydoc_ YDoc *d = parse_ok(
                "t1: true\nt2: yes\nt3: On\nf1: false\nf2: no\nq: \"true\"\nx: maybe\n"
                "n1: 42\nn2: -1\nn3: \"7\"\nn4: 18446744073709551615\nn5: 18446744073709551616\nn6: 1.5\n"
                "z1: ~\nz2: null\nz3:\nz4: \"\"\nz5: 'null'\n");
        YNode *r = d->root;
        bool b;
        uint64_t u;

        assert_int_equal(ynode_bool(ynode_get(r, "t1"), &b), 0);
        assert_true(b);
        assert_int_equal(ynode_bool(ynode_get(r, "t2"), &b), 0);
        assert_true(b);
        assert_int_equal(ynode_bool(ynode_get(r, "t3"), &b), 0);
        assert_true(b);
        assert_int_equal(ynode_bool(ynode_get(r, "f1"), &b), 0);
        assert_false(b);
        assert_int_equal(ynode_bool(ynode_get(r, "f2"), &b), 0);
        assert_false(b);
        assert_int_equal(ynode_bool(ynode_get(r, "q"), &b), -EINVAL); /* quoted: a string */
        assert_int_equal(ynode_bool(ynode_get(r, "x"), &b), -EINVAL);
        assert_int_equal(ynode_bool(NULL, &b), -EINVAL);

        assert_int_equal(ynode_u64(ynode_get(r, "n1"), &u), 0);
        assert_int_equal(u, 42);
        assert_int_equal(ynode_u64(ynode_get(r, "n2"), &u), -EINVAL);
        assert_int_equal(ynode_u64(ynode_get(r, "n3"), &u), -EINVAL);
        assert_int_equal(ynode_u64(ynode_get(r, "n4"), &u), 0);
        assert_true(u == UINT64_MAX);
        assert_int_equal(ynode_u64(ynode_get(r, "n5"), &u), -EINVAL);
        assert_int_equal(ynode_u64(ynode_get(r, "n6"), &u), -EINVAL);

        assert_true(ynode_is_null(ynode_get(r, "z1")));
        assert_true(ynode_is_null(ynode_get(r, "z2")));
        assert_true(ynode_is_null(ynode_get(r, "z3")));
        assert_false(ynode_is_null(ynode_get(r, "z4"))); /* "" is a string */
        assert_false(ynode_is_null(ynode_get(r, "z5")));
        assert_true(ynode_is_null(NULL));
}

static void test_syntax_error_position(void **state) {
        _cleanup_free_ char *e1 = parse_fail("a: 1\nb:\n\t- x\n", 12);
        _cleanup_free_ char *e2 = parse_fail("a: [1, 2\n", 9);
        _cleanup_free_ char *e3 = parse_fail("a: 1\n b: 2\n", 11);

        assert_true(startswith(e1, "t.yaml:3:1: YAML syntax error: "));
        assert_true(startswith(e2, "t.yaml:2:1: YAML syntax error: "));
        assert_true(startswith(e3, "t.yaml:2:3: YAML syntax error: mapping values are not allowed"));
}

static void test_duplicate_keys(void **state) {
        _cleanup_free_ char *top = parse_fail("a: 1\nb: 2\na: 3\n", 15);
        _cleanup_free_ char *nested = parse_fail("x:\n  - {k: 1, k: 2}\n", 20);

        assert_string_equal(top, "t.yaml:3:1: duplicate key 'a' (first at line 1)");
        assert_string_equal(nested, "t.yaml:2:12: duplicate key 'k' (first at line 2)");
}

static void test_multiple_documents(void **state) {
        _cleanup_free_ char *e = parse_fail("a: 1\n---\nb: 2\n", 14);
        _cleanup_free_ char *e2 = parse_fail("---\na: 1\n...\n---\nb: 2\n", 22);

        assert_string_equal(e, "t.yaml:3:1: a profile file holds one YAML document; found a second one here");
        assert_true(startswith(e2, "t.yaml:5:1: "));

        /* one explicit document is fine */
        _cleanup_ydoc_ YDoc *d = parse_ok("---\na: 1\n...\n");
        assert_string_equal(ynode_get_str(d->root, "a"), "1");
}

static void test_empty_documents(void **state) {
        static const char *const empty[] = { "", "\n\n", "# just a comment\n", "   \n# x\n" };

        for (size_t i = 0; i < ELEMENTSOF(empty); i++) {
                _cleanup_ydoc_ YDoc *d = parse_ok(empty[i]);
                assert_null(d->root);
        }
        /* an explicit empty document is a null scalar */
        _cleanup_ydoc_ YDoc *d = parse_ok("---\n");
        assert_non_null(d->root);
        assert_true(ynode_is_null(d->root));
}

static void test_aliases_resolved(void **state) {
        _cleanup_ydoc_ YDoc *d = parse_ok("base: &b {k: v, n: 1}\ncopy: *b\nlist: [*b, *b]\n");
        YNode *copy = ynode_get(d->root, "copy");

        assert_int_equal(copy->type, YNODE_MAPPING);
        assert_string_equal(ynode_get_str(copy, "k"), "v");
        assert_ptr_not_equal(copy, ynode_get(d->root, "base")); /* a copy: freeing is simple */
        assert_string_equal(ynode_get_str(ynode_get(d->root, "list")->items[1], "n"), "1");
}

/* "Billion laughs": 9 levels of 9 aliases would be 9^9 nodes. */
static void test_alias_bomb_bounded(void **state) {
        static const char bomb[] =
                "a: &a [x, x, x, x, x, x, x, x, x]\n"
                "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
        struct timespec t0, t1;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        _cleanup_free_ char *e = parse_fail(bomb, strlen(bomb));
        clock_gettime(CLOCK_MONOTONIC, &t1);

        assert_non_null(strstr(e, "more than 100000 nodes"));
        /* bounded work: far below a second even under valgrind or ASan */
        assert_true((t1.tv_sec - t0.tv_sec) < 10);
}

static void test_alias_cycle_bounded(void **state) {
        _cleanup_free_ char *e = parse_fail("a: &a [*a]\n", 11);
        assert_string_equal(e, "t.yaml:1:8: alias '*a' is used inside the node it names (a cycle)");
}

static void test_depth_limit(void **state) {
        StrBuf b = {};
        _cleanup_free_ char *yaml = NULL;

        for (int i = 0; i < 100; i++)
                assert_int_equal(strbuf_append(&b, "["), 0);
        for (int i = 0; i < 100; i++)
                assert_int_equal(strbuf_append(&b, "]"), 0);
        yaml = strbuf_steal(&b);
        _cleanup_free_ char *e = parse_fail(yaml, strlen(yaml));
        assert_true(startswith(e, "t.yaml:1:"));
        assert_non_null(strstr(e, "nested deeper than 64 levels"));

        /* 60 levels are fine */
        yaml[0] = 0;
        StrBuf ok = {};
        for (int i = 0; i < 60; i++)
                assert_int_equal(strbuf_append(&ok, "["), 0);
        for (int i = 0; i < 60; i++)
                assert_int_equal(strbuf_append(&ok, "]"), 0);
        _cleanup_free_ char *y2 = strbuf_steal(&ok);
        _cleanup_ydoc_ YDoc *d = parse_ok(y2);
        assert_int_equal(d->root->type, YNODE_SEQUENCE);
}

static void test_odd_keys_and_scalars(void **state) {
        _cleanup_free_ char *complex_key = parse_fail("? [a, b]\n: c\n", 12);
        _cleanup_free_ char *nul = parse_fail("a: \"x\\0y\"\n", 10);

        assert_true(startswith(complex_key, "t.yaml:1:3: mapping keys must be plain strings"));
        assert_true(startswith(nul, "t.yaml:1:4: scalar contains a NUL byte"));

        /* a NUL byte in the input itself is a syntax error, not a crash */
        _cleanup_free_ char *raw = parse_fail("a: b\0c\n", 7);
        assert_true(startswith(raw, "t.yaml:"));
}

/* Only size bytes are read, whatever follows. */
static void test_size_respected(void **state) {
        _cleanup_free_ char *err = NULL;
        YDoc *d = NULL;
        static const char data[] = "a: 1\n\tgarbage: [";

        assert_int_equal(ydoc_parse_string("t.yaml", data, 5, &d, &err), 0);
        assert_string_equal(ynode_get_str(d->root, "a"), "1");
        ydoc_free(d);
        ydoc_free(NULL);
}

static void test_parse_file(void **state) {
        char path[] = "/tmp/test_ydoc.XXXXXX";
        int fd = mkstemp(path);
        _cleanup_free_ char *err = NULL;
        YDoc *d = NULL;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "k: v\n", 5), 5);
        close(fd);
        assert_int_equal(ydoc_parse_file(path, &d, &err), 0);
        assert_string_equal(d->filename, path);
        assert_string_equal(ynode_get_str(d->root, "k"), "v");
        ydoc_free(d);
        unlink(path);

        d = NULL;
        assert_int_equal(ydoc_parse_file("/nonexistent/x.yaml", &d, &err), -ENOENT);
        assert_null(d);
        assert_true(startswith(err, "/nonexistent/x.yaml: "));
}

static double cpu_seconds(void) {
        struct timespec t;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
        return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail) {
        size_t lh = strlen(head), lu = strlen(unit), lt = strlen(tail);
        char *s = malloc(lh + lu * n + lt + 1);

        assert_non_null(s);
        memcpy(s, head, lh);
        for (size_t i = 0; i < n; i++)
                memcpy(s + lh + i * lu, unit, lu);
        memcpy(s + lh + lu * n, tail, lt + 1);
        return s;
}

/* Limits are enforced while parsing: a hostile document costs what the
 * limits allow, not what its size would. Before, libyaml built the whole
 * tree first: 100000 levels took 16-32 s of CPU, 4 MiB of them hours. The
 * CPU bounds here are loose (ASan, a loaded machine); benchmarks measure. */
static void test_hostile_documents_stop_early(void **state) {
        static const struct {
                const char *head, *unit, *tail;
                size_t n;
                const char *expected; /* message prefix */
        } cases[] = {
                /* 100000 levels of flow lists */
                { "a: ", "[", "", 100000, "t.yaml:1:67: document nested deeper than 64 levels" },
                /* 100000 levels of flow mappings */
                { "", "{a: ", "", 100000, "t.yaml:1:257: document nested deeper than 64 levels" },
                /* 100000 levels of block lists */
                { "", "- ", "x\n", 100000, "t.yaml:1:129: document nested deeper than 64 levels" },
                /* a 4 MiB profile of nesting (the size limit itself) */
                { "", "[", "", YDOC_MAX_SIZE, "t.yaml:1:65: document nested deeper than 64 levels" },
                /* 4 MiB of one flat list: stops at the node limit */
                { "[", "x, ", "x]", (YDOC_MAX_SIZE - 3) / 3, "t.yaml:1:299999: document has more than 100000 nodes" },
                /* one byte more than the size limit: refused before parsing */
                { "a: ", "x", "", YDOC_MAX_SIZE - 2, "t.yaml: document is larger than 4194304 bytes" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *yaml = repeat(cases[i].head, cases[i].unit, cases[i].n, cases[i].tail);
                double t0 = cpu_seconds();
                _cleanup_free_ char *e = parse_fail(yaml, strlen(yaml));
                double t = cpu_seconds() - t0;

                if (!startswith(e, cases[i].expected) || t > 2.0)
                        fail_msg("case %zu: %.3f s CPU: %s", i, t, e);
        }
}

/* 49990 distinct keys in one mapping: the duplicate check sorts (it was
 * quadratic: 1.25e9 comparisons). */
static void test_wide_mapping_fast(void **state) {
        StrBuf b = {};
        double t0;

        for (int i = 0; i < 49990; i++)
                assert_int_equal(strbuf_appendf(&b, "key%d: %d\n", i, i), 0);
        assert_int_equal(strbuf_appendf(&b, "key17: again\n"), 0);
        _cleanup_free_ char *yaml = strbuf_steal(&b);
        t0 = cpu_seconds();
        _cleanup_free_ char *e = parse_fail(yaml, strlen(yaml));
        assert_string_equal(e, "t.yaml:49991:1: duplicate key 'key17' (first at line 18)");
        assert_true(cpu_seconds() - t0 < 2.0);
}

/* libyaml's reader reports only a byte offset: the position is computed. */
static void test_reader_errors_positioned(void **state) {
        static const struct {
                const char *yaml;
                const char *expected;
        } cases[] = {
                { "a: 1\nb: x\xffy\n", "t.yaml:2:5: invalid input: invalid leading UTF-8 octet (byte 0xFF)" },
                { "a: 1\nb\xc3\xa9: \x01\n", "t.yaml:2:5: invalid input: control characters are not allowed (byte 0x01)" },
                { "a: 1\n\n  # \xc3\xa9\xc3\xa9\x7f\n", "t.yaml:3:7: invalid input: control characters are not allowed (byte 0x7F)" },
                { "k: \xe2\x82\n", "t.yaml:1:5: invalid input: invalid trailing UTF-8 octet (byte 0x0A)" },
                { "a: b\0c\n", "t.yaml:1:5: invalid input: control characters are not allowed (byte 0x00)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t size = i == 4 ? 7 : strlen(cases[i].yaml);
                _cleanup_free_ char *e = parse_fail(cases[i].yaml, size);
                if (!startswith(e, cases[i].expected))
                        fail_msg("case %zu: %s", i, e);
        }
}

/* A key can hold any character through a double-quoted escape: messages
 * show it escaped. */
static void test_control_characters_escaped(void **state) {
        _cleanup_free_ char *e = parse_fail("\"k\\x01\": 1\n\"k\\x01\": 2\n", 22);
        _cleanup_free_ char *alias = parse_fail("a: *\"x\"\n", 8);
        _cleanup_free_ char *esc = ydoc_escape("a\tb\x7f", 60), *cut = ydoc_escape("abcdef", 3);

        assert_string_equal(e, "t.yaml:2:1: duplicate key 'k\\x01' (first at line 1)");
        assert_true(startswith(alias, "t.yaml:1:"));
        assert_string_equal(esc, "a\\x09b\\x7f");
        assert_string_equal(cut, "abc...");
}

static void test_alias_undefined(void **state) {
        _cleanup_free_ char *e = parse_fail("a: *nope\n", 9);
        assert_string_equal(e, "t.yaml:1:4: alias '*nope' names no anchor before it");
}

/* Only regular files are read, and at most YDOC_MAX_SIZE bytes of them: a
 * FIFO is not even waited for, /dev/zero is not read. */
static void test_parse_file_regular_only(void **state) {
        char dir[] = "/tmp/test_ydoc.XXXXXX";
        _cleanup_free_ char *fifo = NULL, *big = NULL, *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
        YDoc *d = NULL;
        int fd;

        assert_non_null(mkdtemp(dir));
        fifo = strprintf("%s/fifo.yaml", dir);
        big = strprintf("%s/big.yaml", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, YDOC_MAX_SIZE + 1), 0);
        close(fd);

        assert_int_equal(ydoc_parse_file(fifo, &d, &e1), -EBADFD);
        assert_int_equal(ydoc_parse_file("/dev/zero", &d, &e2), -EBADFD);
        assert_int_equal(ydoc_parse_file(big, &d, &e3), -EFBIG);
        assert_int_equal(ydoc_parse_file(dir, &d, &e4), -EISDIR);
        assert_null(d);
        assert_true(endswith(e1, "fifo.yaml: cannot read: not a regular file"));
        assert_string_equal(e2, "/dev/zero: cannot read: not a regular file");
        assert_true(endswith(e3, "big.yaml: cannot read: larger than 4194304 bytes"));
        unlink(fifo);
        unlink(big);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_positions),
                cmocka_unit_test(test_file_of_every_node),
                cmocka_unit_test(test_merge),
                cmocka_unit_test(test_lookup),
                cmocka_unit_test(test_scalars),
                cmocka_unit_test(test_syntax_error_position),
                cmocka_unit_test(test_duplicate_keys),
                cmocka_unit_test(test_multiple_documents),
                cmocka_unit_test(test_empty_documents),
                cmocka_unit_test(test_aliases_resolved),
                cmocka_unit_test(test_alias_bomb_bounded),
                cmocka_unit_test(test_alias_cycle_bounded),
                cmocka_unit_test(test_depth_limit),
                cmocka_unit_test(test_odd_keys_and_scalars),
                cmocka_unit_test(test_size_respected),
                cmocka_unit_test(test_parse_file),
                cmocka_unit_test(test_hostile_documents_stop_early),
                cmocka_unit_test(test_wide_mapping_fast),
                cmocka_unit_test(test_reader_errors_positioned),
                cmocka_unit_test(test_control_characters_escaped),
                cmocka_unit_test(test_alias_undefined),
                cmocka_unit_test(test_parse_file_regular_only),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
