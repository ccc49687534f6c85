/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The install profile: what one machine (or role) should become. Loaded from
 * YAML, validated completely (every error collected, each with
 * file:line:column), and turned into plain structs. Nothing here does I/O
 * beyond reading the profile file. See docs/profile.md. */

#include <stdint.h>
#include <stdio.h>

#include "basic/macro.h"
#include "ydoc/ydoc.h"

/* ---- errors -------------------------------------------------------------- */

typedef struct ProfileError {
        char *file;
        unsigned line, column; /* 1-based; 0 when unknown */
        char *key;             /* dotted path, e.g. "disk.partitions[1].size" */
        char *message;
} ProfileError;

typedef struct ProfileErrors {
        ProfileError *v;
        size_t n;
} ProfileErrors;

/* Append an error; file may be NULL. Returns 0 or -ENOMEM. */
int profile_errors_add(ProfileErrors *e, const char *file, unsigned line, unsigned column,
                       const char *key, const char *fmt, ...) _printf_(6, 7);
/* One line per error: "FILE:LINE:COL: error: KEY: MESSAGE". */
void profile_errors_print(FILE *f, const ProfileErrors *e);
void profile_errors_done(ProfileErrors *e);

/* ---- the profile ----------------------------------------------------------- */

typedef enum PartitionTable {
        PARTITION_TABLE_GPT,
        PARTITION_TABLE_MSDOS,
} PartitionTable;

/* disk.firmware: which boot partition and bootloader the install gets. */
typedef enum DiskFirmware {
        DISK_FIRMWARE_AUTO,   /* the firmware the machine booted the installer with */
        DISK_FIRMWARE_BIOS,   /* legacy BIOS: BIOS boot partition (GPT), extlinux */
        DISK_FIRMWARE_UEFI,   /* UEFI: EFI system partition, systemd-boot */
} DiskFirmware;

typedef enum FsType {
        FS_NONE,  /* partition without a filesystem */
        FS_EXT4,
        FS_XFS,
        FS_VFAT,
        FS_SWAP,
} FsType;

typedef enum SizeUnit {
        SIZE_BYTES,   /* value = bytes */
        SIZE_PERCENT, /* value = percent of the disk, 1..100 */
        SIZE_REST,    /* whatever is left; at most one partition */
} SizeUnit;

typedef struct PartitionSize {
        SizeUnit unit;
        uint64_t value;
} PartitionSize;

/* preserve: an existing partition of the target disk, kept as it is
 * (reinstall). Found in the inventory by exactly one of these. */
typedef enum PreserveBy {
        PRESERVE_NONE,        /* a new partition */
        PRESERVE_LABEL,       /* filesystem label, exactly */
        PRESERVE_NUMBER,      /* partition number */
        PRESERVE_UUID,        /* filesystem UUID, any case */
} PreserveBy;

typedef struct PartitionPreserve {
        PreserveBy by;
        char *value;          /* label or UUID */
        unsigned number;
        unsigned line, column; /* the preserve: value */
} PartitionPreserve;

typedef struct ProfilePartition {
        PartitionSize size;   /* with preserve: unit SIZE_BYTES and value 0 when not given */
        PartitionPreserve preserve;
        FsType fs;
        char *mount;          /* "/" "/boot" ... or NULL (swap: NULL) */
        char *label;          /* filesystem label, optional */
        char *name;           /* GPT partition name, optional */
        char *mount_options;  /* optional, default "defaults" */
        unsigned line, column;
} ProfilePartition;

typedef struct DiskSelect {
        char *path;           /* /dev/NAME, /dev/disk/by-id/ID or /dev/disk/by-path/PATH */
        char *serial;
        char *wwn;            /* normalised: "0x" + lower-case hex */
        char *model;          /* fnmatch() pattern */
        char *vendor;         /* fnmatch() pattern */
        char *transport;      /* virtio sata nvme sas usb scsi ... */
        uint64_t min_size;    /* bytes, 0 = no limit */
        uint64_t max_size;    /* bytes, 0 = no limit */
        int rotational;       /* -1 any, 0 SSD, 1 spinning */
        char *prefer;         /* NULL, "smallest", "largest", "first" */
        unsigned line, column;
} DiskSelect;

typedef struct ProfileDisk {
        DiskSelect select;
        bool wipe;            /* may a disk holding data be wiped? */
        PartitionTable table;
        DiskFirmware firmware;
        unsigned firmware_line, firmware_column; /* of disk.firmware, 0 when absent */
        unsigned table_line, table_column;       /* of disk.table, 0 when absent */
        ProfilePartition *partitions;
        size_t n_partitions;
} ProfileDisk;

typedef struct ProfileImage {
        char *url;
        char *sha256;         /* 64 lower-case hex digits */
        char *format;         /* NULL (auto from the URL) or tar, tar.gz, tar.xz, tar.zst */
        bool insecure_no_checksum; /* sha256 is NULL: the image is not verified */
} ProfileImage;

typedef struct ProfileUser {
        char *name;
        char *gecos;
        char *password_hash;  /* crypt(3) string; SECRET: never print */
        char **ssh_authorized_keys;
        char **groups;
        char *shell;
        char *sudo;           /* NULL, or a sudoers rule such as "ALL=(ALL) ALL" */
        unsigned line, column;
} ProfileUser;

typedef struct ProfileRoute {
        char *to;             /* "default" or CIDR */
        char *via;
        uint32_t metric;      /* 0 = unset */
} ProfileRoute;

typedef struct ProfileEthernet {
        char *id;             /* the key under network.ethernets */
        char *match_mac;      /* normalised aa:bb:.. or NULL */
        char *match_name;     /* interface name glob or NULL */
        bool dhcp4, dhcp6;
        char **addresses;     /* CIDR */
        char *gateway4, *gateway6;
        ProfileRoute *routes;
        size_t n_routes;
        char **nameservers;
        char **search;
        uint32_t mtu;         /* 0 = unset */
        unsigned line, column;
} ProfileEthernet;

typedef struct ProfileNetwork {
        ProfileEthernet *ethernets;
        size_t n_ethernets;
        YNode *source;        /* the network: node as written (borrowed from doc) */
} ProfileNetwork;

/* match: which machines the profile is for. Every key given must agree with
 * the machine (profile_match_check()); keys not given agree with any. */
typedef struct ProfileMatch {
        char **macs;          /* normalised aa:bb:..; any NIC of the machine has one */
        char *uuid;           /* SMBIOS UUID, lower case */
        char *serial;         /* SMBIOS serial, exactly */
        char *vendor;         /* fnmatch() pattern against dmi.sys_vendor */
        char *product;        /* fnmatch() pattern against dmi.product_name */
        uint64_t min_memory;  /* bytes, compared with MemTotal; 0 = no limit */
        char *firmware;       /* "bios", "uefi" or NULL */
        YNode *source;        /* the match: node as written (borrowed from doc), or NULL */
} ProfileMatch;

typedef struct Profile {
        YDoc *doc;            /* owned: the parsed document (with fragments merged in) */
        YDoc **fragments;     /* owned: the included documents; their nodes were moved
                               * into doc, but nodes keep pointing to their filename */
        size_t n_fragments;
        char *filename;
        unsigned version;
        char *hostname;
        ProfileDisk disk;
        ProfileImage image;
        ProfileUser *users;
        size_t n_users;
        ProfileNetwork network;
        YNode *firstboot;     /* cloud-config mapping (borrowed from doc), or NULL */
        ProfileMatch match;
} Profile;

/* Load and validate. On validation failure returns -EINVAL with every problem
 * appended to errors (and no profile). Other failures: -errno. */
int profile_load_file(const char *path, Profile **ret, ProfileErrors *errors);
int profile_load_string(const char *name, const char *data, size_t size, Profile **ret,
                        ProfileErrors *errors);

/* Fragments: "include: [a.yaml, ...]". An include loader gets the name of
 * the including document (base) and the reference as written (ref), and
 * returns the fragment's name (used in messages and as the base of its own
 * includes; must not hold credentials) and its text. Returns 0, -ENOENT when
 * there is no such fragment, or another -errno. See docs/profile.md for the
 * merge rules. */
typedef int (*ProfileIncludeFn)(const char *base, const char *ref, char **ret_name, char **ret_data,
                                size_t *ret_size, void *userdata);
/* As profile_load_string(), with an include loader (fn may be NULL: then
 * 'include' is an error). */
int profile_load_string_full(const char *name, const char *data, size_t size, ProfileIncludeFn fn,
                             void *userdata, Profile **ret, ProfileErrors *errors);
/* The loader profile_load_file() uses: ref is a file path, relative to the
 * directory of base unless absolute; URLs are refused (-EPROTONOSUPPORT).
 * userdata: NULL, or a directory that relative names are below (names stay
 * relative, so that messages show them as written). */
int profile_include_file(const char *base, const char *ref, char **ret_name, char **ret_data,
                         size_t *ret_size, void *userdata);

/* Does this machine agree with the profile's match: block? Appends one error
 * per disagreement (at the match key, saying what the profile wants and what
 * the machine has) and returns -EINVAL if there is any; 0 if all agree (or
 * there is no match: block); -ENOMEM. */
typedef struct Inventory Inventory;
int profile_match_check(const Profile *p, const Inventory *inv, ProfileErrors *errors);
void profile_free(Profile *p);
DEFINE_POINTER_CLEANUP(Profile, profile_free);
#define _cleanup_profile_ _cleanup_(profile_freep)

const char *fs_type_to_string(FsType t);
const char *partition_table_to_string(PartitionTable t);
const char *disk_firmware_to_string(DiskFirmware f);
