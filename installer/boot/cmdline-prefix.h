/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The installed kernel's own arguments, ahead of the profile's
 * bootloader.append: the root filesystem by UUID, read-only until fsck,
 * and the console on the screen and the first serial port. The same text
 * goes to extlinux's APPEND, systemd-boot's "options" and
 * /etc/kernel/cmdline (boot_kernel_options()), and onto the plan's
 * Cmdline: line. Constants only: plan/ includes this without any I/O.
 *
 * Use: printf(BOOT_CMDLINE_PREFIX_FMT, root_uuid), e.g. "..." in a plan. */

#define BOOT_CMDLINE_CONSOLE "console=tty0 console=ttyS0,115200n8"
#define BOOT_CMDLINE_PREFIX_FMT "root=UUID=%s ro " BOOT_CMDLINE_CONSOLE
