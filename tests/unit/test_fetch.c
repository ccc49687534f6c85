/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for installer/fetch: file: URLs name regular files only (no
 * FIFO that would block, no device that would be read forever), within the
 * size limit; messages carry the redacted URL. No network: file: only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/strutil.h"
#include "fetch/fetch.h"

static void test_file_urls(void **state) {
        char dir[] = "/tmp/test_fetch.XXXXXX";
        _cleanup_free_ char *fifo = NULL, *small = NULL, *u = NULL;
        FetchOptions o = { .attempts = 1, .timeout_sec = 5, .max_size = 1024 };
        static const struct {
                const char *name; /* below dir, or an absolute path */
                int r;
                const char *error; /* suffix of the message */
        } cases[] = {
                { "fifo", -EBADFD, "fifo: not a regular file (a FIFO, socket or device is never read)" },
                { "/dev/zero", -EBADFD, "file:///dev/zero: not a regular file (a FIFO, socket or device is never read)" },
                { "big", -EFBIG, "big: document too large" },
                { "", -EISDIR, "is a directory" },
                { "small?token=SeCrEt", 0, NULL },
                { "sm%61ll", 0, NULL },
        };
        int fd;

        assert_int_equal(fetch_global_init(), 0);
        assert_non_null(mkdtemp(dir));
        fifo = strprintf("%s/fifo", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        small = strprintf("%s/small", dir);
        fd = open(small, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "k: v\n", 5), 5);
        close(fd);
        u = strprintf("%s/big", dir);
        fd = open(u, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 1025), 0);
        close(fd);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *url = cases[i].name[0] == '/' ? strprintf("file://%s", cases[i].name)
                                                                    : strprintf("file://%s/%s", dir, cases[i].name);
                _cleanup_free_ char *data = NULL, *err = NULL;
                size_t size = 0;
                int r = fetch_to_buffer(url, &o, &data, &size, &err);

                if (r != cases[i].r || (cases[i].error && (!err || !endswith(err, cases[i].error))))
                        fail_msg("case %zu (%s): %d %s", i, url, r, err ?: "(no message)");
                if (r == 0)
                        assert_string_equal(data, "k: v\n");
                assert_true(!err || !strstr(err, "SeCrEt"));
        }
        unlink(fifo);
        unlink(small);
        unlink(u);
        rmdir(dir);
        fetch_global_done();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_file_urls),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
