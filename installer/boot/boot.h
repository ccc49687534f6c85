/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The bootloader of the installed system, written last:
 *   - legacy BIOS: extlinux (syslinux's MBR code on the disk, extlinux on the
 *     filesystem that holds /boot);
 *   - UEFI: systemd-boot on the EFI system partition with a Boot Loader
 *     Specification type 1 entry, the kernel and initrd copied there, the
 *     removable-media copy \EFI\BOOT\BOOTX64.EFI and an NVRAM boot entry.
 * A machine whose install failed earlier has no bootloader and so never
 * boots a half-installed system.
 *
 * One entry point, boot_install(), chooses and does all of it; the rest of
 * this header is its parts, public for tests.
 *
 * The image is data we did not make: every read of it and every write into
 * it, the EFI system partition (mounted inside it) included, goes through
 * the root-confined resolution of target/target-fs.h. A symlink in the
 * image resolves as it would inside the installed system and never leads
 * out of root; the kernel and initrd must be regular files in the image's
 * /boot (a link to one there is fine: a link elsewhere could put any file of
 * the target, /etc/shadow, on the ESP that anyone may read); the ESP holds
 * no symlinks at all (FAT has none: one there was put by someone). */

#include <stdbool.h>

#include "boot/cmdline-prefix.h"
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
        bool nvram_entry;          /* UEFI: boot_install() also writes the NVRAM entry */
} BootConfig;

/* Where systemd-boot goes on the ESP, and the NVRAM entry's label (the
 * label bootctl gives it). */
#define BOOT_SDBOOT_PATH "/EFI/systemd/systemd-bootx64.efi"
#define BOOT_REMOVABLE_PATH "/EFI/BOOT/BOOTX64.EFI"
#define BOOT_EFI_LOADER "\\EFI\\systemd\\systemd-bootx64.efi"
#define BOOT_EFI_LABEL "Linux Boot Manager"

/* ---- the dispatcher (boot.c) ------------------------------------------------ */

/* The bootloader for c: with c->esp systemd-boot (boot_install_sdboot()),
 * then, with c->nvram_entry, the NVRAM entry (boot_efi_nvram_entry(); a
 * failure there is a warning, logged: the removable-media path boots
 * anyway, and the entry is logged at info level); else extlinux
 * (boot_write_extlinux_conf(), boot_install_extlinux()). Returns 0 or
 * -errno with *ret_error saying what failed on what: -ENOENT no kernel with
 * an initrd in the image's /boot (or no systemd-boot for the installer),
 * -ELOOP a symlink on the ESP or on the way to it, -EXDEV a directory that
 * resolves outside the target, others from the file system or the tools. */
int boot_install(const BootConfig *c, char **ret_error);

/* One line saying what boot_install(c) will do, for the phase that runs
 * it: "systemd-boot on /dev/vda partition 1 (EFI system partition,
 * /boot/efi)" or "extlinux, gptmbr.bin boot code on /dev/vda". NULL: OOM. */
char *boot_describe(const BootConfig *c);

/* Find the newest kernel and its initrd in the target's /boot (resolved
 * inside root). Returns names relative to /boot ("vmlinuz-6.1.0-27-amd64").
 * Only kernels whose vmlinuz-VERSION and initrd.img-VERSION are both
 * non-empty regular files in /boot count (see above; VERSION printable,
 * without spaces). -ENOENT when there is none, -errno when root cannot be
 * opened. */
int boot_find_kernel(const char *root, char **ret_kernel, char **ret_initrd);

/* The installed system's kernel command line: BOOT_CMDLINE_PREFIX_FMT with
 * the root filesystem's UUID, then extra_args. */
char *boot_kernel_options(const BootConfig *c);

/* ---- BIOS: extlinux (extlinux.c) --------------------------------------------- */

/* Write /boot/extlinux/extlinux.conf in the target. */
int boot_write_extlinux_conf(const BootConfig *c, const char *kernel, const char *initrd);

/* Install extlinux into the target's /boot/extlinux (resolved inside root
 * and on the filesystem of /boot, else -EXDEV; extlinux is given its real
 * path). Not the MBR boot code: that is boot_write_mbr_code(), the last
 * write of the install, after the filesystems are unmounted. */
int boot_install_extlinux(const BootConfig *c, char **ret_error);

/* The MBR boot code (c->syslinux_dir's gptmbr.bin for GPT, mbr.bin for
 * msdos, zero padded to 440 bytes) into bytes 0..439 of disk, in one
 * 512-byte write of the first sector (bytes 440..511 as they were), then
 * fsync: this one write replaces the install-in-progress mark, so the disk
 * is bootable exactly when it has no mark. RAID1: called for both disks
 * (the arrays' members start the same on both, so either boots alone). */
int boot_write_mbr_code(const BootConfig *c, const char *disk, char **ret_error);

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
 * kernel and initramfs hooks that run kernel-install on kernel updates.
 * The ESP's mount point c->esp must exist in the target with no symlink on
 * the way (-ELOOP), nor may one be on the ESP; systemd-boot, the kernel
 * and the initrd are opened before anything is written. */
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

