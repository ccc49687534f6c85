/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/process.h"

#include <fcntl.h>
#include <sys/wait.h>

#include "basic/strutil.h"

#define OUTPUT_KEEP 8192

#define LINE_MAX_LEN 4096

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

int process_run(char *const argv[], const char *chroot_dir, char **ret_output) {
        ProcessOptions o = { .chroot_dir = chroot_dir };
        return process_run_opts(argv, &o, ret_output);
}

int process_run_opts(char *const argv[], const ProcessOptions *o, char **ret_output) {
        const char *chroot_dir = o ? o->chroot_dir : NULL;
        int pipefd[2];
        char buf[4096], keep[OUTPUT_KEEP + 1], line[LINE_MAX_LEN + 1];
        size_t kept = 0, line_len = 0;
        pid_t pid;
        int status;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (devnull >= 0)
                        dup2(devnull, STDIN_FILENO);
                dup2(pipefd[1], STDOUT_FILENO);
                dup2(pipefd[1], STDERR_FILENO);
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
        close(pipefd[1]);

        for (;;) {
                ssize_t n = read(pipefd[0], buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (o && o->on_line)
                        feed_lines(o, line, &line_len, buf, (size_t) n, false);
                /* Keep the tail: the end of a tool's output says what failed.
                 * buf is smaller than the tail we keep. */
                if (kept + (size_t) n > OUTPUT_KEEP) {
                        size_t drop = kept + (size_t) n - OUTPUT_KEEP;
                        memmove(keep, keep + drop, kept - drop);
                        kept -= drop;
                }
                memcpy(keep + kept, buf, (size_t) n);
                kept += (size_t) n;
        }
        close(pipefd[0]);
        if (o && o->on_line)
                feed_lines(o, line, &line_len, "", 0, true);
        keep[kept] = 0;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (ret_output) {
                *ret_output = strdup(strstrip(keep));
                if (!*ret_output)
                        return -ENOMEM;
        }
        if (WIFSIGNALED(status))
                return -EINTR;
        if (WEXITSTATUS(status) == 127)
                return -ENOENT;
        return WEXITSTATUS(status) == 0 ? 0 : -EPROTO;
}
