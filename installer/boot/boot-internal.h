/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal to installer/boot: the kernel and initrd, found and opened in
 * the target through the root-confined resolution (target/target-fs.h). */

#include "boot/boot.h"

/* boot_find_kernel() below the open target root rootfd; with
 * ret_kernel_fd/ret_initrd_fd (may be NULL) also the two files, open for
 * reading (from the same resolution that chose them). */
int boot_find_kernel_at(int rootfd, char **ret_kernel, char **ret_initrd, int *ret_kernel_fd, int *ret_initrd_fd);
