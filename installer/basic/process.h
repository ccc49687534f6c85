/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Running external tools (mke2fs, extlinux, ...) without a shell. */

#include "basic/macro.h"

/* Run argv[0] (an absolute path) with argv, stdin from /dev/null, stdout and
 * stderr captured. Returns 0 when it exits with status 0; -ENOENT when it
 * cannot be executed; -EPROTO when it exits non-zero; -EINTR when killed by a
 * signal. *ret_output (optional) receives the last 8 KiB of its output,
 * NUL-terminated, whatever the result. If chroot_dir is not NULL the child
 * chroots there first. */
int process_run(char *const argv[], const char *chroot_dir, char **ret_output);

typedef void (*ProcessLineFn)(const char *line, void *userdata);

typedef struct ProcessOptions {
        const char *chroot_dir;   /* chroot there first (NULL: no chroot) */
        char *const *envp;        /* the child's environment (NULL: inherited) */
        ProcessLineFn on_line;    /* called for every output line as it arrives
                                   * (without the newline; long lines in pieces) */
        void *userdata;
} ProcessOptions;

/* process_run() with options; o may be NULL. */
int process_run_opts(char *const argv[], const ProcessOptions *o, char **ret_output);
