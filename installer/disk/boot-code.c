/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Making a disk unbootable until the bootloader step: the MBR boot code
 * zeroed, the legacy-boot attribute (GPT) and the active flag (msdos) taken
 * off every partition. Edits the existing table in place, byte by byte:
 * nothing else of it changes. */
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "basic/log.h"
#include "disk/disk-internal.h"

#define MBR_CODE_SIZE 440          /* before the disk signature at 440 */
#define MBR_ENTRIES 446
#define GPT_ATTR_LEGACY_BOOT (UINT64_C(1) << 2)
#define GPT_ENTRIES_MAX (4 * 1024 * 1024) /* bytes of partition entries we are willing to read */

/* GPT's CRC32 is the one of the install-in-progress mark (hw/mark.c). */
#define crc32_le hw_crc32

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }
static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }

static int pread_all(int fd, void *buf, size_t n, uint64_t off) {
        ssize_t k = pread(fd, buf, n, (off_t) off);
        if (k < 0)
                return -errno;
        return (size_t) k == n ? 0 : -EIO;
}

static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off) {
        ssize_t k = pwrite(fd, buf, n, (off_t) off);
        if (k < 0)
                return -errno;
        return (size_t) k == n ? 0 : -EIO;
}

/* One GPT header (primary at LBA 1 or the backup) and its entries: clear
 * the legacy-boot attribute everywhere, fix both checksums. A header that
 * does not verify is left alone (0): it is not ours to repair. */
static int gpt_clear_legacy_boot(int fd, uint64_t lba, unsigned ss, uint64_t size, const char *path) {
        _cleanup_free_ uint8_t *hdr = malloc(ss), *ent = NULL;
        uint32_t hsize, n, esize, crc;
        uint64_t elba, bytes;
        bool changed = false;
        int r;

        if (!hdr)
                return -ENOMEM;
        if ((uint64_t) (lba + 1) * ss > size)
                return 0;
        r = pread_all(fd, hdr, ss, lba * ss);
        if (r < 0)
                return r;
        if (memcmp(hdr, "EFI PART", 8) != 0)
                return 0;
        hsize = get32(hdr + 12);
        if (hsize < 92 || hsize > ss)
                return 0;
        crc = get32(hdr + 16);
        put32(hdr + 16, 0);
        if (crc32_le(hdr, hsize) != crc) {
                log_debug("%s: GPT header at LBA %" PRIu64 " does not verify; left alone", path, lba);
                return 0;
        }
        elba = get64(hdr + 72);
        n = get32(hdr + 80);
        esize = get32(hdr + 84);
        bytes = (uint64_t) n * esize;
        if (esize < 128 || esize % 8 || bytes == 0 || bytes > GPT_ENTRIES_MAX || elba > size / ss ||
            bytes > size - elba * ss)
                return 0;
        ent = malloc((size_t) bytes);
        if (!ent)
                return -ENOMEM;
        r = pread_all(fd, ent, (size_t) bytes, elba * ss);
        if (r < 0)
                return r;
        if (crc32_le(ent, (size_t) bytes) != get32(hdr + 88))
                return 0;
        for (uint32_t i = 0; i < n; i++) {
                uint8_t *e = ent + (size_t) i * esize;
                uint64_t attr = get64(e + 48);
                if (attr & GPT_ATTR_LEGACY_BOOT) {
                        log_debug("%s: clearing the legacy BIOS bootable attribute of GPT entry %" PRIu32, path, i + 1);
                        put64(e + 48, attr & ~GPT_ATTR_LEGACY_BOOT);
                        changed = true;
                }
        }
        if (!changed)
                return 0;
        put32(hdr + 88, crc32_le(ent, (size_t) bytes));
        put32(hdr + 16, crc32_le(hdr, hsize));
        r = pwrite_all(fd, ent, (size_t) bytes, elba * ss);
        if (r >= 0)
                r = pwrite_all(fd, hdr, ss, lba * ss);
        return r;
}

int disk_zero_boot_code(int fd) {
        static const uint8_t zeros[MBR_CODE_SIZE];
        return pwrite_all(fd, zeros, sizeof zeros, 0);
}

int disk_make_unbootable(int fd, uint64_t size, const char *path, char **ret_error) {
        uint8_t mbr[512];
        struct stat st;
        unsigned ss = 512;
        bool protective = false;
        int r;

        if (size < sizeof mbr)
                return 0;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISBLK(st.st_mode)) {
                int k = 0;
                if (ioctl(fd, BLKSSZGET, &k) == 0 && k >= 512 && k <= 65536)
                        ss = (unsigned) k;
        }

        r = pread_all(fd, mbr, sizeof mbr, 0);
        if (r < 0)
                return disk_error(ret_error, r, "Failed to read the MBR of %s: %s", path, strerror(-r));
        /* The install-in-progress mark boots nothing either: it stays. */
        _cleanup_(hw_install_mark_freep) HwInstallMark *mark = NULL;
        if (hw_install_mark_decode(mbr, &mark) <= 0)
                memset(mbr, 0, MBR_CODE_SIZE);
        if (mbr[510] == 0x55 && mbr[511] == 0xaa)
                for (unsigned i = 0; i < 4; i++) {
                        uint8_t *e = mbr + MBR_ENTRIES + 16 * i;
                        if (e[4] == 0xee)
                                protective = true;
                        if (e[0] == 0x80) {
                                log_debug("%s: clearing the active flag of MBR entry %u", path, i + 1);
                                e[0] = 0;
                        }
                }
        r = pwrite_all(fd, mbr, sizeof mbr, 0);
        if (r < 0)
                return disk_error(ret_error, r, "Failed to clear the MBR boot code of %s: %s", path, strerror(-r));

        if (protective || mbr[510] != 0x55) {
                uint8_t hdr[92];
                r = pread_all(fd, hdr, sizeof hdr, ss);
                if (r >= 0 && memcmp(hdr, "EFI PART", 8) == 0) {
                        uint64_t alt = get64(hdr + 32);
                        r = gpt_clear_legacy_boot(fd, 1, ss, size, path);
                        if (r >= 0 && alt > 1)
                                r = gpt_clear_legacy_boot(fd, alt, ss, size, path);
                        if (r < 0)
                                return disk_error(ret_error, r, "Failed to clear the legacy boot attributes of %s: %s",
                                                  path, strerror(-r));
                }
        }
        return 0;
}
