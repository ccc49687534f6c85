/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The plan: hardware inventory + profile -> exactly what will be done to
 * which disk. A pure function (no I/O), printable as text and JSON, checked
 * offline. Applying it is a separate step. */

#include <stdio.h>

#include "hw/hw.h"
#include "profile/profile.h"

#define PLAN_ALIGN (1024 * 1024ULL) /* partitions start and end on 1 MiB */
#define PLAN_ESP_SIZE (512 * 1024 * 1024ULL) /* the EFI system partition added for UEFI */
#define PLAN_ESP_MOUNT "/boot/efi"
#define PLAN_ESP_OPTIONS "umask=0077" /* fstab default: the ESP is root's alone */
/* Partitions per table, the automatic boot partition included: the 128
 * entries of a GPT as parted writes it, the 4 primaries of msdos. */
#define PLAN_GPT_PARTITIONS_MAX 128
#define PLAN_MSDOS_PARTITIONS_MAX 4

typedef enum PartRole {
        PART_ROLE_BIOS_BOOT, /* GPT BIOS boot partition (for legacy boot) */
        PART_ROLE_ESP,       /* EFI system partition */
        PART_ROLE_SWAP,
        PART_ROLE_ROOT,
        PART_ROLE_DATA,      /* any other filesystem */
        PART_ROLE_RAW,       /* no filesystem */
} PartRole;

typedef struct PlanPartition {
        unsigned number;
        uint64_t start, size;        /* bytes, PLAN_ALIGN aligned */
        PartRole role;
        FsType fs;
        const char *mount, *label, *name, *mount_options; /* borrowed from the profile */
        bool legacy_boot;            /* GPT attribute bit 2 (for gptmbr.bin) */
        bool boot_flag;              /* msdos active flag */
        bool automatic;              /* added by the planner for the firmware, not in the profile */
        /* preserve: an existing partition kept as it is (reinstall). It
         * keeps its number, start and size; it is never wiped, formatted or
         * mounted by the installer, only entered in the new fstab. */
        bool preserve;
        const char *existing;        /* preserve: its name in the inventory (vda3) */
        const char *fstype;          /* preserve: what libblkid finds on it (TYPE), or NULL */
        const char *fs_uuid;         /* preserve: its filesystem UUID, or NULL */
        const ProfilePartition *source; /* the profile's entry; NULL for an automatic one */
} PlanPartition;

/* RAID1 (disk.mirror + raid:): one array over the partition with the same
 * number on both disks. */
typedef struct PlanRaid {
        const ProfileRaid *source;
        const char *name;            /* md0: /dev/md0 */
        unsigned member;             /* the partition number, on both disks */
        const char *metadata;        /* "1.0" when it holds /boot for extlinux, else "1.2" */
        const char *homehost;        /* mdadm --homehost: the profile's hostname */
        uint64_t size;               /* of each member partition, bytes */
        bool holds_boot;             /* the filesystem with /boot (or / without a /boot) */
} PlanRaid;

/* luks: (on a partition): the partition is formatted as LUKS2 and opened as
 * /dev/mapper/NAME, which holds the partition's filesystem. The key file
 * comes from source->key_url, fetched before anything is written (the plan
 * itself does no I/O). */
typedef struct PlanLuks {
        const ProfileLuks *source;
        const char *name;            /* the mapping: /dev/mapper/NAME */
        unsigned partition;          /* the number of the partition it is on */
        char where[48];              /* "disk.partitions[N].luks", for messages */
} PlanLuks;
/* LVM (lvm.c): a volume group over partitions of the target and/or RAID
 * arrays, and its logical volumes, sized in whole extents. */
#define PLAN_LVM_EXTENT (4 * 1024 * 1024ULL)   /* vgcreate -s 4m (the default) */
#define PLAN_LVM_PE_START (1024 * 1024ULL)  /* pvcreate: label + metadata area before the first extent */
/* An array as a physical volume: the md superblock and mdadm's data offset
 * (at most 128 MiB of headroom) plus the bitmap: reserved, conservatively. */
#define PLAN_LVM_MD_RESERVE (136 * 1024 * 1024ULL)
#define PLAN_LVM_PV_MAX 8
/* Logical volumes per volume group: their metadata (a few hundred bytes
 * each) stays well inside the 1 MiB metadata area pvcreate makes. */
#define PLAN_LVM_LV_MAX 256

typedef struct PlanLv {
        const ProfileVolume *source;
        const char *name;
        uint64_t extents;            /* lvcreate -l EXTENTS; rest: the free extents (lvcreate -l 100%FREE) */
        uint64_t size;               /* extents * PLAN_LVM_EXTENT */
        bool rest;
} PlanLv;

typedef struct PlanVg {
        const ProfileVg *source;
        const char *name;
        unsigned pv_partitions[PLAN_LVM_PV_MAX]; /* partition numbers on the target */
        size_t n_pv_partitions;
        const char *pv_raids[PLAN_LVM_PV_MAX];   /* arrays: md0 */
        size_t n_pv_raids;
        uint64_t pv_bytes;           /* the physical volumes' sizes, added */
        uint64_t extents;            /* usable extents (exact on partitions; conservative on arrays) */
        bool estimated;              /* an array is a physical volume: extents is a lower bound */
        PlanLv *lvs;
        size_t n_lvs;
} PlanVg;

/* ---- the volume list: what apply iterates -------------------------------------
 *
 * Every block device the install makes, in an order in which each comes
 * after what it sits on: the partitions (in table order), the RAID1 arrays,
 * the LUKS2 mappings, the volume groups, the logical volumes (so
 * volumes[i] is partitions[i] for i < n_partitions). Each carries
 * its filesystem, mount point, label and options, what it sits on, where it
 * comes from in the profile and a stable id. Every capacity limit is
 * checked when the list is built (plan_build()); apply needs neither the
 * profile nor any fixed-size table. */
typedef enum PlanVolumeKind {
        PLAN_VOLUME_PARTITION,       /* on the target (and, with disk.mirror, the same on the mirror) */
        PLAN_VOLUME_RAID,            /* on two partitions with the same number, one per disk */
        PLAN_VOLUME_LUKS,            /* on a partition */
        PLAN_VOLUME_VG,              /* on partitions and arrays (its physical volumes); holds no filesystem */
        PLAN_VOLUME_LV,              /* in a volume group */
        _PLAN_VOLUME_KIND_MAX,
} PlanVolumeKind;

typedef struct PlanVolume {
        PlanVolumeKind kind;
        char *id;                    /* stable and unique: partition:2 raid:md0 luks:NAME vg:NAME lv:VG/LV */
        /* What disk_mkfs() derives reproducible identifiers from (with
         * SOURCE_DATE_EPOCH): a partition's number (a LUKS mapping's
         * filesystem: its partition's), 256 + N for mdN, 512 + the logical
         * volume's index in the plan. Unique in the plan. */
        unsigned fs_seed;
        FsType fs;                   /* made on this volume; FS_NONE: none (raw, or it holds another volume) */
        const char *mount, *label, *mount_options; /* borrowed (profile or plan constants) */
        unsigned mount_depth;        /* components of mount: "/" 0, "/boot" 1, "/boot/efi" 2 */
        uint64_t size;               /* bytes (a volume group: its planned extents' bytes) */
        bool preserve;               /* a kept partition: never written nor mounted, only in fstab */
        const char *fs_uuid;         /* preserve: its filesystem UUID (for fstab), or NULL */
        size_t *on;                  /* indices into Plan.volumes of what it sits on (none: the disk) */
        size_t n_on;
        char *where;                 /* its profile entry ("lvm[0].volumes[1]"); NULL when added by the plan */
        unsigned line, column;       /* of that entry; 0 when added by the plan */
        /* The kind's own record (exactly one is set). */
        const PlanPartition *partition;
        const PlanRaid *raid;
        const PlanLuks *luks;        /* also: the index into install keys is luks - Plan.luks */
        const PlanVg *vg;            /* VG and LV */
        const PlanLv *lv;
} PlanVolume;

const char *plan_volume_kind_to_string(PlanVolumeKind k);

/* Mount points: at most this many bytes (the installer mounts under its own
 * root, and the whole path must stay below PATH_MAX), each component at most
 * NAME_MAX (255) bytes. Any depth. */
#define PLAN_MOUNT_PATH_MAX 3968
#define PLAN_MOUNT_NAME_MAX 255

typedef struct PlanCandidate {
        size_t disk;                 /* index into inventory */
        bool matches;
        char *reason;                /* why it matched or not */
} PlanCandidate;

/* Why the target (or the mirror) is wiped. */
typedef enum PlanWipeReason {
        PLAN_WIPE_NONE,              /* blank: nothing to destroy */
        PLAN_WIPE_PROFILE,           /* disk.wipe: true */
        /* It carries this installer's install-in-progress mark (hw.h,
         * HwInstallMark) written on this machine, for this disk, naming
         * the table it has (or none yet): an unfinished install, redone
         * without disk.wipe. plan_mark_verdict() decides. */
        PLAN_WIPE_UNFINISHED,
} PlanWipeReason;

const char *plan_wipe_reason_to_string(PlanWipeReason r);

typedef enum PlanMarkVerdict {
        PLAN_MARK_NONE,              /* no (valid) mark on the disk */
        PLAN_MARK_OURS,              /* this installer's unfinished install, here */
        PLAN_MARK_FOREIGN,           /* a mark that does not match: trusted for nothing */
} PlanMarkVerdict;

/* Does disk d's mark say "this machine's unfinished install on this very
 * disk"? OURS when its machine id equals hw_inventory_machine_id(inv) (a
 * machine without one recognises nothing), its disk size equals d->size,
 * its table id is empty or equals d->ptuuid (case-insensitive), and, when
 * whole_disk (the plan wipes the whole disk), it is not from a reinstall
 * that kept partitions. FOREIGN with *ret_why (allocated) saying which of
 * these fails; NONE without a mark. -ENOMEM. Pure. */
int plan_mark_verdict(const Inventory *inv, const HwDisk *d, bool whole_disk, char **ret_why);

typedef struct Plan {
        const Profile *profile;      /* borrowed */
        const Inventory *inventory;  /* borrowed */
        Firmware firmware;           /* what the install is for: disk.firmware, else detected */
        bool firmware_from_profile;  /* disk.firmware said so (not "auto") */
        size_t target;               /* index of the target disk in inventory */
        char *target_reason;
        PlanCandidate *candidates;   /* one per inventory disk */
        size_t n_candidates;
        bool wipe;                   /* the target holds data and will be wiped */
        char *wipe_summary;          /* what is destroyed, or NULL */
        PlanWipeReason wipe_reason;  /* why (PLAN_WIPE_NONE when !wipe) */
        char *mark_note;             /* the target carries a mark: what the plan makes of it, or NULL */
        /* Some partitions are preserved: the existing partition table is
         * edited (the other partitions deleted, the new ones added) instead
         * of a new one written, and only the deleted partitions are wiped. */
        bool keep_table;
        char *keep_summary;          /* what is kept, or NULL */
        const HwPartition **preserved; /* per profile partition: the existing one it keeps, or NULL */
        PartitionTable table;
        PlanPartition *partitions;
        size_t n_partitions;
        uint64_t usable_start, usable_end; /* bytes */
        /* disk.mirror: the second disk of the RAID1 arrays, with the same
         * partition table as the target (laid out on the smaller of the two). */
        bool has_mirror;
        size_t mirror;               /* index in inventory, when has_mirror */
        char *mirror_reason;
        bool mirror_wipe;            /* the mirror disk holds data and will be wiped */
        char *mirror_wipe_summary;
        PlanWipeReason mirror_wipe_reason;
        char *mirror_mark_note;
        PlanRaid *raids;
        size_t n_raids;
        PlanLuks *luks;              /* luks.c */
        size_t n_luks;
        PlanVg *vgs;                 /* lvm: */
        size_t n_vgs;
        PlanVolume *volumes;         /* volumes.c: the ordered list apply iterates */
        size_t n_volumes;
        size_t *mount_order;         /* indices into volumes to mount, parents first (reverse: unmount) */
        size_t n_mount_order;
} Plan;

/* Largest difference between the two disks of a mirror, in percent of the
 * larger one; beyond it the plan refuses (the space would be wasted, or the
 * wrong disk was picked). */
#define PLAN_MIRROR_TOLERANCE_PERCENT 1

/* Build the plan. On failure returns -EINVAL with the reasons appended to
 * errors (positioned in the profile where possible). */
int plan_build(const Inventory *inv, const Profile *profile, Plan **ret, ProfileErrors *errors);
void plan_free(Plan *p);
DEFINE_POINTER_CLEANUP(Plan, plan_free);
#define _cleanup_plan_ _cleanup_(plan_freep)

void plan_print_text(const Plan *p, FILE *f);
void plan_print_json(const Plan *p, FILE *f);

const HwDisk *plan_target_disk(const Plan *p);
/* The mirror disk, or NULL without disk.mirror. */
const HwDisk *plan_mirror_disk(const Plan *p);
/* The array a partition is a member of, or NULL. */
const PlanRaid *plan_partition_raid(const Plan *p, const PlanPartition *pl);
const char *part_role_to_string(PartRole r);
/* The LUKS2 volume on a partition, or NULL. */
const PlanLuks *plan_partition_luks(const Plan *p, const PlanPartition *pl);
/* The volume a partition is in the volume list, or NULL. */
const PlanVolume *plan_volume_of_partition(const Plan *p, const PlanPartition *pl);
/* The volume group a partition is a physical volume of, or NULL. */
const PlanVg *plan_partition_vg(const Plan *p, const PlanPartition *pl);
/* Does a logical volume hold / or /boot (the installed system's initramfs
 * must activate the volume group)? */
bool plan_lvm_holds_system(const Plan *p);
/* /dev/mapper/VG-LV (a '-' in a name doubled), allocated. */
char *plan_lv_devnode(const PlanVg *vg, const PlanLv *lv);
