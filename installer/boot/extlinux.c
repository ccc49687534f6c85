/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "basic/process.h"
#include "basic/strutil.h"
#include "boot/boot.h"
#include "target/target-fs.h"

#define MBR_CODE_SIZE 440 /* the boot code area before the disk signature */
#define EXTLINUX_DIR "/boot/extlinux"
#define EXTLINUX_CONF EXTLINUX_DIR "/extlinux.conf"

int boot_write_extlinux_conf(const BootConfig *c, const char *kernel, const char *initrd) {
        _cleanup_free_ char *text = NULL, *options = boot_kernel_options(c);
        _cleanup_close_ int rootfd = -1;
        /* extlinux resolves paths on the filesystem it is installed on. */
        const char *prefix = c->separate_boot ? "/" : "/boot/";

        if (!options)
                return -ENOMEM;
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
        if (!text)
                return -ENOMEM;
        rootfd = target_root_open(c->root);
        if (rootfd < 0)
                return rootfd;
        /* Owned by the installer (root). */
        return target_write_file(rootfd, EXTLINUX_CONF, text, strlen(text), 0644, geteuid(), getegid());
}

int boot_write_mbr_code(const BootConfig *c, const char *disk, char **ret_error) {
        _cleanup_free_ char *src = strprintf("%s/mbr/%s", c->syslinux_dir ? c->syslinux_dir : "/usr/lib/syslinux",
                                             c->table == PARTITION_TABLE_GPT ? "gptmbr.bin" : "mbr.bin");
        _cleanup_close_ int in = -1, out = -1;
        uint8_t sector[512];
        char code[MBR_CODE_SIZE] = {};
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
        /* One write of the whole first sector: the boot code (zero padded
         * to 440 bytes) replaces the install-in-progress mark at once; the
         * disk signature and partition table after byte 440 stay as they
         * are. */
        out = open(disk, O_RDWR | O_CLOEXEC);
        if (out < 0 || pread(out, sector, sizeof sector, 0) != (ssize_t) sizeof sector) {
                int r = out < 0 ? -errno : -EIO;
                *ret_error = strprintf("cannot read the first sector of %s: %s", disk, strerror(-r));
                return r;
        }
        memcpy(sector, code, sizeof code);
        errno = 0;
        if (pwrite(out, sector, sizeof sector, 0) != (ssize_t) sizeof sector || fsync(out) < 0) {
                int r = errno ? -errno : -EIO;
                *ret_error = strprintf("cannot write the boot code to %s: %s", disk, strerror(-r));
                return r;
        }
        return 0;
}

/* The directory extlinux --install gets: /boot/extlinux resolved inside
 * the target (made if missing) and on the filesystem of /boot, by its real
 * host path. A link in the image cannot make extlinux write the boot
 * sector of a filesystem outside the target. */
static int extlinux_dir(const BootConfig *c, char **ret, char **ret_error) {
        _cleanup_close_ int rootfd = -1, bootfd = -1;
        struct stat boot_st, st;
        int r;

        rootfd = target_root_open(c->root);
        if (rootfd < 0) {
                *ret_error = strprintf("cannot open the target %s: %s", c->root, strerror(-rootfd));
                return rootfd;
        }
        bootfd = target_open_dir(rootfd, "/boot", 0);
        if (bootfd < 0 || fstat(bootfd, &boot_st) < 0) {
                r = bootfd < 0 ? bootfd : -errno;
                *ret_error = strprintf("cannot open /boot in %s: %s", c->root, strerror(-r));
                return r;
        }
        r = target_dir_host_path(rootfd, EXTLINUX_DIR, CHASE_MKDIR, ret, &st);
        if (r < 0) {
                *ret_error = strprintf("cannot make %s in %s: %s", EXTLINUX_DIR, c->root, strerror(-r));
                return r;
        }
        if (st.st_dev != boot_st.st_dev) {
                *ret_error = strprintf("%s in %s is on another filesystem than /boot (a symlink in the image): "
                                       "extlinux would not boot", EXTLINUX_DIR, c->root);
                free(TAKE_PTR(*ret));
                return -EXDEV;
        }
        return 0;
}

int boot_install_extlinux(const BootConfig *c, char **ret_error) {
        _cleanup_free_ char *dir = NULL, *out = NULL;
        int r;

        r = extlinux_dir(c, &dir, ret_error);
        if (r < 0)
                return r;
        char *argv[] = { (char *) (c->extlinux ? c->extlinux : "/usr/bin/extlinux"), (char *) "--install", dir, NULL };
        r = process_run(argv, NULL, &out);
        if (r < 0) {
                *ret_error = strprintf("extlinux --install %s failed: %s", dir, out && *out ? out : strerror(-r));
                return r;
        }
        /* The MBR boot code is the install's very last write
         * (boot_write_mbr_code(), from install_apply()'s "finish" step). */
        return 0;
}
