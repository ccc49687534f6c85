/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The bootloader of the installed system, written last:
 *   - legacy BIOS: extlinux (syslinux's MBR code on the disk, extlinux on the
 *     filesystem that holds /boot);
 *   - UEFI: systemd-boot on the EFI system partition with a Boot Loader
 *     Specification type 1 entry, the kernel and initrd copied there, the
 *     removable-media copy \EFI\BOOT\BOOTX64.EFI and an NVRAM boot entry.
 * A machine whose install failed earlier has no bootloader and so never
 * boots a half-installed system. */

#include <stdbool.h>

#include "profile/profile.h"

typedef struct BootConfig {
        const char *root;          /* the mounted target, e.g. /mnt/target */
        const char *disk;          /* whole-disk device: MBR code (BIOS), NVRAM entry (UEFI) */
        const char *mirror_disk;   /* RAID1: the second disk, which gets it too (or NULL) */
        PartitionTable table;
        const char *root_fs_uuid;  /* for root=UUID= */
        bool separate_boot;        /* /boot is its own filesystem */
        const char *extra_args;    /* appended to the kernel command line, may be NULL */
        const char *syslinux_dir;  /* where mbr/, gptmbr.bin live; NULL = /usr/lib/syslinux */
        const char *extlinux;      /* the extlinux binary; NULL = /usr/bin/extlinux */

        /* UEFI: set esp to install systemd-boot instead of extlinux. */
        const char *esp;           /* the ESP's mount point in the target: "/boot/efi" or "/efi" */
        unsigned esp_partition;    /* its partition number on disk (for the NVRAM entry) */
        const char *sdboot_efi;    /* NULL = /usr/lib/systemd/boot/efi/systemd-bootx64.efi */
        const char *efibootmgr;    /* NULL = /usr/bin/efibootmgr */
        const char *efivars;       /* NULL = /sys/firmware/efi/efivars */
} BootConfig;

/* Where systemd-boot goes on the ESP, and the NVRAM entry's label (the
 * label bootctl gives it). */
#define BOOT_SDBOOT_PATH "/EFI/systemd/systemd-bootx64.efi"
#define BOOT_REMOVABLE_PATH "/EFI/BOOT/BOOTX64.EFI"
#define BOOT_EFI_LOADER "\\EFI\\systemd\\systemd-bootx64.efi"
#define BOOT_EFI_LABEL "Linux Boot Manager"

/* Find the newest kernel and its initrd in ROOT/boot. Returns names relative
 * to /boot ("vmlinuz-6.1.0-27-amd64"). -ENOENT when there is none. */
int boot_find_kernel(const char *root, char **ret_kernel, char **ret_initrd);

/* The installed system's kernel command line: root=UUID=... ro, the serial
 * console, extra_args. */
char *boot_kernel_options(const BootConfig *c);

/* Write ROOT/boot/extlinux/extlinux.conf. */
int boot_write_extlinux_conf(const BootConfig *c, const char *kernel, const char *initrd);

/* Install extlinux into ROOT/boot/extlinux and write the MBR boot code
 * (gptmbr.bin for GPT, mbr.bin for msdos) to the first 440 bytes of disk. */
int boot_install_extlinux(const BootConfig *c, char **ret_error);

/* ---- UEFI: systemd-boot (sdboot.c) ------------------------------------------ */

/* What the target's os-release says, for the loader entry: the entry token
 * (IMAGE_ID or ID, reduced to [A-Za-z0-9._-], else "linux") and the title
 * (PRETTY_NAME, else "Linux VERSION" as kernel-install does). */
typedef struct BootOsRelease {
        char *token;
        char *pretty_name;         /* NULL when absent */
} BootOsRelease;
int boot_read_os_release(const char *root, BootOsRelease *ret);
void boot_os_release_done(BootOsRelease *o);

/* The Boot Loader Specification entry, exactly as the image's kernel-install
 * (90-loaderentry.install) would write it for this kernel, so that a kernel
 * update in the installed system continues what the installer started. */
char *boot_sdboot_entry(const BootOsRelease *os, const char *version, const char *options);

/* Everything systemd-boot needs, in the order that leaves the ESP bootable
 * only at the end: the kernel and initrd in ESP/TOKEN/VERSION/, the entry in
 * ESP/loader/entries/TOKEN-VERSION.conf, loader/loader.conf, then
 * systemd-boot itself at EFI/systemd/ and the removable-media path EFI/BOOT/.
 * In the target: /etc/kernel/{cmdline,entry-token,install.conf} and the
 * kernel and initramfs hooks that run kernel-install on kernel updates. */
int boot_install_sdboot(const BootConfig *c, char **ret_error);

/* True when path (NULL: /sys/firmware/efi/efivars) is a mounted efivarfs. */
bool boot_efivars_available(const char *path);

/* The Boot#### numbers ("0003") of the entries labelled label in the output
 * of efibootmgr (a NULL-terminated vector, maybe empty). */
int boot_efi_parse_entries(const char *output, const char *label, char ***ret_ids);

/* The NVRAM boot entry for systemd-boot on the ESP, first in BootOrder;
 * earlier entries with the same label (earlier installs) are removed first.
 * ret_entry gets "Boot0004". Fails (and the caller warns) when there are no
 * writable EFI variables: the removable-media path boots anyway. */
int boot_efi_nvram_entry(const BootConfig *c, char **ret_entry, char **ret_error);

/* The bootloader for c: systemd-boot when c->esp is set, else extlinux.
 * The NVRAM entry is not part of it (boot_efi_nvram_entry()). */
int boot_install(const BootConfig *c, char **ret_error);
