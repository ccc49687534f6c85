/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Making filesystems with the real tools (by full path: busybox applets of
 * the same names would shadow them), then reading the UUID back with
 * libblkid. */
#include <ctype.h>
#include <inttypes.h>

#include "basic/log.h"
#include "basic/process.h"
#include "basic/strutil.h"
#include "disk/disk-internal.h"

#define MKE2FS "/sbin/mke2fs"
#define MKSWAP "/sbin/mkswap"
#define MKFS_FAT "/sbin/mkfs.fat"
#define MKFS_XFS "/sbin/mkfs.xfs"

#define MAX_ARGS 16

/* ---- deterministic identifiers (SOURCE_DATE_EPOCH) ----------------------- */

static uint64_t splitmix64(uint64_t *x) {
        uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

/* 16 bytes from (epoch, partition number, purpose), shaped as a version 4
 * UUID so that tools accept it. */
static void derive_id(uint64_t epoch, unsigned number, unsigned purpose, uint8_t id[static 16]) {
        uint64_t state = epoch ^ ((uint64_t) number << 32) ^ ((uint64_t) purpose << 56);
        for (unsigned i = 0; i < 16; i += 8) {
                uint64_t v = splitmix64(&state);
                for (unsigned k = 0; k < 8; k++)
                        id[i + k] = (uint8_t) (v >> (8 * k));
        }
        id[6] = (uint8_t) ((id[6] & 0x0f) | 0x40);
        id[8] = (uint8_t) ((id[8] & 0x3f) | 0x80);
}

static void format_uuid(const uint8_t id[static 16], char s[static 37]) {
        snprintf(s, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", id[0], id[1],
                 id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12], id[13], id[14],
                 id[15]);
}

/* SOURCE_DATE_EPOCH as a number; false when unset or not a number. */
static bool source_date_epoch(uint64_t *ret) {
        const char *e = getenv("SOURCE_DATE_EPOCH");
        char *end;

        if (!e || !*e)
                return false;
        errno = 0;
        *ret = strtoull(e, &end, 10);
        return errno == 0 && *end == 0;
}

enum { ID_FS_UUID, ID_HASH_SEED };

/* ---- the tools ------------------------------------------------------------ */

static const char *blkid_type_of(FsType fs) {
        switch (fs) {
        case FS_EXT4: return "ext4";
        case FS_XFS: return "xfs";
        case FS_VFAT: return "vfat";
        case FS_SWAP: return "swap";
        case FS_NONE: return NULL;
        }
        return NULL;
}

/* The tool's output as one line: white space runs and newlines become one
 * space; only the last ~1 KiB is kept (the end says what failed). */
static void squash_output(char *s) {
        char *w = s;
        bool space = false;
        size_t len;

        if (!s)
                return;
        for (const char *p = s; *p; p++) {
                if (isspace((unsigned char) *p)) {
                        space = w != s;
                        continue;
                }
                if (space)
                        *w++ = ' ';
                space = false;
                *w++ = *p;
        }
        *w = 0;
        len = (size_t) (w - s);
        if (len > 1024)
                memmove(s, s + len - 1024, 1024 + 1);
}

int disk_mkfs(const PlanPartition *p, const char *devnode, char **ret_fs_uuid, char **ret_error) {
        _cleanup_free_ char *output = NULL, *fat_label = NULL, *type = NULL, *uuid = NULL, *xfs_uuid = NULL;
        char fs_uuid[37], hash_seed[37], hash_opt[64], volid[9];
        const char *argv[MAX_ARGS], *tool, *expected = blkid_type_of(p->fs);
        bool fixed;
        uint64_t epoch = 0;
        size_t n = 0;
        int r;

        if (p->fs == FS_NONE) {
                *ret_fs_uuid = NULL;
                return 0;
        }

        fixed = source_date_epoch(&epoch);
        if (fixed) {
                uint8_t id[16];
                derive_id(epoch, p->number, ID_FS_UUID, id);
                format_uuid(id, fs_uuid);
                snprintf(volid, sizeof volid, "%02x%02x%02x%02x", id[0], id[1], id[2], id[3]);
                derive_id(epoch, p->number, ID_HASH_SEED, id);
                format_uuid(id, hash_seed);
                snprintf(hash_opt, sizeof hash_opt, "hash_seed=%s", hash_seed);
        }

        switch (p->fs) {
        case FS_EXT4:
                argv[n++] = tool = MKE2FS;
                argv[n++] = "-t";
                argv[n++] = "ext4";
                argv[n++] = "-F";
                argv[n++] = "-q";
                if (p->label) {
                        argv[n++] = "-L";
                        argv[n++] = p->label;
                }
                if (fixed) {
                        argv[n++] = "-U";
                        argv[n++] = fs_uuid;
                        argv[n++] = "-E";
                        argv[n++] = hash_opt;
                }
                break;
        case FS_SWAP:
                argv[n++] = tool = MKSWAP;
                if (p->label) {
                        argv[n++] = "-L";
                        argv[n++] = p->label;
                }
                if (fixed) {
                        argv[n++] = "-U";
                        argv[n++] = fs_uuid;
                }
                break;
        case FS_VFAT:
                argv[n++] = tool = MKFS_FAT;
                argv[n++] = "-F";
                argv[n++] = "32";
                /* No fake MBR inside the filesystem, even on a file. */
                argv[n++] = "--mbr=n";
                if (p->label) {
                        /* FAT labels are upper case (mkfs.fat warns otherwise). */
                        fat_label = strdup(p->label);
                        if (!fat_label)
                                return -ENOMEM;
                        for (char *c = fat_label; *c; c++)
                                *c = (char) toupper((unsigned char) *c);
                        argv[n++] = "-n";
                        argv[n++] = fat_label;
                }
                if (fixed) {
                        argv[n++] = "-i";
                        argv[n++] = volid;
                }
                break;
        case FS_XFS:
                argv[n++] = tool = MKFS_XFS;
                argv[n++] = "-f";
                if (p->label) {
                        argv[n++] = "-L";
                        argv[n++] = p->label;
                }
                if (fixed) {
                        xfs_uuid = strprintf("uuid=%s", fs_uuid);
                        if (!xfs_uuid)
                                return -ENOMEM;
                        argv[n++] = "-m";
                        argv[n++] = xfs_uuid;
                }
                break;
        default:
                return disk_error(ret_error, -EOPNOTSUPP, "Cannot make a filesystem of type %d on %s", (int) p->fs,
                                  devnode);
        }
        argv[n++] = devnode;
        argv[n] = NULL;

        if (access(tool, X_OK) < 0) {
                r = -errno;
                return disk_error(ret_error, r, "Cannot make %s on %s: %s is not available: %s",
                                  fs_type_to_string(p->fs), devnode, tool, strerror(-r));
        }

        log_debug("Making %s on %s with %s", fs_type_to_string(p->fs), devnode, tool);
        r = process_run((char *const *) argv, NULL, &output);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                squash_output(output);
                return disk_error(ret_error, r, "%s failed on %s (%s)%s%s", tool, devnode,
                                  r == -EPROTO ? "non-zero exit status" : r == -EINTR ? "killed by a signal" : strerror(-r),
                                  output && *output ? ": " : "", output ? output : "");
        }

        r = disk_probe_fs(devnode, &type, &uuid);
        if (r < 0)
                return disk_error(ret_error, r == -ENOENT ? -EIO : r, "After %s, no %s filesystem is found on %s: %s",
                                  tool, expected, devnode,
                                  r == -ENOENT ? "nothing there" : r == -ENOTUNIQ ? "ambiguous signatures" : strerror(-r));
        if (!streq_ptr(type, expected))
                return disk_error(ret_error, -EIO, "After %s, %s holds %s instead of %s", tool, devnode,
                                  type ? type : "no filesystem type", expected);
        if (!uuid)
                return disk_error(ret_error, -EIO, "After %s, the %s filesystem on %s has no UUID", tool, expected,
                                  devnode);

        *ret_fs_uuid = TAKE_PTR(uuid);
        return 0;
}
