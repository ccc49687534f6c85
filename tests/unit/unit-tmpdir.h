/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A temporary directory for a cmocka group: `tmpdir` exists from
 * tmpdir_group_setup() (give it to cmocka_run_group_tests()) until
 * tmpdir_group_teardown() removes it with everything in it. Include after
 * cmocka.h. */
#pragma once

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *tmpdir;

static int tmpdir_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int tmpdir_group_setup(void **state) {
        char t[] = "/tmp/test-unit-XXXXXX";
        if (!mkdtemp(t))
                return -1;
        tmpdir = strdup(t);
        return tmpdir ? 0 : -1;
}

static int tmpdir_group_teardown(void **state) {
        if (tmpdir)
                (void) nftw(tmpdir, tmpdir_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(tmpdir);
        tmpdir = NULL;
        return 0;
}
