/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/process.h"
#include "basic/strutil.h"
#include "boot/boot.h"

#define MBR_CODE_SIZE 440 /* the boot code area before the disk signature */

/* Compare Debian kernel versions in file names well enough to pick the newest:
 * version-aware comparison of the digits. */
static int kernel_cmp(const char *a, const char *b) {
        return strverscmp(a, b);
}

int boot_find_kernel(const char *root, char **ret_kernel, char **ret_initrd) {
        _cleanup_free_ char *dir = path_join_root(root, "/boot");
        _cleanup_strv_free_ char **names = NULL;
        const char *best = NULL;
        int r;

        if (!dir)
                return -ENOMEM;
        r = dir_list_sorted(dir, &names);
        if (r < 0)
                return r;
        for (size_t i = 0; names[i]; i++) {
                const char *ver = startswith(names[i], "vmlinuz-");
                if (!ver)
                        continue;
                /* Only kernels with an initrd: the Debian kernel needs one. */
                _cleanup_free_ char *initrd = strprintf("%s/initrd.img-%s", dir, ver);
                if (!initrd)
                        return -ENOMEM;
                if (access(initrd, R_OK) < 0)
                        continue;
                if (!best || kernel_cmp(names[i], best) > 0)
                        best = names[i];
        }
        if (!best)
                return -ENOENT;
        *ret_kernel = strdup(best);
        *ret_initrd = strprintf("initrd.img-%s", best + strlen("vmlinuz-"));
        if (!*ret_kernel || !*ret_initrd) {
                free(*ret_kernel);
                free(*ret_initrd);
                return -ENOMEM;
        }
        return 0;
}

char *boot_kernel_options(const BootConfig *c) {
        return strprintf("root=UUID=%s ro console=tty0 console=ttyS0,115200n8%s%s", c->root_fs_uuid,
                         c->extra_args ? " " : "", c->extra_args ? c->extra_args : "");
}

int boot_write_extlinux_conf(const BootConfig *c, const char *kernel, const char *initrd) {
        _cleanup_free_ char *dir = path_join_root(c->root, "/boot/extlinux");
        _cleanup_free_ char *path = NULL, *text = NULL, *options = boot_kernel_options(c);
        /* extlinux resolves paths on the filesystem it is installed on. */
        const char *prefix = c->separate_boot ? "/" : "/boot/";
        int r;

        if (!dir || !options)
                return -ENOMEM;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        text = strprintf("# Written by the installer. Boots the installed system on the serial\n"
                         "# console and the screen.\n"
                         "SERIAL 0 115200\n"
                         "DEFAULT linux\n"
                         "PROMPT 0\n"
                         "TIMEOUT 20\n"
                         "\n"
                         "LABEL linux\n"
                         "  LINUX %s%s\n"
                         "  INITRD %s%s\n"
                         "  APPEND %s\n",
                         prefix, kernel, prefix, initrd, options);
        path = strprintf("%s/extlinux.conf", dir);
        if (!text || !path)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), 0644);
}

static int write_mbr_code(const BootConfig *c, const char *disk, char **ret_error) {
        _cleanup_free_ char *src = strprintf("%s/mbr/%s", c->syslinux_dir ? c->syslinux_dir : "/usr/lib/syslinux",
                                             c->table == PARTITION_TABLE_GPT ? "gptmbr.bin" : "mbr.bin");
        _cleanup_close_ int in = -1, out = -1;
        char code[MBR_CODE_SIZE];
        ssize_t n;

        if (!src)
                return -ENOMEM;
        in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
                int r = -errno;
                *ret_error = strprintf("%s: %s", src, strerror(errno));
                return r;
        }
        n = read(in, code, sizeof code);
        if (n <= 0) {
                *ret_error = strprintf("%s: cannot read the boot code", src);
                return -EIO;
        }
        /* Only the boot code: the disk signature and partition table after
         * byte 440 stay as they are. */
        out = open(disk, O_WRONLY | O_CLOEXEC);
        if (out < 0 || pwrite(out, code, (size_t) n, 0) != n || fsync(out) < 0) {
                int r = -errno;
                *ret_error = strprintf("cannot write the boot code to %s: %s", disk, strerror(errno));
                return r;
        }
        return 0;
}

int boot_install_extlinux(const BootConfig *c, char **ret_error) {
        _cleanup_free_ char *dir = path_join_root(c->root, "/boot/extlinux"), *out = NULL;
        char *argv[] = { (char *) (c->extlinux ? c->extlinux : "/usr/bin/extlinux"), (char *) "--install", dir, NULL };
        int r;

        if (!dir)
                return -ENOMEM;
        r = process_run(argv, NULL, &out);
        if (r < 0) {
                *ret_error = strprintf("extlinux --install %s failed: %s", dir, out && *out ? out : strerror(-r));
                return r;
        }
        r = write_mbr_code(c, c->disk, ret_error);
        if (r < 0 || !c->mirror_disk)
                return r;
        /* RAID1: /boot is on an array whose members start the same on both
         * disks, so the same boot code boots either disk alone. */
        return write_mbr_code(c, c->mirror_disk, ret_error);
}

int boot_install(const BootConfig *c, char **ret_error) {
        _cleanup_free_ char *kernel = NULL, *initrd = NULL;
        int r;

        if (c->esp)
                return boot_install_sdboot(c, ret_error);
        r = boot_find_kernel(c->root, &kernel, &initrd);
        if (r < 0) {
                *ret_error = strprintf("no kernel with an initrd in %s/boot: the image is not bootable", c->root);
                return r;
        }
        r = boot_write_extlinux_conf(c, kernel, initrd);
        if (r < 0) {
                *ret_error = strprintf("cannot write extlinux.conf: %s", strerror(-r));
                return r;
        }
        return boot_install_extlinux(c, ret_error);
}
