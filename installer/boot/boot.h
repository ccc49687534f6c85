/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The bootloader of the installed system, written last: extlinux for legacy
 * BIOS (syslinux's MBR code on the disk, extlinux on the filesystem that
 * holds /boot). A machine whose install failed earlier has no bootloader
 * and so never boots a half-installed system. */

#include "profile/profile.h"

typedef struct BootConfig {
        const char *root;          /* the mounted target, e.g. /mnt/target */
        const char *disk;          /* whole-disk device that gets the MBR code */
        PartitionTable table;
        const char *root_fs_uuid;  /* for root=UUID= */
        bool separate_boot;        /* /boot is its own filesystem */
        const char *extra_args;    /* appended to the kernel command line, may be NULL */
        const char *syslinux_dir;  /* where mbr/, gptmbr.bin live; NULL = /usr/lib/syslinux */
        const char *extlinux;      /* the extlinux binary; NULL = /usr/bin/extlinux */
} BootConfig;

/* Find the newest kernel and its initrd in ROOT/boot. Returns names relative
 * to /boot ("vmlinuz-6.1.0-27-amd64"). -ENOENT when there is none. */
int boot_find_kernel(const char *root, char **ret_kernel, char **ret_initrd);

/* Write ROOT/boot/extlinux/extlinux.conf. */
int boot_write_extlinux_conf(const BootConfig *c, const char *kernel, const char *initrd);

/* Install extlinux into ROOT/boot/extlinux and write the MBR boot code
 * (gptmbr.bin for GPT, mbr.bin for msdos) to the first 440 bytes of disk. */
int boot_install_extlinux(const BootConfig *c, char **ret_error);

/* All of the above. */
int boot_install(const BootConfig *c, char **ret_error);
