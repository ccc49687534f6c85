/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/interrupt.h"

#include <signal.h>

static volatile sig_atomic_t caught;
static volatile sig_atomic_t child_pgid;

static void write_str(const char *s) {
        /* Async-signal-safe: write(2) only. The result does not matter. */
        ssize_t _unused_ n = write(STDERR_FILENO, s, strlen(s));
}

static void handler(int sig) {
        int saved = errno;
        pid_t pg = (pid_t) child_pgid;

        if (caught == 0) {
                caught = sig;
                write_str(sig == SIGINT ? "installer: caught SIGINT; stopping and undoing what was set up\n" :
                          sig == SIGHUP ? "installer: caught SIGHUP; stopping and undoing what was set up\n" :
                                          "installer: caught SIGTERM; stopping and undoing what was set up\n");
        } else
                write_str("installer: caught another signal; still undoing what was set up\n");
        if (pg > 0)
                (void) kill(-pg, SIGTERM);
        errno = saved;
}

int interrupt_install(void) {
        struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART };
        static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&sa.sa_mask, sigs[i]);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                if (sigaction(sigs[i], &sa, NULL) < 0)
                        return -errno;
        return 0;
}

int interrupt_signal(void) {
        return (int) caught;
}

int interrupt_check(void) {
        return caught ? -ECANCELED : 0;
}

int interrupt_exit_status(int fallback) {
        return caught ? 128 + (int) caught : fallback;
}

void interrupt_set_child(pid_t pgid) {
        child_pgid = (sig_atomic_t) pgid;
}

void interrupt_reset(void) {
        caught = 0;
        child_pgid = 0;
}
