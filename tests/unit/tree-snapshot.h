/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A snapshot of a directory tree for "nothing outside the target changed"
 * checks (test_boot's and test_target's hostile images): every path, mode
 * and regular file's content below base, the subtree skip excepted. Include
 * after cmocka.h. */
#pragma once

#include <ftw.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/strutil.h"

static StrBuf tree_snap;
static const char *tree_snap_skip;
static size_t tree_snap_base_len;

static int tree_snapshot_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        const char *rest = startswith(path, tree_snap_skip);
        if (rest && (*rest == '/' || !*rest))
                return 0;
        assert_int_equal(strbuf_appendf(&tree_snap, "%s %o", path + tree_snap_base_len, (unsigned) st->st_mode), 0);
        if (S_ISREG(st->st_mode)) {
                _cleanup_free_ char *text = NULL;
                assert_int_equal(read_full_file(path, &text, NULL), 0);
                assert_int_equal(strbuf_appendf(&tree_snap, " [%s]", text), 0);
        }
        assert_int_equal(strbuf_append(&tree_snap, "\n"), 0);
        return 0;
}

/* Allocated; the caller frees it. */
static char *tree_snapshot(const char *base, const char *skip) {
        tree_snap = (StrBuf) {};
        tree_snap_skip = skip;
        tree_snap_base_len = strlen(base);
        assert_int_equal(nftw(base, tree_snapshot_entry, 16, FTW_PHYS), 0);
        return strbuf_steal(&tree_snap);
}
