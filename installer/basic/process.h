/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Running external tools (mke2fs, extlinux, ...) without a shell.
 *
 * Every child runs in its own process group with stdin from /dev/null and
 * stdout+stderr on one pipe that is read (and handed to on_line) while it
 * runs. It has a deadline: ProcessOptions.timeout_ms, or the default for its
 * kind (process_default_timeout_ms()). When the child exits, what is left in
 * the pipe is read for at most PROCESS_DRAIN_MS (a background process that
 * keeps the pipe open cannot hold the installer), then its process group is
 * killed (SIGTERM, SIGKILL after PROCESS_KILL_GRACE_MS) and so are the
 * processes it left that moved to a group of their own (the installer is a
 * child subreaper: they become its children). On timeout or signal
 * (basic/interrupt.h) the group is killed the same way. */

#include <stdint.h>

#include "basic/macro.h"

#define PROCESS_DRAIN_MS 1000u
#define PROCESS_KILL_GRACE_MS 3000u

typedef void (*ProcessLineFn)(const char *line, void *userdata);

typedef struct ProcessOptions {
        const char *chroot_dir;   /* chroot there first (NULL: no chroot) */
        char *const *envp;        /* the child's environment (NULL: inherited) */
        ProcessLineFn on_line;    /* called for every output line as it arrives
                                   * (without the newline; long lines in pieces) */
        void *userdata;
        uint64_t timeout_ms;      /* 0: process_default_timeout_ms(argv) */
        bool cleanup;             /* part of an unwind (md stop, LUKS close, LVM
                                   * deactivate): runs after a signal too and is
                                   * not killed by one (its timeout holds) */
} ProcessOptions;

/* Run argv[0] (an absolute path) with argv. Returns:
 *   0           it exited with status 0;
 *   -ENOENT     it cannot be executed (exit status 127);
 *   -EPROTO     it exited non-zero;
 *   -EINTR      it was killed by a signal the installer did not send;
 *   -ETIME      it ran past its timeout: it and its group were killed
 *               (logged as "COMMAND timed out after N s");
 *   -ECANCELED  the installer caught SIGINT/SIGTERM/SIGHUP (before or while
 *               it ran; not for o->cleanup): it and its group were killed,
 *               or it was not started;
 *   -errno      pipe/fork failed.
 * *ret_output (optional) receives the last 8 KiB of its output,
 * NUL-terminated, whatever the result (on -ETIME ending with the timeout
 * line). If chroot_dir is not NULL the child chroots there first. */
int process_run(char *const argv[], const char *chroot_dir, char **ret_output);

/* process_run() with options; o may be NULL. */
int process_run_opts(char *const argv[], const ProcessOptions *o, char **ret_output);

/* The default timeout for argv by the program's base name (docs/installer.md
 * lists them): mkfs.* / mke2fs / mkswap 1800 s, mdadm 300 s, cryptsetup
 * 600 s, lvm 300 s, apt-get 3600 s, update-initramfs / mkinitramfs 1800 s,
 * locale-gen 600 s, sh (post_install and the initramfs build) 1800 s,
 * anything else 300 s. */
uint64_t process_default_timeout_ms(char *const argv[]);
