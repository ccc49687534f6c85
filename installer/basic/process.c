/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "basic/interrupt.h"
#include "basic/log.h"
#include "basic/strutil.h"

#define OUTPUT_KEEP 8192

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

#define LINE_MAX_LEN 4096

/* How long a child may run, by the base name of its program. */
static const struct {
        const char *name;
        bool prefix;
        unsigned seconds;
} default_timeouts[] = {
        { "mkfs", true, 1800 },
        { "mke2fs", false, 1800 },
        { "mkswap", false, 1800 },
        { "mdadm", false, 300 },
        { "cryptsetup", false, 600 },
        { "lvm", false, 300 },
        { "apt-get", false, 3600 },
        { "update-initramfs", false, 1800 },
        { "mkinitramfs", false, 1800 },
        { "locale-gen", false, 600 },
        { "sh", false, 1800 },
};
#define DEFAULT_TIMEOUT_S 300u

uint64_t process_default_timeout_ms(char *const argv[]) {
        const char *base;

        if (!argv || !argv[0])
                return DEFAULT_TIMEOUT_S * 1000ull;
        base = strrchr(argv[0], '/');
        base = base ? base + 1 : argv[0];
        for (size_t i = 0; i < ELEMENTSOF(default_timeouts); i++) {
                const char *n = default_timeouts[i].name;
                if (default_timeouts[i].prefix ? !!startswith(base, n) : streq(base, n))
                        return default_timeouts[i].seconds * 1000ull;
        }
        return DEFAULT_TIMEOUT_S * 1000ull;
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* Hand complete lines of buf to o->on_line; a line longer than
 * LINE_MAX_LEN is handed over in pieces. */
static void feed_lines(const ProcessOptions *o, char *line, size_t *len, const char *buf, size_t n, bool flush) {
        for (size_t i = 0; i < n; i++) {
                if (buf[i] == '\n' || *len == LINE_MAX_LEN) {
                        line[*len] = 0;
                        o->on_line(line, o->userdata);
                        *len = 0;
                        if (buf[i] == '\n')
                                continue;
                }
                line[(*len)++] = buf[i];
        }
        if (flush && *len > 0) {
                line[*len] = 0;
                o->on_line(line, o->userdata);
                *len = 0;
        }
}

typedef struct Output {
        const ProcessOptions *o;
        char keep[OUTPUT_KEEP + 1];
        size_t kept;
        char line[LINE_MAX_LEN + 1];
        size_t line_len;
} Output;

static void output_add(Output *out, const char *buf, size_t n) {
        if (out->o && out->o->on_line)
                feed_lines(out->o, out->line, &out->line_len, buf, n, false);
        /* Keep the tail: the end of a tool's output says what failed. */
        if (n >= OUTPUT_KEEP) {
                memcpy(out->keep, buf + n - OUTPUT_KEEP, OUTPUT_KEEP);
                out->kept = OUTPUT_KEEP;
                return;
        }
        if (out->kept + n > OUTPUT_KEEP) {
                size_t drop = out->kept + n - OUTPUT_KEEP;
                memmove(out->keep, out->keep + drop, out->kept - drop);
                out->kept -= drop;
        }
        memcpy(out->keep + out->kept, buf, n);
        out->kept += n;
}

/* Become a child subreaper once: what a child leaves behind in a session
 * of its own (a daemon that forked twice) is reparented to the installer,
 * which can then kill it. */
static void subreaper_once(void) {
        static bool done;

        if (done)
                return;
        done = true;
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                log_debug_errno(errno, "Cannot become a child subreaper: %m");
}

/* SIGKILL every process whose parent is the installer (with no child of
 * its own running, those are the leftovers reparented to it) and reap it.
 * Returns how many there were. */
static unsigned kill_orphans(void) {
        _cleanup_(closedirp) DIR *d = opendir("/proc");
        pid_t self = getpid();
        unsigned n = 0;
        struct dirent *de;

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char path[300], buf[512];
                _cleanup_close_ int fd = -1;
                ssize_t k;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                k = read(fd, buf, sizeof buf - 1);
                if (k <= 0)
                        continue;
                buf[k] = 0;
                /* pid (comm) state ppid ...: comm may hold anything but ')' ends it last. */
                const char *p = strrchr(buf, ')');
                int ppid;
                char state;
                if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2 || ppid != self)
                        continue;
                pid_t pid = (pid_t) atoi(de->d_name);
                (void) kill(pid, SIGKILL);
                n++;
        }
        /* Reap them (bounded: SIGKILLed processes go quickly, one in D state
         * is left as it is). */
        for (uint64_t end = now_ms() + PROCESS_KILL_GRACE_MS; n > 0 && now_ms() < end;) {
                pid_t w = waitpid(-1, NULL, WNOHANG | __WALL);
                if (w < 0)
                        break; /* ECHILD: all reaped */
                if (w == 0)
                        (void) poll(NULL, 0, 10);
        }
        return n;
}

/* Kill the whole group pgid: SIGTERM, then SIGKILL after the grace time,
 * reaping every member that is our child. Returns true if there was a
 * process left in it. */
static bool kill_group(pid_t pgid) {
        if (kill(-pgid, SIGTERM) < 0)
                return false;
        uint64_t end = now_ms() + PROCESS_KILL_GRACE_MS;
        for (;;) {
                while (waitpid(-pgid, NULL, WNOHANG | __WALL) > 0)
                        ;
                if (kill(-pgid, 0) < 0)
                        return true;
                if (now_ms() >= end)
                        break;
                (void) poll(NULL, 0, 20);
        }
        (void) kill(-pgid, SIGKILL);
        end = now_ms() + PROCESS_KILL_GRACE_MS;
        while (now_ms() < end) {
                while (waitpid(-pgid, NULL, WNOHANG | __WALL) > 0)
                        ;
                if (kill(-pgid, 0) < 0)
                        break;
                (void) poll(NULL, 0, 20);
        }
        return true;
}

static void child(char *const argv[], const ProcessOptions *o, int out_fd) {
        const char *chroot_dir = o ? o->chroot_dir : NULL;
        sigset_t all;
        int devnull;

        /* Its own process group: killing it kills what it started. */
        (void) setpgid(0, 0);
        /* Default dispositions and no blocked signals, whatever the
         * installer set. */
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void) signal(s, SIG_DFL);
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);

        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull >= 0)
                dup2(devnull, STDIN_FILENO);
        dup2(out_fd, STDOUT_FILENO);
        dup2(out_fd, STDERR_FILENO);
        if (chroot_dir && (chroot(chroot_dir) < 0 || chdir("/") < 0)) {
                dprintf(STDERR_FILENO, "chroot %s: %s\n", chroot_dir, strerror(errno));
                _exit(126);
        }
        if (o && o->envp)
                execve(argv[0], argv, o->envp);
        else
                execv(argv[0], argv);
        dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
}

int process_run(char *const argv[], const char *chroot_dir, char **ret_output) {
        ProcessOptions o = { .chroot_dir = chroot_dir };
        return process_run_opts(argv, &o, ret_output);
}

int process_run_opts(char *const argv[], const ProcessOptions *o, char **ret_output) {
        bool cleanup = o && o->cleanup;
        uint64_t timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : process_default_timeout_ms(argv);
        int pipefd[2], status = 0, r = 0;
        _cleanup_free_ Output *out = NULL;
        uint64_t start, deadline, kill_at = 0, killed_at = 0, drain_end = 0;
        unsigned nap = 1;
        bool exited = false;
        char buf[4096];
        pid_t pid;

        if (!argv || !argv[0])
                return -EINVAL;
        if (!cleanup && interrupt_check() < 0) {
                log_debug("Not starting %s: the installer was interrupted", argv[0]);
                if (ret_output && !(*ret_output = strdup("not started: the installer was interrupted")))
                        return -ENOMEM;
                return -ECANCELED;
        }
        out = new0(Output, 1);
        if (!out)
                return -ENOMEM;
        out->o = o;
        subreaper_once();

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (pid == 0)
                child(argv, o, pipefd[1]);
        close(pipefd[1]);
        /* Both sides set the group, so it exists before anything signals it. */
        (void) setpgid(pid, pid);
        if (!cleanup)
                interrupt_set_child(pid);
        start = now_ms();
        deadline = start + timeout_ms;
        (void) fcntl(pipefd[0], F_SETFL, O_NONBLOCK);

        for (;;) {
                uint64_t now = now_ms();

                if (!exited) {
                        pid_t w = waitpid(pid, &status, WNOHANG);
                        if (w == pid) {
                                exited = true;
                                drain_end = now + PROCESS_DRAIN_MS;
                                if (!cleanup)
                                        interrupt_set_child(0);
                        } else if (w < 0 && errno != EINTR) {
                                r = -errno;
                                exited = true; /* cannot wait for it: give up on it */
                        }
                }
                if (!exited && r == 0) {
                        if (!cleanup && interrupt_check() < 0) {
                                r = -ECANCELED;
                                log_error("%s: stopped by the signal the installer caught", argv[0]);
                        } else if (now >= deadline) {
                                r = -ETIME;
                                char line[160];
                                int k = snprintf(line, sizeof line, "\n%s timed out after %" PRIu64 " s\n", argv[0],
                                                 (timeout_ms + 999) / 1000);
                                log_error("%s: timed out after %" PRIu64 " s; killing it and its process group",
                                          argv[0], (timeout_ms + 999) / 1000);
                                if (k > 0)
                                        output_add(out, line, MIN((size_t) k, sizeof line - 1));
                        }
                        if (r < 0) {
                                (void) kill(-pid, SIGTERM);
                                kill_at = now + PROCESS_KILL_GRACE_MS;
                        }
                }
                if (!exited && kill_at > 0 && now >= kill_at) {
                        if (killed_at > 0) {
                                /* SIGKILL did not end it (D state): leave it. */
                                log_error("%s does not die; leaving it", argv[0]);
                                break;
                        }
                        (void) kill(-pid, SIGKILL);
                        killed_at = now;
                        kill_at = now + PROCESS_KILL_GRACE_MS;
                }
                if (exited && (pipefd[0] < 0 || now >= drain_end))
                        break;

                int wait_ms;
                if (pipefd[0] < 0) {
                        /* Output closed, the child is finishing: short naps. */
                        wait_ms = (int) nap;
                        nap = MIN(nap * 2, 50u);
                } else
                        wait_ms = 100;
                if (!exited && r == 0 && deadline > now)
                        wait_ms = (int) MIN((uint64_t) wait_ms, deadline - now);
                if (exited)
                        wait_ms = (int) MIN((uint64_t) wait_ms, drain_end > now ? drain_end - now : 0);
                if (pipefd[0] < 0) {
                        (void) poll(NULL, 0, wait_ms);
                        continue;
                }
                struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
                int k = poll(&p, 1, wait_ms);
                if (k <= 0)
                        continue;
                for (;;) {
                        ssize_t n = read(pipefd[0], buf, sizeof buf);
                        if (n > 0) {
                                output_add(out, buf, (size_t) n);
                                continue;
                        }
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                                close(pipefd[0]);
                                pipefd[0] = -1;
                        }
                        break;
                }
        }
        if (pipefd[0] >= 0) {
                close(pipefd[0]);
                log_debug("%s exited; a process it left keeps its output open", argv[0]);
        }
        if (!cleanup)
                interrupt_set_child(0);
        if (out->o && out->o->on_line)
                feed_lines(out->o, out->line, &out->line_len, "", 0, true);

        /* A signal the installer caught while it ran fails it, however it
         * ended (the handler killed its group). */
        if (r == 0 && !cleanup && interrupt_check() < 0) {
                r = -ECANCELED;
                log_error("%s: stopped by the signal the installer caught", argv[0]);
        }
        /* What it left behind dies with it. */
        if (kill_group(pid) && r == 0)
                log_warning("%s left processes running; killed them", argv[0]);
        if (kill_orphans() > 0 && r == 0)
                log_warning("%s left processes running in a session of their own; killed them", argv[0]);

        out->keep[out->kept] = 0;
        if (ret_output) {
                *ret_output = strdup(strstrip(out->keep));
                if (!*ret_output)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        if (WIFSIGNALED(status))
                return -EINTR;
        if (WEXITSTATUS(status) == 127)
                return -ENOENT;
        return WEXITSTATUS(status) == 0 ? 0 : -EPROTO;
}
