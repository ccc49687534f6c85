/* SPDX-License-Identifier: GPL-2.0-or-later */
/* process_run(): exit statuses, output streamed while the child runs, a
 * child that leaves a daemon behind (the daemon keeps the output pipe open)
 * returns as soon as it exits and the daemon is killed, a timeout kills the
 * whole process group, grandchildren included, and a caught SIGTERM stops
 * the child and every later one except cleanup children. Each test runs
 * under alarm(): a hang fails it. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/interrupt.h"
#include "basic/process.h"
#include "basic/strutil.h"

#define SH "/bin/sh"
#define WATCHDOG_S 30

static char dir[64];

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* The pid the shell wrote to dir/NAME. */
static pid_t read_pid(const char *name) {
        _cleanup_free_ char *path = strprintf("%s/%s", dir, name), *data = NULL;
        assert_non_null(path);
        assert_int_equal(read_full_file(path, &data, NULL), 0);
        return (pid_t) atoi(data);
}

/* Gone: no such process, and not a zombie either. */
static bool gone(pid_t pid) {
        for (int i = 0; i < 100; i++) {
                if (kill(pid, 0) < 0 && errno == ESRCH)
                        return true;
                usleep(20 * 1000);
        }
        return false;
}

static int setup(void **state) {
        (void) state;
        strcpy(dir, "/tmp/test-process-XXXXXX");
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        char cmd[128];
        (void) state;
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_exit_codes(void **state) {
        _cleanup_free_ char *out = NULL;
        (void) state;
        alarm(WATCHDOG_S);
        assert_int_equal(process_run((char *const[]) { SH, "-c", "echo hello; echo world >&2", NULL }, NULL, &out), 0);
        assert_string_equal(out, "hello\nworld");
        assert_int_equal(process_run((char *const[]) { SH, "-c", "exit 3", NULL }, NULL, NULL), -EPROTO);
        assert_int_equal(process_run((char *const[]) { "/nonexistent/tool", NULL }, NULL, NULL), -ENOENT);
        assert_int_equal(process_run((char *const[]) { SH, "-c", "kill -KILL $$", NULL }, NULL, NULL), -EINTR);
        alarm(0);
}

typedef struct Lines {
        double start;
        double first_at;
        unsigned n;
} Lines;

static void on_line(const char *line, void *userdata) {
        Lines *l = userdata;
        if (l->n++ == 0) {
                assert_string_equal(line, "one");
                l->first_at = now_s() - l->start;
        }
}

static void test_streamed(void **state) {
        Lines l = { .start = now_s() };
        ProcessOptions o = { .on_line = on_line, .userdata = &l };
        (void) state;
        alarm(WATCHDOG_S);
        assert_int_equal(process_run_opts((char *const[]) { SH, "-c", "echo one; sleep 2; echo two", NULL }, &o, NULL), 0);
        assert_int_equal(l.n, 2);
        /* The first line came while it slept, not at its end. */
        assert_true(l.first_at < 1.5);
        alarm(0);
}

/* post_install: ["daemon &"]: the background process holds the pipe. */
static void test_background_daemon(void **state) {
        _cleanup_free_ char *cmd = strprintf("sleep 300 & echo $! >%s/daemon.pid; echo started", dir), *out = NULL;
        double t;
        (void) state;
        alarm(WATCHDOG_S);
        t = now_s();
        assert_int_equal(process_run((char *const[]) { SH, "-c", cmd, NULL }, NULL, &out), 0);
        t = now_s() - t;
        assert_string_equal(out, "started");
        assert_true(t < (PROCESS_DRAIN_MS + PROCESS_KILL_GRACE_MS) / 1000.0 + 2);
        assert_true(gone(read_pid("daemon.pid")));
        alarm(0);
}

/* A daemon in a session of its own is not in the group: it is reparented
 * to the installer and killed too. */
static void test_setsid_daemon(void **state) {
        _cleanup_free_ char *cmd = strprintf("setsid sleep 300 >/dev/null 2>&1 </dev/null & echo $! >%s/setsid.pid", dir);
        (void) state;
        alarm(WATCHDOG_S);
        assert_int_equal(process_run((char *const[]) { SH, "-c", cmd, NULL }, NULL, NULL), 0);
        assert_true(gone(read_pid("setsid.pid")));
        alarm(0);
}

static void test_timeout_kills_group(void **state) {
        _cleanup_free_ char *cmd = strprintf("sleep 300 & echo $! >%s/grandchild.pid; echo waiting; sleep 300", dir),
                            *out = NULL;
        ProcessOptions o = { .timeout_ms = 1000 };
        double t;
        (void) state;
        alarm(WATCHDOG_S);
        t = now_s();
        assert_int_equal(process_run_opts((char *const[]) { SH, "-c", cmd, NULL }, &o, &out), -ETIME);
        t = now_s() - t;
        assert_true(t >= 0.9);
        assert_true(t < 1 + PROCESS_KILL_GRACE_MS / 1000.0 + 2);
        assert_non_null(strstr(out, "waiting"));
        assert_non_null(strstr(out, "timed out after 1 s"));
        assert_true(gone(read_pid("grandchild.pid")));
        /* A shell that ignores SIGTERM gets SIGKILL. */
        o.timeout_ms = 500;
        assert_int_equal(process_run_opts((char *const[]) { SH, "-c", "trap '' TERM; sleep 300", NULL }, &o, NULL), -ETIME);
        alarm(0);
}

static void test_default_timeouts(void **state) {
        (void) state;
        assert_int_equal(process_default_timeout_ms((char *const[]) { "/sbin/mkfs.ext4", NULL }), 1800000);
        assert_int_equal(process_default_timeout_ms((char *const[]) { "/sbin/mdadm", NULL }), 300000);
        assert_int_equal(process_default_timeout_ms((char *const[]) { "/sbin/cryptsetup", NULL }), 600000);
        assert_int_equal(process_default_timeout_ms((char *const[]) { "/usr/bin/apt-get", NULL }), 3600000);
        assert_int_equal(process_default_timeout_ms((char *const[]) { "/usr/sbin/update-initramfs", NULL }), 1800000);
        assert_int_equal(process_default_timeout_ms((char *const[]) { "/bin/true", NULL }), 300000);
}

static void *send_term(void *userdata) {
        (void) userdata;
        usleep(500 * 1000);
        kill(getpid(), SIGTERM);
        return NULL;
}

static void test_signal(void **state) {
        _cleanup_free_ char *cmd = strprintf("sleep 300 & echo $! >%s/sig.pid; sleep 300", dir);
        pthread_t th;
        double t;
        (void) state;
        alarm(WATCHDOG_S);
        interrupt_reset();
        assert_int_equal(interrupt_install(), 0);
        assert_int_equal(pthread_create(&th, NULL, send_term, NULL), 0);
        t = now_s();
        assert_int_equal(process_run((char *const[]) { SH, "-c", cmd, NULL }, NULL, NULL), -ECANCELED);
        t = now_s() - t;
        pthread_join(th, NULL);
        assert_true(t < 0.5 + PROCESS_KILL_GRACE_MS / 1000.0 + 2);
        assert_true(gone(read_pid("sig.pid")));
        assert_int_equal(interrupt_signal(), SIGTERM);
        assert_int_equal(interrupt_exit_status(6), 143);
        /* Later children are not started, cleanup children are. */
        assert_int_equal(process_run((char *const[]) { SH, "-c", "true", NULL }, NULL, NULL), -ECANCELED);
        ProcessOptions o = { .cleanup = true };
        assert_int_equal(process_run_opts((char *const[]) { SH, "-c", "true", NULL }, &o, NULL), 0);
        interrupt_reset();
        assert_int_equal(interrupt_exit_status(6), 6);
        signal(SIGTERM, SIG_DFL);
        alarm(0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_codes),
                cmocka_unit_test(test_streamed),
                cmocka_unit_test(test_background_daemon),
                cmocka_unit_test(test_setsid_daemon),
                cmocka_unit_test(test_timeout_kills_group),
                cmocka_unit_test(test_default_timeouts),
                cmocka_unit_test(test_signal),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
