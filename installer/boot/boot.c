/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one entry point of boot/: which bootloader, and what both share (the
 * kernel in the image, the kernel command line). */
#include <fcntl.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "boot/boot-internal.h"
#include "target/target-fs.h"

/* A file name's version part that can go into a path on the ESP and a line
 * of a loader entry or extlinux.conf unchanged. */
static bool version_ok(const char *v) {
        if (!*v || streq(v, ".") || streq(v, ".."))
                return false;
        for (; *v; v++)
                if ((unsigned char) *v <= ' ' || (unsigned char) *v >= 0x7f || *v == '/')
                        return false;
        return true;
}

/* /boot/NAME in the target: a non-empty regular file in the directory
 * bootfd itself, reached through the root-confined resolution (a link to a
 * file next to it is fine). Returns an open fd or -errno (-EXDEV: a link
 * to a file elsewhere). */
static int open_boot_file(int rootfd, const struct stat *boot_st, const char *name) {
        _cleanup_close_ int dirfd = -1, fd = -1;
        _cleanup_free_ char *path = strprintf("/boot/%s", name), *last = NULL;
        struct stat dir_st, st;
        int r;

        if (!path)
                return -ENOMEM;
        r = target_chase(rootfd, path, CHASE_FOLLOW, &dirfd, &last);
        if (r < 0)
                return r;
        if (fstat(dirfd, &dir_st) < 0)
                return -errno;
        if (dir_st.st_dev != boot_st->st_dev || dir_st.st_ino != boot_st->st_ino)
                return log_debug_errno(-EXDEV, "%s leads out of /boot: not used", path);
        fd = target_open_file_at(dirfd, last, &st);
        if (fd < 0)
                return fd;
        if (st.st_size == 0)
                return log_debug_errno(-ENODATA, "%s is empty: not used", path);
        return TAKE_FD(fd);
}

int boot_find_kernel_at(int rootfd, char **ret_kernel, char **ret_initrd, int *ret_kernel_fd, int *ret_initrd_fd) {
        _cleanup_close_ int bootfd = -1, best_kernel = -1, best_initrd = -1;
        _cleanup_strv_free_ char **names = NULL;
        const char *best = NULL;
        struct stat boot_st;
        int r;

        bootfd = target_open_dir(rootfd, "/boot", 0);
        if (bootfd < 0)
                return bootfd == -ENOTDIR || bootfd == -ELOOP ? -ENOENT : bootfd;
        if (fstat(bootfd, &boot_st) < 0)
                return -errno;
        r = target_list_dir(bootfd, &names);
        if (r < 0)
                return r;
        for (size_t i = 0; names[i]; i++) {
                const char *ver = startswith(names[i], "vmlinuz-");
                _cleanup_close_ int k = -1, in = -1;
                _cleanup_free_ char *initrd = NULL;

                if (!ver || !version_ok(ver))
                        continue;
                if (best && strverscmp(names[i], best) <= 0)
                        continue;
                /* Only kernels with an initrd: the Debian kernel needs one. */
                initrd = strprintf("initrd.img-%s", ver);
                if (!initrd)
                        return -ENOMEM;
                k = open_boot_file(rootfd, &boot_st, names[i]);
                if (k == -ENOMEM)
                        return k;
                in = k < 0 ? -1 : open_boot_file(rootfd, &boot_st, initrd);
                if (in == -ENOMEM)
                        return in;
                if (k < 0 || in < 0)
                        continue;
                best = names[i];
                closep(&best_kernel);
                closep(&best_initrd);
                best_kernel = TAKE_FD(k);
                best_initrd = TAKE_FD(in);
        }
        if (!best)
                return -ENOENT;
        *ret_kernel = strdup(best);
        *ret_initrd = strprintf("initrd.img-%s", best + strlen("vmlinuz-"));
        if (!*ret_kernel || !*ret_initrd) {
                free(*ret_kernel);
                free(*ret_initrd);
                *ret_kernel = *ret_initrd = NULL;
                return -ENOMEM;
        }
        if (ret_kernel_fd)
                *ret_kernel_fd = TAKE_FD(best_kernel);
        if (ret_initrd_fd)
                *ret_initrd_fd = TAKE_FD(best_initrd);
        return 0;
}

int boot_find_kernel(const char *root, char **ret_kernel, char **ret_initrd) {
        _cleanup_close_ int rootfd = target_root_open(root);

        if (rootfd < 0)
                return rootfd;
        return boot_find_kernel_at(rootfd, ret_kernel, ret_initrd, NULL, NULL);
}

char *boot_kernel_options(const BootConfig *c) {
        return strprintf(BOOT_CMDLINE_PREFIX_FMT "%s%s", c->root_fs_uuid, c->extra_args ? " " : "",
                         c->extra_args ? c->extra_args : "");
}

char *boot_describe(const BootConfig *c) {
        if (c->esp)
                return strprintf("systemd-boot on %s partition %u (EFI system partition, %s)", c->disk, c->esp_partition,
                                 c->esp);
        return strprintf("extlinux, %s boot code on %s%s%s", c->table == PARTITION_TABLE_GPT ? "gptmbr.bin" : "mbr.bin",
                         c->disk, c->mirror_disk ? " and " : "", c->mirror_disk ? c->mirror_disk : "");
}

/* UEFI: the NVRAM entry, after systemd-boot is on the ESP. Failing to write
 * it is a warning: the firmware boots \EFI\BOOT\BOOTX64.EFI anyway. */
static void nvram_entry(const BootConfig *c) {
        _cleanup_free_ char *entry = NULL, *err = NULL;
        int r;

        r = boot_efi_nvram_entry(c, &entry, &err);
        if (r < 0)
                log_warning("WARNING: no NVRAM boot entry: %s; the machine boots from %s through the removable-media "
                            "path \\EFI\\BOOT\\BOOTX64.EFI", err ? err : strerror(-r), c->disk);
        else
                log_info("NVRAM boot entry %s '%s' -> %s partition %u %s, first in BootOrder", entry, BOOT_EFI_LABEL,
                         c->disk, c->esp_partition, BOOT_EFI_LOADER);
}

int boot_install(const BootConfig *c, char **ret_error) {
        _cleanup_free_ char *kernel = NULL, *initrd = NULL;
        int r;

        if (!c || !c->root || !c->root_fs_uuid || !ret_error)
                return -EINVAL;
        if (c->esp) {
                r = boot_install_sdboot(c, ret_error);
                if (r >= 0 && c->nvram_entry)
                        nvram_entry(c);
                return r;
        }
        r = boot_find_kernel(c->root, &kernel, &initrd);
        if (r < 0) {
                *ret_error = strprintf("no kernel with an initrd in %s/boot: the image is not bootable", c->root);
                return r;
        }
        r = boot_write_extlinux_conf(c, kernel, initrd);
        if (r < 0) {
                *ret_error = strprintf("cannot write /boot/extlinux/extlinux.conf in %s: %s", c->root, strerror(-r));
                return r;
        }
        return boot_install_extlinux(c, ret_error);
}
