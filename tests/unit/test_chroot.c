/* SPDX-License-Identifier: GPL-2.0-or-later */
/* target_chroot_run(): a static busybox in a temporary root runs with /proc,
 * /sys, /dev, /dev/pts and /run mounted, and nothing stays mounted after it,
 * whether the command succeeds, fails or cannot be executed. Needs root
 * (mount, chroot) and a static /usr/bin/busybox; skipped otherwise. */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "target/target.h"

#define BUSYBOX "/usr/bin/busybox"

static char root[64];

/* How many mounts of the host are at or below dir. */
static int mounts_below(const char *dir) {
        _cleanup_free_ char *data = NULL;
        int n = 0;

        assert_int_equal(read_full_file("/proc/self/mountinfo", &data, NULL), 0);
        for (char *l = data; l && *l;) {
                char mp[4096];
                /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." */
                if (sscanf(l, "%*s %*s %*s %*s %4095s", mp) == 1 && startswith(mp, dir))
                        n++;
                l = strchr(l, '\n');
                if (l)
                        l++;
        }
        return n;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static int setup(void **state) {
        _cleanup_free_ char *bin = NULL, *data = NULL;
        size_t size = 0;

        if (geteuid() != 0 || access(BUSYBOX, X_OK) < 0)
                return 0;
        strcpy(root, "/tmp/test-chroot-XXXXXX");
        assert_non_null(mkdtemp(root));
        bin = strprintf("%s/bin", root);
        assert_int_equal(mkdir(bin, 0755), 0);
        assert_int_equal(read_full_file(BUSYBOX, &data, &size), 0);
        free(bin);
        bin = strprintf("%s/bin/busybox", root);
        assert_int_equal(write_file_atomic(bin, data, size, 0755), 0);
        return 0;
}

static int teardown(void **state) {
        if (!root[0])
                return 0;
        /* Never walk into a mount left behind (it could be the host's /dev). */
        if (mounts_below(root) == 0)
                (void) nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        else
                fprintf(stderr, "mounts left below %s: not removing it\n", root);
        return 0;
}

static void need_root(void) {
        if (!root[0])
                skip();
}

static void count_line(const char *line, void *userdata) {
        char ***lines = userdata;
        assert_int_equal(strv_extend(lines, line), 0);
}

static void test_runs_with_api_fs(void **state) {
        char *const argv[] = { "/bin/busybox", "sh", "-c",
                               "test -r /proc/self/status && echo proc-ok; "
                               "test -d /sys/class && echo sys-ok; "
                               "test -c /dev/null && echo dev-ok; "
                               "grep -q ' /run tmpfs ' /proc/mounts && echo run-ok; "
                               "echo \"PATH=$PATH\"; echo HOME=$HOME",
                               NULL };
        _cleanup_free_ char *out = NULL;
        char **lines = NULL;

        need_root();
        assert_int_equal(target_chroot_run_full(root, argv, count_line, &lines, &out), 0);
        assert_non_null(strstr(out, "proc-ok"));
        assert_non_null(strstr(out, "sys-ok"));
        assert_non_null(strstr(out, "dev-ok"));
        assert_non_null(strstr(out, "run-ok"));
        assert_non_null(strstr(out, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
        /* Line by line, in order, without newlines. */
        assert_int_equal(strv_length(lines), 6);
        assert_string_equal(lines[0], "proc-ok");
        assert_string_equal(lines[5], "HOME=/root");
        strv_free(lines);
        assert_int_equal(mounts_below(root), 0);
}

static void test_failure_unmounts(void **state) {
        char *const fail[] = { "/bin/busybox", "sh", "-c", "echo failing; exit 3", NULL };
        char *const missing[] = { "/bin/nonexistent", NULL };
        char *const relative[] = { "bin/busybox", "true", NULL };
        _cleanup_free_ char *out = NULL;

        need_root();
        assert_int_equal(target_chroot_run(root, fail, &out), -EPROTO);
        assert_string_equal(out, "failing");
        assert_int_equal(mounts_below(root), 0);
        assert_int_equal(target_chroot_run(root, missing, NULL), -ENOENT);
        assert_int_equal(mounts_below(root), 0);
        assert_int_equal(target_chroot_run(root, relative, NULL), -EINVAL);
        assert_int_equal(mounts_below(root), 0);
}

/* A symlink in the image cannot put a mount outside the target. */
static void test_mount_point_symlink(void **state) {
        char *const argv[] = { "/bin/busybox", "true", NULL };
        char outside[] = "/tmp/test-chroot-outside-XXXXXX";
        _cleanup_free_ char *run = NULL, *inner = NULL;
        struct stat st;

        need_root();
        assert_non_null(mkdtemp(outside));
        run = strprintf("%s/run", root);
        (void) rmdir(run); /* made by the first test */
        assert_int_equal(symlink(outside, run), 0);
        assert_int_equal(target_chroot_run(root, argv, NULL), 0);
        /* The absolute link was resolved inside the root. */
        inner = strprintf("%s%s", root, outside);
        assert_int_equal(stat(inner, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(mounts_below(outside), 0);
        assert_int_equal(mounts_below(root), 0);
        assert_int_equal(rmdir(outside), 0);
        assert_int_equal(unlink(run), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runs_with_api_fs),
                cmocka_unit_test(test_failure_unmounts),
                cmocka_unit_test(test_mount_point_symlink),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
