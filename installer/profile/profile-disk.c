/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The disk: section: which disk to install to and how to partition it. */
#include <ctype.h>
#include <inttypes.h>

#include "profile/profile-internal.h"

#define GPT_NAME_MAX 36
#define GPT_PARTITIONS_MAX 128
#define MSDOS_PARTITIONS_MAX 4

static const char *const fs_type_names[] = {
        [FS_NONE] = "none", [FS_EXT4] = "ext4", [FS_XFS] = "xfs", [FS_VFAT] = "vfat", [FS_SWAP] = "swap",
};

static const char *const partition_table_names[] = {
        [PARTITION_TABLE_GPT] = "gpt",
        [PARTITION_TABLE_MSDOS] = "msdos",
};

static const char *const disk_firmware_names[] = {
        [DISK_FIRMWARE_AUTO] = "auto",
        [DISK_FIRMWARE_BIOS] = "bios",
        [DISK_FIRMWARE_UEFI] = "uefi",
};

const char *disk_firmware_to_string(DiskFirmware f) {
        return (size_t) f < ELEMENTSOF(disk_firmware_names) ? disk_firmware_names[f] : NULL;
}

const char *fs_type_to_string(FsType t) {
        return (size_t) t < ELEMENTSOF(fs_type_names) ? fs_type_names[t] : NULL;
}

const char *partition_table_to_string(PartitionTable t) {
        return (size_t) t < ELEMENTSOF(partition_table_names) ? partition_table_names[t] : NULL;
}

/* Longest label each filesystem takes; 0 for "no label at all". */
size_t profile_fs_label_max(FsType t) {
        switch (t) {
        case FS_EXT4: return 16;
        case FS_XFS:  return 12;
        case FS_VFAT: return 11;
        case FS_SWAP: return 16;
        case FS_NONE: return 0;
        }
        return 0;
}

bool profile_fs_is_mounted(FsType t) {
        return t == FS_EXT4 || t == FS_XFS || t == FS_VFAT;
}

/* What the checks of one partition learn beyond the ProfilePartition itself,
 * so that a bad value is reported once and not again by the checks that
 * depend on it. */
typedef struct PartitionState {
        ProfilePartition *part;
        const YNode *node;
        bool fs_bad;
        bool size_valid;
        bool mount_bad;
} PartitionState;

typedef struct DiskState {
        ProfileDisk *disk;
        const YNode *partitions;  /* the list node, once seen */
        PartitionState *parts;    /* disk->n_partitions of them */
        bool table_bad;
} DiskState;

/* ---- sizes -------------------------------------------------------------------- */

/* A byte size: a plain integer (bytes) or a string such as "512MiB". */
bool profile_parse_byte_size(Checker *c, const YNode *v, uint64_t *ret) {
        const char *s = ck_scalar(c, v);
        int r;

        if (!s)
                return false;
        r = parse_size(s, ret);
        if (r == -ERANGE)
                ck_error(c, v, "size '%s' is too large", ck_quote(s).s);
        else if (r < 0)
                ck_error(c, v, "invalid size '%s' (expected for example 4GiB, 512MiB or a number of bytes)",
                         ck_quote(s).s);
        return r >= 0;
}

static bool parse_percent(const char *s, uint64_t *ret) {
        size_t digits = strspn(s, "0123456789");

        if (digits == 0 || digits > 3 || !streq(s + digits, "%"))
                return false;
        *ret = strtoull(s, NULL, 10);
        return true;
}

bool profile_parse_size(Checker *c, const YNode *v, PartitionSize *size) {
        const char *s = ck_scalar(c, v);
        uint64_t u;

        if (!s)
                return false;
        if (streq(s, "rest")) {
                *size = (PartitionSize) { .unit = SIZE_REST };
                return true;
        }
        if (endswith(s, "%")) {
                if (!parse_percent(s, &u) || u < 1 || u > 100) {
                        ck_error(c, v, "invalid percentage '%s' (expected a whole number from 1%% to 100%%)",
                                 ck_quote(s).s);
                        return false;
                }
                *size = (PartitionSize) { .unit = SIZE_PERCENT, .value = u };
                return true;
        }
        if (!profile_parse_byte_size(c, v, &u))
                return false;
        if (u < MiB) {
                ck_error(c, v, "size '%s' is smaller than the minimum of 1 MiB", ck_quote(s).s);
                return false;
        }
        *size = (PartitionSize) { .unit = SIZE_BYTES, .value = u };
        return true;
}

static void parse_partition_size(Checker *c, const YNode *v, void *userdata) {
        PartitionState *ps = userdata;

        ps->size_valid = profile_parse_size(c, v, &ps->part->size);
}

/* ---- one partition ------------------------------------------------------------------ */

static void parse_partition_fs(Checker *c, const YNode *v, void *userdata) {
        PartitionState *ps = userdata;
        int i = ck_enum(c, v, "filesystem", fs_type_names, ELEMENTSOF(fs_type_names));

        if (i < 0)
                ps->fs_bad = true;
        else
                ps->part->fs = (FsType) i;
}

static void parse_partition_mount(Checker *c, const YNode *v, void *userdata) {
        PartitionState *ps = userdata;
        const char *s = ck_scalar(c, v), *why;

        ps->mount_bad = true;
        if (!s)
                return;
        why = profile_check_mount_point(s);
        if (why) {
                ck_error(c, v, "invalid mount point '%s': %s", ck_quote(s).s, why);
                return;
        }
        if (ck_strdup(c, s, &ps->part->mount))
                ps->mount_bad = false;
}

const char *profile_check_label(const char *s) {
        if (!s[0])
                return "must not be empty";
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || *s == '/' || *s == 0x7f)
                        return "must not contain white space, control characters or '/'";
        return NULL;
}

static void parse_partition_label(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "label", profile_check_label, &((PartitionState *) userdata)->part->label);
}

static void parse_partition_name(Checker *c, const YNode *v, void *userdata) {
        PartitionState *ps = userdata;
        const char *s = ck_scalar(c, v);

        if (!s)
                return;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f) {
                        ck_error(c, v, "the partition name must not contain control characters");
                        return;
                }
        if (profile_utf16_length(s) > GPT_NAME_MAX)
                ck_error(c, v, "the partition name '%s' is longer than %d characters", ck_quote(s).s,
                         GPT_NAME_MAX);
        else
                ck_strdup(c, s, &ps->part->name);
}

static void parse_partition_mount_options(Checker *c, const YNode *v, void *userdata) {
        PartitionState *ps = userdata;
        const char *s = ck_scalar(c, v);

        if (!s)
                return;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f) {
                        ck_error(c, v, "mount options must not contain white space (separate them with ',')");
                        return;
                }
        ck_strdup(c, s, &ps->part->mount_options);
}

/* ---- preserve: an existing partition, kept (reinstall) ---------------------------------- */

static const char *check_fs_uuid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 64 || s[strspn(s, "0123456789abcdefABCDEF-")])
                return "expected hexadecimal digits and '-' as blkid shows a filesystem UUID "
                       "(for example 3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b or 1A2B-3C4D)";
        return NULL;
}

static void parse_preserve_label(Checker *c, const YNode *v, void *userdata) {
        PartitionPreserve *p = userdata;

        if (ck_validated(c, v, "label", profile_check_label, &p->value))
                p->by = PRESERVE_LABEL;
}

static void parse_preserve_number(Checker *c, const YNode *v, void *userdata) {
        PartitionPreserve *p = userdata;
        uint64_t u;

        if (ck_uint(c, v, 1, GPT_PARTITIONS_MAX, &u)) {
                p->number = (unsigned) u;
                p->by = PRESERVE_NUMBER;
        }
}

static void parse_preserve_uuid(Checker *c, const YNode *v, void *userdata) {
        PartitionPreserve *p = userdata;

        ck_validated(c, v, "filesystem UUID", check_fs_uuid, &p->value);
        if (p->value)
                p->by = PRESERVE_UUID;
}

static const Field preserve_fields[] = {
        { "label", parse_preserve_label, false },
        { "number", parse_preserve_number, false },
        { "uuid", parse_preserve_uuid, false },
};

static void parse_partition_preserve(Checker *c, const YNode *v, void *userdata) {
        PartitionState *ps = userdata;
        PartitionPreserve *p = &ps->part->preserve;
        size_t given = 0;

        p->line = v->line;
        p->column = v->column;
        if (!ck_fields(c, v, preserve_fields, ELEMENTSOF(preserve_fields), p))
                return;
        for (size_t i = 0; i < ELEMENTSOF(preserve_fields); i++)
                given += ck_value(v, preserve_fields[i].key) != NULL;
        if (given != 1) {
                ck_error(c, v, "name the partition to keep by exactly one of label, number or uuid%s",
                         given ? "" : " (for example preserve: {label: srv})");
                free(p->value);
                *p = (PartitionPreserve) { .line = v->line, .column = v->column };
        }
}

/* Keys a preserved partition cannot have: it is not formatted, so its
 * filesystem, label and (to keep its table entry as it is) name stay. */
static void parse_preserved_not_allowed(Checker *c, const YNode *v, void *userdata) {
        (void) userdata;
        ck_error(c, v, "a preserved partition keeps its filesystem, label and name as they are; remove this key");
}

static void parse_preserved_size(Checker *c, const YNode *v, void *userdata) {
        PartitionState *ps = userdata;
        const char *s = ck_scalar(c, v);
        uint64_t u;

        if (!s)
                return;
        if (streq(s, "rest") || endswith(s, "%")) {
                ck_error(c, v, "a preserved partition keeps its size: give it in bytes (it is then checked "
                               "against the existing partition) or leave size out");
                return;
        }
        if (profile_parse_byte_size(c, v, &u))
                ps->part->size = (PartitionSize) { .unit = SIZE_BYTES, .value = u };
}

static void parse_partition_raid(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "RAID array name", profile_check_md_name, &((PartitionState *) userdata)->part->raid);
}

static void parse_partition_lvm(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "volume group name", profile_check_lvm_name, &((PartitionState *) userdata)->part->lvm);
}

static void parse_partition_luks(Checker *c, const YNode *v, void *userdata) {
        profile_parse_luks(c, v, &((PartitionState *) userdata)->part->luks);
}

static const Field partition_fields[] = {
        { "size", parse_partition_size, true },
        { "fs", parse_partition_fs, false },
        { "mount", parse_partition_mount, false },
        { "label", parse_partition_label, false },
        { "name", parse_partition_name, false },
        { "mount_options", parse_partition_mount_options, false },
        { "preserve", parse_partition_preserve, false },
        { "raid", parse_partition_raid, false },
        { "lvm", parse_partition_lvm, false },
        { "luks", parse_partition_luks, false },
};

/* The same keys for an entry with preserve: (the unknown-key suggestions
 * stay the same). */
static const Field preserved_partition_fields[] = {
        { "size", parse_preserved_size, false },
        { "fs", parse_preserved_not_allowed, false },
        { "mount", parse_partition_mount, false },
        { "label", parse_preserved_not_allowed, false },
        { "name", parse_preserved_not_allowed, false },
        { "mount_options", parse_partition_mount_options, false },
        { "preserve", parse_partition_preserve, false },
};

/* A preserved partition is never written by the install: it cannot be
 * where the new system goes. */
static void check_preserved_partition(Checker *c, PartitionState *ps) {
        ProfilePartition *p = ps->part;

        if (p->mount && (streq(p->mount, "/") || streq(p->mount, "/boot") || streq(p->mount, "/boot/efi"))) {
                ck_error_key(c, ck_value(ps->node, "mount"), "mount",
                             "'%s' cannot be a preserved partition: the install writes the new system there", p->mount);
                ps->mount_bad = true; /* and no "nothing mounted at /" on top */
                free(p->mount);
                p->mount = NULL;
        }
}

/* A RAID member or an LVM physical volume holds no filesystem of its own:
 * fs, mount, label, mount_options and luks belong to the array or the
 * logical volume. */
static void check_partition_stacked(Checker *c, PartitionState *ps) {
        static const char *const own[] = { "fs", "mount", "label", "mount_options", "luks" };
        ProfilePartition *p = ps->part;
        const char *what = p->raid ? "raid" : "lvm";
        const YNode *k;

        if (p->raid && p->lvm) {
                ck_error_key(c, ck_present_key(ps->node, "lvm"), "lvm",
                             "a partition is either a RAID member ('raid') or an LVM physical volume ('lvm'); "
                             "to put LVM on RAID, set 'lvm' on the raid: entry");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(own); i++)
                if ((k = ck_present_key(ps->node, own[i])))
                        ck_error_key(c, k, own[i], "a partition with '%s' holds no filesystem of its own; put '%s' on the %s",
                                     what, own[i], p->raid ? "raid: entry" : "logical volume (lvm: volumes)");
        p->fs = FS_NONE;
}

/* Checks between the keys of one partition, once all of them are read (fs
 * may come after mount or label). Skipped when fs itself was bad. */
static void check_partition_mount(Checker *c, PartitionState *ps) {
        ProfilePartition *p = ps->part;
        const YNode *k;

        if (profile_fs_is_mounted(p->fs) && !ck_present_key(ps->node, "mount"))
                ck_error_key(c, ps->node, "mount", "missing required key 'mount': %s filesystems need a mount point",
                             fs_type_to_string(p->fs));
        if (!profile_fs_is_mounted(p->fs) && (k = ck_present_key(ps->node, "mount"))) {
                ck_error_key(c, k, "mount", "%s is not mounted; remove 'mount'",
                             p->fs == FS_SWAP ? "a swap partition" : "a partition without a filesystem");
                free(p->mount); /* reported; keep it out of the checks across partitions */
                p->mount = NULL;
        }
        if (p->fs == FS_NONE && (k = ck_present_key(ps->node, "mount_options")))
                ck_error_key(c, k, "mount_options", "a partition without a filesystem is not mounted; remove 'mount_options'");
        /* No mount_options: left NULL, so that /etc/fstab gets the usual
         * defaults per filesystem (target_write_fstab()). */
}

static void check_partition_label(Checker *c, PartitionState *ps) {
        ProfilePartition *p = ps->part;
        const YNode *k;

        if (p->fs == FS_NONE && (k = ck_present_key(ps->node, "label")))
                ck_error_key(c, k, "label", "a partition without a filesystem has no label (use 'name' for a GPT partition name)");
        else if (p->label && strlen(p->label) > profile_fs_label_max(p->fs))
                ck_error_key(c, ck_value(ps->node, "label"), "label",
                             "the label '%s' is longer than %zu characters, the limit for %s",
                             ck_quote(p->label).s, profile_fs_label_max(p->fs), fs_type_to_string(p->fs));
}

static void parse_partition(Checker *c, const YNode *v, PartitionState *ps) {
        ps->node = v;
        ps->part->fs = FS_EXT4;
        ps->part->line = v->line;
        ps->part->column = v->column;
        if (v->type == YNODE_MAPPING && ck_value(v, "preserve")) {
                /* Its filesystem is whatever is on the disk: the planner
                 * looks at it. Nothing to check across its keys here. */
                ps->part->fs = FS_NONE;
                if (ck_fields(c, v, preserved_partition_fields, ELEMENTSOF(preserved_partition_fields), ps))
                        check_preserved_partition(c, ps);
                return;
        }
        if (!ck_fields(c, v, partition_fields, ELEMENTSOF(partition_fields), ps)) {
                ps->fs_bad = ps->mount_bad = true;
                return;
        }
        if (ps->part->raid || ps->part->lvm)
                check_partition_stacked(c, ps);
        else if (!ps->fs_bad) {
                check_partition_mount(c, ps);
                check_partition_label(c, ps);
        }
}

static void parse_disk_partitions(Checker *c, const YNode *v, void *userdata) {
        DiskState *ds = userdata;
        ProfileDisk *d = ds->disk;

        if (!ck_type(c, v, YNODE_SEQUENCE))
                return;
        ds->partitions = v;
        if (v->n == 0) {
                ck_error(c, v, "needs at least one partition");
                return;
        }
        d->partitions = new0(ProfilePartition, v->n);
        ds->parts = new0(PartitionState, v->n);
        if (!d->partitions || !ds->parts) {
                ck_oom(c);
                return;
        }
        d->n_partitions = v->n;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                ds->parts[i].part = &d->partitions[i];
                parse_partition(c, v->items[i], &ds->parts[i]);
                ck_pop(c, mark);
        }
}

/* ---- checks across partitions ------------------------------------------------------------ */

static void error_at_partition(Checker *c, size_t i, const YNode *at, const char *key, const char *msg) {
        size_t mark = ck_push_key(c, "partitions");
        ck_push_index(c, i);
        if (key)
                ck_error_key(c, at, key, "%s", msg);
        else
                ck_error(c, at, "%s", msg);
        ck_pop(c, mark);
}

static void check_mounts(Checker *c, DiskState *ds) {
        const ProfileDisk *d = ds->disk;
        bool any_bad = false, have_root = false;

        for (size_t i = 0; i < d->n_partitions; i++) {
                const char *m = d->partitions[i].mount;

                any_bad = any_bad || ds->parts[i].mount_bad || ds->parts[i].fs_bad;
                if (!m)
                        continue;
                have_root = have_root || streq(m, "/");
                for (size_t j = 0; j < i; j++)
                        if (streq_ptr(d->partitions[j].mount, m)) {
                                _cleanup_free_ char *msg = strprintf(
                                        "mount point '%s' is already used by disk.partitions[%zu]", m, j);
                                error_at_partition(c, i, ck_value(ds->parts[i].node, "mount"), "mount",
                                                   msg ?: "duplicate mount point");
                                break;
                        }
        }
        /* The root filesystem may also be on a RAID array or a logical
         * volume: profile_check_storage() looks for it. */
        ds->disk->have_root = have_root;
        ds->disk->mounts_bad = any_bad;
}

static void check_labels(Checker *c, DiskState *ds) {
        const ProfileDisk *d = ds->disk;

        for (size_t i = 0; i < d->n_partitions; i++)
                for (size_t j = 0; d->partitions[i].label && j < i; j++)
                        if (streq_ptr(d->partitions[j].label, d->partitions[i].label)) {
                                _cleanup_free_ char *msg = strprintf(
                                        "label '%s' is already used by disk.partitions[%zu]",
                                        d->partitions[i].label, j);
                                error_at_partition(c, i, ck_value(ds->parts[i].node, "label"), "label",
                                                   msg ?: "duplicate label");
                                break;
                        }
}

static void check_sizes(Checker *c, DiskState *ds) {
        const ProfileDisk *d = ds->disk;
        size_t first_rest = SIZE_MAX, first_fixed = SIZE_MAX, over = SIZE_MAX;
        uint64_t percent = 0;

        for (size_t i = 0; i < d->n_partitions; i++) {
                const PartitionSize *s = &d->partitions[i].size;

                if (!ds->parts[i].size_valid)
                        continue;
                if (s->unit == SIZE_PERCENT) {
                        percent += s->value;
                        if (percent > 100 && over == SIZE_MAX)
                                over = i;
                        continue;
                }
                if (first_fixed == SIZE_MAX)
                        first_fixed = i;
                if (s->unit != SIZE_REST)
                        continue;
                if (first_rest == SIZE_MAX) {
                        first_rest = i;
                        continue;
                }
                _cleanup_free_ char *msg = strprintf(
                        "only one partition can have size 'rest'; disk.partitions[%zu] already has it", first_rest);
                error_at_partition(c, i, ck_value(ds->parts[i].node, "size"), "size", msg ?: "second 'rest'");
        }

        if (over != SIZE_MAX) {
                _cleanup_free_ char *msg = strprintf(
                        "the percentages add up to %" PRIu64 "%%, more than 100%%", percent);
                error_at_partition(c, over, ck_value(ds->parts[over].node, "size"), "size", msg ?: "over 100%");
        } else if (percent == 100 && first_fixed != SIZE_MAX)
                error_at_partition(c, first_fixed, ck_value(ds->parts[first_fixed].node, "size"), "size",
                                   "the percentages add up to 100%, which leaves no room for this partition");
}

static void check_table_limits(Checker *c, DiskState *ds) {
        const ProfileDisk *d = ds->disk;

        if (ds->table_bad)
                return;
        if (d->table == PARTITION_TABLE_MSDOS) {
                if (d->n_partitions > MSDOS_PARTITIONS_MAX)
                        error_at_partition(c, MSDOS_PARTITIONS_MAX, ds->parts[MSDOS_PARTITIONS_MAX].node, NULL,
                                           "an msdos partition table holds at most 4 partitions "
                                           "(logical partitions are not supported); use table: gpt");
                for (size_t i = 0; i < d->n_partitions; i++) {
                        const YNode *k = ck_present_key(ds->parts[i].node, "name");
                        if (k)
                                error_at_partition(c, i, k, "name",
                                                   "partition names need a GPT partition table (table: gpt)");
                }
        } else if (d->n_partitions > GPT_PARTITIONS_MAX)
                error_at_partition(c, GPT_PARTITIONS_MAX, ds->parts[GPT_PARTITIONS_MAX].node, NULL,
                                   "a GPT partition table holds at most 128 partitions");
}

/* ---- select ---------------------------------------------------------------------------- */

static const char *const transport_names[] = { "virtio", "sata", "sas", "nvme", "usb", "scsi", "ata", "mmc" };
static const char *const prefer_names[] = { "smallest", "largest", "first" };

/* Why a disk path is not one the planner can match, or NULL. A disk is named
 * by its kernel name or by the persistent names udev makes for whole disks;
 * by-uuid, by-label and by-part* name filesystems and partitions. */
static const char *check_disk_path(const char *p, char *hint, size_t hint_size) {
        static const char *const dirs[] = { "by-id", "by-path" };
        const char *rest, *why = profile_check_abs_path(p);

        if (why)
                return why;
        rest = startswith(p, "/dev/");
        if (!rest || !*rest)
                return "must be a device path under /dev/: /dev/NAME, /dev/disk/by-id/ID or /dev/disk/by-path/PATH";
        if (!strchr(rest, '/'))
                return NULL;
        rest = startswith(rest, "disk/");
        if (!rest)
                return "must be /dev/NAME, /dev/disk/by-id/ID or /dev/disk/by-path/PATH "
                       "(device-mapper, md and other stacked devices cannot be installed to)";
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                const char *name = startswith(rest, dirs[i]);
                if (name && name[0] == '/')
                        return name[1] && !strchr(name + 1, '/') ? NULL : "needs one name after the directory";
        }
        if (startswith(rest, "by-uuid/") || startswith(rest, "by-label/") || startswith(rest, "by-part") ||
            startswith(rest, "by-diskseq/"))
                return "names a filesystem or a partition, not a whole disk; use /dev/disk/by-id/ or "
                       "/dev/disk/by-path/";
        /* A misspelt directory: "did you mean". */
        const char *slash = strchr(rest, '/');
        if (slash) {
                _cleanup_free_ char *dir = strndup(rest, (size_t) (slash - rest));
                for (size_t i = 0; dir && i < ELEMENTSOF(dirs); i++)
                        if (string_distance(dir, dirs[i]) <= 2) {
                                snprintf(hint, hint_size, "/dev/disk/%s%s", dirs[i], slash);
                                return "unknown directory";
                        }
        }
        return "must be /dev/NAME, /dev/disk/by-id/ID or /dev/disk/by-path/PATH";
}

static void parse_select_path(Checker *c, const YNode *v, void *userdata) {
        DiskSelect *s = userdata;
        const char *p = ck_scalar(c, v), *why;
        char hint[256] = "";

        if (!p)
                return;
        why = check_disk_path(p, hint, sizeof hint);
        if (why && hint[0])
                ck_error(c, v, "invalid disk path '%s': %s; did you mean '%s'?", ck_quote(p).s, why,
                         ck_quote(hint).s);
        else if (why)
                ck_error(c, v, "invalid disk path '%s': %s", ck_quote(p).s, why);
        else
                ck_strdup(c, p, &s->path);
}

/* A World Wide Name: 16 or 32 hex digits (NAA 5 or 6), with or without
 * "0x", in any case; stored as "0x" + lower case as the inventory has it. */
static void parse_select_wwn(Checker *c, const YNode *v, void *userdata) {
        DiskSelect *s = userdata;
        const char *p = ck_scalar(c, v), *hex;
        size_t n;

        if (!p)
                return;
        hex = startswith(p, "0x") ?: startswith(p, "0X") ?: p;
        n = strspn(hex, "0123456789abcdefABCDEF");
        if (hex[n] || (n != 16 && n != 32)) {
                ck_error(c, v, "invalid WWN '%s': expected 16 or 32 hexadecimal digits, with or without 0x "
                               "(for example 0x5000c500a1b2c3d4)%s",
                         ck_quote(p).s,
                         startswith(p, "eui.") || startswith(p, "nvme.") || startswith(p, "uuid.") ?
                                 "; NVMe namespaces have no WWN: name them with serial or "
                                 "path: /dev/disk/by-id/nvme-..." : "");
                return;
        }
        _cleanup_free_ char *norm = strprintf("0x%s", hex);
        if (!norm) {
                ck_oom(c);
                return;
        }
        for (char *q = norm + 2; *q; q++)
                *q = (char) tolower((unsigned char) *q);
        s->wwn = TAKE_PTR(norm);
}

/* serial, model and vendor: any non-empty string (model and vendor are
 * fnmatch() patterns, and any string is one). */
static void parse_select_string(Checker *c, const YNode *v, char **ret) {
        const char *p = ck_scalar(c, v);

        if (p)
                ck_strdup(c, p, ret);
}

static void parse_select_serial(Checker *c, const YNode *v, void *userdata) {
        parse_select_string(c, v, &((DiskSelect *) userdata)->serial);
}

static void parse_select_model(Checker *c, const YNode *v, void *userdata) {
        parse_select_string(c, v, &((DiskSelect *) userdata)->model);
}

static void parse_select_vendor(Checker *c, const YNode *v, void *userdata) {
        parse_select_string(c, v, &((DiskSelect *) userdata)->vendor);
}

static void parse_select_transport(Checker *c, const YNode *v, void *userdata) {
        DiskSelect *s = userdata;
        int i = ck_enum(c, v, "transport", transport_names, ELEMENTSOF(transport_names));

        if (i >= 0)
                ck_strdup(c, transport_names[i], &s->transport);
}

static void parse_select_min_size(Checker *c, const YNode *v, void *userdata) {
        profile_parse_byte_size(c, v, &((DiskSelect *) userdata)->min_size);
}

static void parse_select_max_size(Checker *c, const YNode *v, void *userdata) {
        profile_parse_byte_size(c, v, &((DiskSelect *) userdata)->max_size);
}

static void parse_select_rotational(Checker *c, const YNode *v, void *userdata) {
        bool b;

        if (ck_bool(c, v, &b))
                ((DiskSelect *) userdata)->rotational = b;
}

static void parse_select_prefer(Checker *c, const YNode *v, void *userdata) {
        DiskSelect *s = userdata;
        int i = ck_enum(c, v, "preference", prefer_names, ELEMENTSOF(prefer_names));

        if (i >= 0)
                ck_strdup(c, prefer_names[i], &s->prefer);
}

static const Field select_fields[] = {
        { "path", parse_select_path, false },
        { "serial", parse_select_serial, false },
        { "wwn", parse_select_wwn, false },
        { "model", parse_select_model, false },
        { "vendor", parse_select_vendor, false },
        { "transport", parse_select_transport, false },
        { "min_size", parse_select_min_size, false },
        { "max_size", parse_select_max_size, false },
        { "rotational", parse_select_rotational, false },
        { "prefer", parse_select_prefer, false },
};

static void parse_disk_select(Checker *c, const YNode *v, void *userdata) {
        DiskSelect *s = &((DiskState *) userdata)->disk->select;

        s->line = v->line;
        s->column = v->column;
        if (!ck_fields(c, v, select_fields, ELEMENTSOF(select_fields), s))
                return;
        if (s->min_size > 0 && s->max_size > 0 && s->min_size > s->max_size) {
                char a[32], b[32];
                ck_error_key(c, ck_value(v, "max_size"), "max_size", "max_size (%s) is smaller than min_size (%s)",
                             format_bytes(a, sizeof(a), s->max_size), format_bytes(b, sizeof(b), s->min_size));
        }
}

/* ---- the disk ------------------------------------------------------------------------------ */

static void parse_disk_wipe(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &((DiskState *) userdata)->disk->wipe);
}

static void parse_disk_table(Checker *c, const YNode *v, void *userdata) {
        DiskState *ds = userdata;
        int i = ck_enum(c, v, "partition table", partition_table_names, ELEMENTSOF(partition_table_names));

        ds->disk->table_line = v->line;
        ds->disk->table_column = v->column;
        if (i < 0)
                ds->table_bad = true;
        else
                ds->disk->table = (PartitionTable) i;
}

/* Whether the table is right for the firmware is the planner's question:
 * with "auto" only the machine knows. */
static void parse_disk_firmware(Checker *c, const YNode *v, void *userdata) {
        ProfileDisk *d = ((DiskState *) userdata)->disk;
        int i = ck_enum(c, v, "firmware", disk_firmware_names, ELEMENTSOF(disk_firmware_names));

        if (i < 0)
                return;
        d->firmware = (DiskFirmware) i;
        d->firmware_line = v->line;
        d->firmware_column = v->column;
}

static void parse_mirror_select(Checker *c, const YNode *v, void *userdata) {
        DiskSelect *s = userdata;

        s->line = v->line;
        s->column = v->column;
        ck_fields(c, v, select_fields, ELEMENTSOF(select_fields), s);
}

static void parse_disk_mirror(Checker *c, const YNode *v, void *userdata) {
        ProfileDisk *d = ((DiskState *) userdata)->disk;
        const Field mirror_fields[] = {
                { "select", parse_mirror_select, true },
        };

        d->mirror = (DiskSelect) { .rotational = -1, .line = v->line, .column = v->column };
        if (ck_fields(c, v, mirror_fields, ELEMENTSOF(mirror_fields), &d->mirror))
                d->has_mirror = true;
}

static const Field disk_fields[] = {
        { "select", parse_disk_select, false },
        { "wipe", parse_disk_wipe, false },
        { "table", parse_disk_table, false },
        { "firmware", parse_disk_firmware, false },
        { "partitions", parse_disk_partitions, true },
        { "mirror", parse_disk_mirror, false },
};

void profile_check_disk_section(Checker *c, const YNode *v, ProfileDisk *disk) {
        DiskState ds = { .disk = disk };

        *disk = (ProfileDisk) {
                .table = PARTITION_TABLE_GPT,
                .select = { .rotational = -1, .line = v->line, .column = v->column },
        };
        if (ck_fields(c, v, disk_fields, ELEMENTSOF(disk_fields), &ds) && ds.parts) {
                check_mounts(c, &ds);
                check_labels(c, &ds);
                check_sizes(c, &ds);
                check_table_limits(c, &ds);
        }
        free(ds.parts);
}

static void disk_select_done(DiskSelect *s) {
        free(s->path);
        free(s->serial);
        free(s->wwn);
        free(s->model);
        free(s->vendor);
        free(s->transport);
        free(s->prefer);
}

void profile_disk_done(ProfileDisk *d) {
        disk_select_done(&d->select);
        disk_select_done(&d->mirror);
        for (size_t i = 0; i < d->n_partitions; i++) {
                ProfilePartition *p = &d->partitions[i];
                free(p->mount);
                free(p->label);
                free(p->name);
                free(p->mount_options);
                free(p->preserve.value);
                free(p->raid);
                free(p->lvm);
                profile_luks_free(p->luks);
        }
        free(d->partitions);
        *d = (ProfileDisk) {};
}
