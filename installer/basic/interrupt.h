/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* SIGINT, SIGTERM and SIGHUP during `run` and `configure`: the handler only
 * notes the signal and kills the process group of the child that runs at the
 * time (process_run()). The step that runs fails with -ECANCELED, and so does
 * every later step that starts a child (process_run()) or streams the image,
 * so the caller's ordinary failure path unwinds: unmount, deactivate LVM,
 * close LUKS, stop md arrays. The children of that unwind are started with
 * ProcessOptions.cleanup and are neither refused nor killed by a signal, so a
 * second signal cannot skip the unwind. The exit status is then 128 + the
 * number of the first signal (129 SIGHUP, 130 SIGINT, 143 SIGTERM). */

#include <sys/types.h>

#include "basic/macro.h"

/* Catch SIGINT, SIGTERM and SIGHUP (SA_RESTART) from now on. Returns 0 or
 * -errno. */
int interrupt_install(void);

/* The first signal caught, 0 if none. */
int interrupt_signal(void);

/* -ECANCELED once a signal was caught (for loops that do long work without a
 * child: the image stream), else 0. */
int interrupt_check(void);

/* The exit status for a command that failed after a signal: 128 + its
 * number; fallback when no signal was caught. */
int interrupt_exit_status(int fallback);

/* For process.c: the process group the handler kills (0: none). */
void interrupt_set_child(pid_t pgid);

/* For tests: forget the signal caught. */
void interrupt_reset(void);
