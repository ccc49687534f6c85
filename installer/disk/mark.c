/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing and clearing the install-in-progress mark (its format: hw/mark.c).
 * Every write replaces the boot code area of LBA 0 (bytes 0..439) with one
 * 512-byte write of the whole sector, read first, so that the disk
 * signature and the partition entries (bytes 440..511) stay what they are;
 * then fsync. */
#include <blkid/blkid.h>
#include <fcntl.h>
#include <time.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "disk/disk-internal.h"
#include "hw/hw.h"

#define SECTOR 512

static int read_sector0(int fd, uint8_t buf[static SECTOR]) {
        ssize_t k = pread(fd, buf, SECTOR, 0);
        if (k < 0)
                return -errno;
        return k == SECTOR ? 0 : -EIO;
}

static int write_sector0(int fd, const uint8_t buf[static SECTOR]) {
        ssize_t k = pwrite(fd, buf, SECTOR, 0);
        if (k < 0)
                return -errno;
        if (k != SECTOR)
                return -EIO;
        return fsync(fd) < 0 ? -errno : 0;
}

int disk_mark_read_fd(int fd, HwInstallMark **ret) {
        uint8_t s[SECTOR];
        int r;

        *ret = NULL;
        r = read_sector0(fd, s);
        if (r < 0)
                return r;
        r = hw_install_mark_decode(s, ret);
        return r == -EBADMSG ? 0 : r;
}

int disk_mark_write_fd(int fd, const HwInstallMark *m) {
        uint8_t s[SECTOR];
        int r;

        r = read_sector0(fd, s);
        if (r < 0)
                return r;
        r = hw_install_mark_encode(m, s);
        if (r < 0)
                return r;
        return write_sector0(fd, s);
}

int disk_mark_write(const Plan *plan, const char *path, char **ret_error) {
        _cleanup_free_ char *machine = hw_inventory_machine_id(plan->inventory);
        _cleanup_close_ int fd = -1;
        struct timespec ts;
        struct stat st;
        uint64_t size;
        int r;

        if (stat(path, &st) < 0) {
                r = -errno;
                return disk_error(ret_error, r, "Cannot mark %s: %s", path, strerror(-r));
        }
        fd = disk_open(path, O_RDWR | (S_ISBLK(st.st_mode) ? O_EXCL : 0), &st, &size);
        if (fd == -EBUSY)
                return disk_error(ret_error, fd, "Refusing to mark %s: it is in use", path);
        if (fd < 0)
                return disk_error(ret_error, fd, "Cannot open %s for writing: %s", path, strerror(-fd));
        r = disk_verify_identity_fd(disk_planned_disk(plan, path), fd, path, ret_error);
        if (r < 0)
                return r;
        if (size < SECTOR)
                return disk_error(ret_error, -ENOSPC, "Cannot mark %s: it is smaller than one sector", path);
        if (!machine)
                log_debug("This machine has no identity (no SMBIOS UUID, no NIC): the mark on %s will not be recognised",
                          path);
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        HwInstallMark m = {
                .started_usec = (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000,
                .machine = machine,
                .disk_size = size,
                .flags = plan->keep_table ? HW_INSTALL_MARK_KEPT_PARTITIONS : 0,
                /* The table the plan saw: until the partition step, the mark
                 * is trusted only while the disk still has it. */
                .prior_table_id = disk_planned_disk(plan, path)->ptuuid,
        };
        r = disk_mark_write_fd(fd, &m);
        if (r < 0)
                return disk_error(ret_error, r, "Failed to write the install-in-progress mark to %s: %s", path, strerror(-r));
        return 0;
}

int disk_has_mark(const char *path) {
        _cleanup_(hw_install_mark_freep) HwInstallMark *m = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

        if (fd < 0)
                return -errno;
        return disk_mark_read_fd(fd, &m);
}

/* The PTUUID of the table on fd, as blkid prints it. */
static int probe_ptuuid(int fd, char **ret) {
        blkid_probe pr = hw_blkid_probe_new(fd, 0, 0, true);
        const char *v = NULL;
        int r;

        if (!pr)
                return -EIO;
        r = blkid_do_safeprobe(pr);
        if (r == 0 && blkid_probe_lookup_value(pr, "PTUUID", &v, NULL) == 0 && v && *v)
                r = (*ret = strdup(v)) ? 0 : -ENOMEM;
        else
                r = r == -2 ? -ENOTUNIQ : -ENOENT;
        blkid_free_probe(pr);
        return r;
}

int disk_mark_after_partition(int fd, const char *path, char **ret_error) {
        _cleanup_(hw_install_mark_freep) HwInstallMark *m = NULL;
        _cleanup_free_ char *ptuuid = NULL;
        int r;

        r = disk_mark_read_fd(fd, &m);
        if (r < 0)
                return disk_error(ret_error, r, "Failed to read the MBR of %s: %s", path, strerror(-r));
        if (!m) {
                /* No mark (disk_partition() on its own): the disk must boot
                 * nothing until the bootloader step all the same. */
                r = disk_zero_boot_code(fd);
                if (r >= 0 && fsync(fd) < 0)
                        r = -errno;
                if (r < 0)
                        return disk_error(ret_error, r, "Failed to clear the MBR boot code of %s: %s", path, strerror(-r));
                return 0;
        }
        r = probe_ptuuid(fd, &ptuuid);
        if (r < 0)
                return disk_error(ret_error, r, "Cannot read the identifier of the new partition table of %s: %s", path,
                                  strerror(-r));
        free(m->table_id);
        m->table_id = TAKE_PTR(ptuuid);
        r = disk_mark_write_fd(fd, m);
        if (r < 0)
                return disk_error(ret_error, r, "Failed to rewrite the install-in-progress mark of %s: %s", path,
                                  strerror(-r));
        log_debug("%s: install-in-progress mark now names partition table %s", path, m->table_id);
        return 0;
}

int disk_mark_clear(const Plan *plan, const char *path, char **ret_error) {
        _cleanup_close_ int fd = -1;
        uint8_t s[SECTOR];
        int r;

        fd = disk_open(path, O_RDWR, NULL, NULL);
        if (fd < 0)
                return disk_error(ret_error, fd, "Cannot open %s for writing: %s", path, strerror(-fd));
        r = disk_verify_identity_fd(disk_planned_disk(plan, path), fd, path, ret_error);
        if (r < 0)
                return r;
        r = read_sector0(fd, s);
        if (r >= 0) {
                memset(s, 0, HW_INSTALL_MARK_SIZE);
                r = write_sector0(fd, s);
        }
        if (r < 0)
                return disk_error(ret_error, r, "Failed to clear the install-in-progress mark of %s: %s", path, strerror(-r));
        return 0;
}
