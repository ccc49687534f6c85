/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LUKS2 with cryptsetup: format a partition, open it as /dev/mapper/NAME,
 * close it. The key never travels on a command line: cryptsetup reads it
 * from a 0400 file in a 0700 directory on the installer's RAM-backed /run,
 * which is overwritten and removed as soon as the volume is open. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/process.h"
#include "basic/strutil.h"
#include "disk/disk-internal.h"
#include "disk/disk.h"

#define CRYPTSETUP "/sbin/cryptsetup"
#define KEY_DIR "/run/installer-keys"

int disk_luks_key_write(const char *name, const void *key, size_t size, char **ret_path) {
        _cleanup_free_ char *path = strprintf(KEY_DIR "/%s.key", name);
        _cleanup_close_ int fd = -1;
        int r;

        if (!path)
                return -ENOMEM;
        r = mkdir_p(KEY_DIR, 0700);
        if (r < 0)
                return r;
        if (chmod(KEY_DIR, 0700) < 0)
                return -errno;
        (void) unlink(path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
        if (fd < 0)
                return -errno;
        r = write_all(fd, key, size);
        if (r < 0) {
                (void) unlink(path);
                return r;
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

void disk_luks_key_remove(const char *path) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (!path)
                return;
        /* Overwritten first: /run is RAM, but freed pages keep their bytes. */
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) {
                _cleanup_free_ char *zero = calloc(1, (size_t) st.st_size);
                if (zero)
                        (void) write_all(fd, zero, (size_t) st.st_size);
                (void) fsync(fd);
        }
        (void) unlink(path);
}

int disk_luks_format(const char *devnode, const char *name, const char *key_file, char **ret_uuid, char **ret_error) {
        _cleanup_free_ char *out = NULL, *type = NULL, *uuid = NULL;
        int r;

        /* argon2id with a bounded memory cost: the installer and the
         * installed system unlock it in a few hundred MiB of RAM. */
        char *argv[] = { (char *) CRYPTSETUP,   (char *) "luksFormat",      (char *) "--type",  (char *) "luks2",
                         (char *) "--batch-mode", (char *) "--pbkdf",        (char *) "argon2id",
                         (char *) "--pbkdf-memory", (char *) "131072",       (char *) "--label", (char *) name,
                         (char *) "--key-file", (char *) key_file,           (char *) devnode,   NULL };
        r = process_run(argv, NULL, &out);
        if (r < 0)
                return disk_error(ret_error, r, "cryptsetup luksFormat --type luks2 %s failed: %s", devnode,
                                  out && *out ? out : strerror(-r));
        r = disk_probe_fs(devnode, &type, &uuid);
        if (r < 0 || !streq_ptr(type, "crypto_LUKS") || !uuid)
                return disk_error(ret_error, r < 0 ? r : -EPROTO, "%s: no LUKS header found after luksFormat (%s)", devnode,
                                  type ? type : "nothing");
        *ret_uuid = TAKE_PTR(uuid);
        return 0;
}

int disk_luks_open(const char *devnode, const char *name, const char *key_file, char **ret_mapper, char **ret_error) {
        _cleanup_free_ char *out = NULL, *mapper = strprintf("/dev/mapper/%s", name);
        int r;

        if (!mapper)
                return -ENOMEM;
        char *argv[] = { (char *) CRYPTSETUP, (char *) "open",     (char *) "--type", (char *) "luks2",
                         (char *) "--key-file", (char *) key_file, (char *) devnode,   (char *) name, NULL };
        r = process_run(argv, NULL, &out);
        if (r < 0)
                return disk_error(ret_error, r, "cryptsetup open %s as %s failed: %s", devnode, name,
                                  out && *out ? out : strerror(-r));
        /* Without udev libdevmapper makes the node itself; wait for it. */
        for (unsigned ms = 0; access(mapper, F_OK) < 0; ms += 100) {
                if (ms >= 10000)
                        return disk_error(ret_error, -ETIMEDOUT, "%s did not appear after cryptsetup open", mapper);
                (void) nanosleep(&(struct timespec) { .tv_nsec = 100 * 1000 * 1000 }, NULL);
        }
        *ret_mapper = TAKE_PTR(mapper);
        return 0;
}

int disk_luks_close(const char *name, char **ret_error) {
        _cleanup_free_ char *out = NULL;
        int r;

        char *argv[] = { (char *) CRYPTSETUP, (char *) "close", (char *) name, NULL };
        /* Part of an unwind: runs after a signal too (basic/interrupt.h). */
        r = process_run_opts(argv, &(ProcessOptions) { .cleanup = true }, &out);
        if (r < 0)
                return disk_error(ret_error, r, "cryptsetup close %s failed: %s", name, out && *out ? out : strerror(-r));
        return 0;
}
