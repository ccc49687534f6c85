/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The install profile: what one machine (or role) should become. Loaded from
 * YAML, validated completely (every error collected, each with
 * file:line:column), and turned into plain structs. Nothing here does I/O
 * beyond reading the profile file. See docs/profile.md. */

#include <stdarg.h>
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
int profile_errors_addv(ProfileErrors *e, const char *file, unsigned line, unsigned column,
                        const char *key, const char *fmt, va_list ap) _printf_(6, 0);
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

/* luks: on a partition, a RAID array or a logical volume: the device is
 * formatted as LUKS2 and opened as /dev/mapper/NAME, which then holds the
 * filesystem. The key is a key file fetched from key_url. */
typedef struct ProfileLuks {
        char *name;           /* mapping name */
        char *key_url;        /* http(s):// or file://; may hold credentials: print redacted */
        char *key_sha256;     /* 64 lower-case hex digits, or NULL */
        unsigned line, column;
} ProfileLuks;

typedef struct ProfilePartition {
        PartitionSize size;   /* with preserve: unit SIZE_BYTES and value 0 when not given */
        PartitionPreserve preserve;
        FsType fs;
        char *mount;          /* "/" "/boot" ... or NULL (swap: NULL) */
        char *label;          /* filesystem label, optional */
        char *name;           /* GPT partition name, optional */
        char *mount_options;  /* optional, default "defaults" */
        char *raid;           /* member of this RAID array (profile->raids), or NULL */
        char *lvm;            /* physical volume of this volume group (profile->vgs), or NULL */
        ProfileLuks *luks;    /* or NULL */
        unsigned line, column;
} ProfilePartition;

/* raid: a software RAID array (mdadm) over one partition of each disk. */
typedef struct ProfileRaid {
        char *name;           /* md0 .. md127: the device is /dev/NAME */
        unsigned level;       /* 1 */
        FsType fs;            /* FS_NONE when it is an LVM physical volume */
        char *mount, *label, *mount_options;
        char *lvm;            /* physical volume of this volume group, or NULL */
        ProfileLuks *luks;
        unsigned line, column;
} ProfileRaid;

/* lvm: volume groups and their logical volumes. */
typedef struct ProfileVolume {
        char *name;
        PartitionSize size;   /* bytes, percent of the group, or rest */
        FsType fs;
        char *mount, *label, *mount_options;
        ProfileLuks *luks;
        unsigned line, column;
} ProfileVolume;

typedef struct ProfileVg {
        char *name;
        ProfileVolume *volumes;
        size_t n_volumes;
        unsigned line, column;
} ProfileVg;

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
        bool has_mirror;      /* disk.mirror: a second disk with the same partitions (RAID1) */
        DiskSelect mirror;    /* disk.mirror.select */
        bool wipe;            /* may a disk holding data be wiped? */
        PartitionTable table;
        DiskFirmware firmware;
        unsigned firmware_line, firmware_column; /* of disk.firmware, 0 when absent */
        unsigned table_line, table_column;       /* of disk.table, 0 when absent */
        ProfilePartition *partitions;
        size_t n_partitions;
        bool have_root, mounts_bad; /* internal to the checks */
} ProfileDisk;

typedef struct ProfileImage {
        char *url;            /* absolute, or relative to url_document until
                               * profile_image_resolve_url() */
        char *url_document;   /* name of the profile or fragment that gives url */
        char *sha256;         /* 64 lower-case hex digits */
        char *format;         /* NULL (auto from the URL) or tar, tar.gz, tar.xz, tar.zst */
        bool insecure_no_checksum; /* sha256 and manifest are NULL: the image is not verified */
        char *manifest;       /* NULL, or the URL of the image's manifest (docs/manifest.md):
                               * absolute, or relative to manifest_document until
                               * profile_image_resolve_url(); with it sha256 may be absent */
        char *manifest_document;
} ProfileImage;

typedef struct ProfileUser {
        char *name;
        char *gecos;
        char *password_hash;  /* crypt(3) string; SECRET: never print */
        char **ssh_authorized_keys;
        char **groups;
        char *shell;
        char *sudo;           /* NULL, or a sudoers rule such as "ALL=(ALL) ALL" */
        uint32_t uid;         /* valid when has_uid */
        bool has_uid;
        char *home;           /* NULL: /home/NAME */
        bool lock;            /* password login locked ("!" in /etc/shadow) */
        unsigned line, column;
} ProfileUser;

/* groups: groups to create (or check) in the target. */
typedef struct ProfileGroup {
        char *name;
        uint32_t gid;         /* valid when has_gid */
        bool has_gid;
        bool system;          /* allocated below 1000 */
        unsigned line, column;
} ProfileGroup;

typedef enum PermitRootLogin {
        PERMIT_ROOT_LOGIN_UNSET,
        PERMIT_ROOT_LOGIN_NO,
        PERMIT_ROOT_LOGIN_PROHIBIT_PASSWORD,
        PERMIT_ROOT_LOGIN_YES,
} PermitRootLogin;

/* ssh: sshd policy, written as a drop-in. */
typedef struct ProfileSsh {
        PermitRootLogin permit_root_login;
        bool has_password_authentication;
        bool password_authentication;
} ProfileSsh;

/* files: one file to write into the target. */
typedef struct ProfileFile {
        char *path;           /* absolute, normalised (no "." "..", no "//") */
        char *content;        /* or: */
        char *url;            /* with sha256; may hold credentials: print redacted only */
        char *sha256;
        char *owner, *group;  /* names or numbers; NULL: root */
        uint32_t mode;        /* default 0644 */
        unsigned line, column;
} ProfileFile;

/* post_install: a command run in a chroot of the target (by /bin/sh -c). It
 * is one argument of execve(): Linux refuses a single argument longer than
 * MAX_ARG_STRLEN (131072 bytes with its NUL) with E2BIG. */
#define PROFILE_COMMAND_MAX 131071
typedef struct ProfileCommand {
        char *run;
        bool optional;        /* a failure is logged, the install goes on */
        unsigned line, column;
} ProfileCommand;

typedef struct ProfileKeyboard {
        char *layout, *model, *variant, *options; /* NULL: Debian's default */
} ProfileKeyboard;

/* ---- network: netplan version 2 (see docs/profile.md) ---------------------- */

typedef enum NetKind {
        NET_ETHERNET,
        NET_BOND,
        NET_BRIDGE,
        NET_VLAN,
        _NET_KIND_MAX,
} NetKind;

typedef struct ProfileRoute {
        char *to;             /* "default" or CIDR */
        char *via;            /* gateway, or NULL (a route on the link) */
        char *from;           /* preferred source address, or NULL */
        char *scope;          /* NULL (global), "link" or "host" */
        char *type;           /* NULL (unicast), "blackhole", "unreachable", "prohibit", ... */
        bool on_link;
        int64_t metric;       /* -1 = unset */
        int64_t table;        /* -1 = unset */
        uint32_t mtu;         /* 0 = unset */
} ProfileRoute;

typedef struct ProfileRoutingRule {
        char *from, *to;      /* CIDR or address, at least one */
        int64_t table, priority, mark, tos; /* -1 = unset */
} ProfileRoutingRule;

typedef struct ProfileDhcpOverrides {
        int64_t route_metric; /* -1 = unset */
        bool use_dns, use_ntp, use_mtu, use_routes, use_hostname, send_hostname; /* default true */
        char *use_domains;    /* NULL, "true", "false" or "route" */
        char *hostname;
} ProfileDhcpOverrides;

typedef struct ProfileBondParams {
        char *mode, *lacp_rate, *mii_monitor_interval, *transmit_hash_policy, *ad_select, *arp_interval,
                *arp_validate, *arp_all_targets, *up_delay, *down_delay, *fail_over_mac_policy,
                *primary_reselect_policy, *learn_packet_interval;
        char **arp_ip_targets;
        char *primary;        /* one of the bond's interfaces */
        uint32_t min_links, gratuitous_arp, packets_per_slave, resend_igmp; /* 0 = unset */
        bool all_slaves_active;
} ProfileBondParams;

typedef struct ProfilePortValue {
        char *port;           /* a member of the bridge */
        uint32_t value;
} ProfilePortValue;

typedef struct ProfileBridgeParams {
        bool given;           /* parameters: written (networkd then gets a [Bridge] section) */
        char *ageing_time, *forward_delay, *hello_time, *max_age; /* as written: seconds or with a unit */
        uint32_t priority;    /* 0 = unset */
        bool stp;             /* default true */
        ProfilePortValue *path_cost, *port_priority;
        size_t n_path_cost, n_port_priority;
} ProfileBridgeParams;

/* The offload switches of an ethernet (netplan keys, networkd [Link] keys of
 * the .link file, in this order). -1 = unset. */
enum {
        NET_OFFLOAD_RX_CHECKSUM,
        NET_OFFLOAD_TX_CHECKSUM,
        NET_OFFLOAD_TSO,
        NET_OFFLOAD_TSO6,
        NET_OFFLOAD_GSO,
        NET_OFFLOAD_GRO,
        NET_OFFLOAD_LRO,
        _NET_OFFLOAD_MAX,
};

/* One interface: the key under network.ethernets, .bonds, .bridges or
 * .vlans. Everything is as written; cross-references (members, VLAN links)
 * are checked. */
typedef struct ProfileInterface {
        NetKind kind;
        char *id;             /* the key: the interface name unless an ethernet has match: */
        /* ethernets */
        bool has_match;
        char *match_mac;      /* normalised aa:bb:.. or NULL */
        char *match_name;     /* interface name glob or NULL */
        char *match_driver;   /* kernel driver glob or NULL */
        char *set_name;
        bool wakeonlan;
        int8_t offload[_NET_OFFLOAD_MAX];
        /* every kind */
        bool dhcp4, dhcp6;
        ProfileDhcpOverrides dhcp4_overrides, dhcp6_overrides;
        char *dhcp_identifier; /* NULL, "mac" or "duid" */
        bool critical;
        char **addresses;     /* CIDR */
        char *gateway4, *gateway6;
        ProfileRoute *routes;
        size_t n_routes;
        ProfileRoutingRule *rules;
        size_t n_rules;
        char **nameservers;
        char **search;
        uint32_t mtu;         /* 0 = unset */
        char *macaddress;     /* normalised, or NULL */
        bool optional;
        int accept_ra;        /* -1 unset, 0, 1 */
        bool ipv6_privacy;
        bool link_local_ipv4, link_local_ipv6; /* default: IPv6 only */
        bool emit_lldp, ignore_carrier;
        uint32_t ipv6_mtu;    /* 0 = unset */
        char *ipv6_address_token; /* an IPv6 address, or NULL */
        char *activation_mode; /* NULL, "manual" or "off" */
        /* bonds and bridges */
        char **interfaces;
        ProfileBondParams bond;
        ProfileBridgeParams bridge;
        /* vlans */
        uint32_t vlan_id;
        char *vlan_link;
        /* set by the cross-check: the bond or bridge this interface is in, or NULL */
        const struct ProfileInterface *master;
        unsigned line, column;
} ProfileInterface;

typedef struct ProfileNetwork {
        ProfileInterface *interfaces; /* in document order (as netplan orders them) */
        size_t n_interfaces;
        YNode *source;        /* the network: node as written (borrowed from doc) */
} ProfileNetwork;

/* "ethernets", "bonds", "bridges", "vlans" */
const char *net_kind_to_section(NetKind k);

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

/* fetch: the retry policy of every download (docs/profile.md); 0: the
 * default (fetch.h, FetchPolicy). */
typedef struct ProfileFetch {
        unsigned attempts;        /* tries per URL for transient failures */
        uint64_t deadline_s;      /* the whole transfer, retries included */
        uint64_t min_rate;        /* bytes per second ... */
        unsigned rate_window_s;   /* ... judged over this window */
} ProfileFetch;

#define PROFILE_FETCH_ATTEMPTS_MIN 1u
#define PROFILE_FETCH_ATTEMPTS_MAX 100u
#define PROFILE_FETCH_DEADLINE_MIN_S 10u
#define PROFILE_FETCH_DEADLINE_MAX_S (7u * 86400u)
#define PROFILE_FETCH_MIN_RATE_MIN 1u
#define PROFILE_FETCH_MIN_RATE_MAX 1000000000u
#define PROFILE_FETCH_RATE_WINDOW_MIN_S 5u
#define PROFILE_FETCH_RATE_WINDOW_MAX_S 3600u

/* report: where events go (docs/events.md). */
typedef struct ProfileReport {
        char *url;            /* http(s); may carry credentials: print redacted */
        char *token;          /* bearer token or NULL; SECRET: never print */
} ProfileReport;

/* tls: CA certificates trusted for https besides the boot image's site CA
 * (docs/tls.md). Each is fetched from url (over what is already trusted)
 * and used only when the sha256 of its DER form is sha256. */
typedef struct ProfileTlsCa {
        char *url;            /* absolute, or relative to document; may hold credentials: print redacted */
        char *document;       /* name of the profile or fragment that gives url */
        char *sha256;         /* of the DER certificate: 64 lower-case hex digits */
        unsigned line, column;
} ProfileTlsCa;

typedef struct ProfileTls {
        ProfileTlsCa *cas;
        size_t n_cas;
} ProfileTls;

#define PROFILE_TLS_MAX_CAS 16u

typedef struct Profile {
        YDoc *doc;            /* owned: the parsed document (with fragments merged in) */
        YDoc **fragments;     /* owned: the included documents; their nodes were moved
                               * into doc, but nodes keep pointing to their filename */
        size_t n_fragments;
        char *filename;
        unsigned version;
        char *hostname;
        ProfileDisk disk;
        ProfileRaid *raids;
        size_t n_raids;
        ProfileVg *vgs;
        size_t n_vgs;
        ProfileImage image;
        ProfileUser *users;
        size_t n_users;
        ProfileNetwork network;
        YNode *firstboot;     /* cloud-config mapping (borrowed from doc), or NULL */
        ProfileMatch match;
        ProfileGroup *groups;
        size_t n_groups;
        ProfileSsh ssh;
        ProfileFile *files;
        size_t n_files;
        char **packages;      /* apt package names */
        char *apt_mirror;     /* apt: mirror: URL; NULL: packages go to the first boot */
        char *apt_suite;      /* apt: suite:; NULL: the target's VERSION_CODENAME */
        ProfileCommand *post_install;
        size_t n_post_install;
        char *timezone;       /* "Europe/Berlin" */
        char *locale;         /* "en_US.UTF-8" */
        ProfileKeyboard keyboard;
        bool has_keyboard;
        char **ntp;           /* NTP servers (host names or addresses) */
        ProfileReport report;
        char *kernel_append;  /* bootloader: append: added to the installed kernel's command line */
        unsigned timeout_post_install_s; /* timeouts: post_install: per command; 0: the default */
        unsigned timeout_packages_s;     /* timeouts: packages: per apt-get call; 0: the default */
        ProfileFetch fetch;
        ProfileTls tls;
} Profile;

/* timeouts: values, in seconds (docs/profile.md). */
#define PROFILE_TIMEOUT_MIN_S 1u
#define PROFILE_TIMEOUT_MAX_S 86400u

/* Load and validate. On validation failure returns -EINVAL with every problem
 * appended to errors (and no profile). Other failures: -errno. */
int profile_load_file(const char *path, Profile **ret, ProfileErrors *errors);
int profile_load_string(const char *name, const char *data, size_t size, Profile **ret,
                        ProfileErrors *errors);

/* A netplan file: a YAML document whose only key is network:, checked as a
 * profile's network: section; *ret holds only the network (and the doc).
 * -EINVAL with errors, or -errno. */
int profile_load_network_file(const char *path, Profile **ret, ProfileErrors *errors);

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

/* Is image.url a relative reference (no scheme)? */
bool profile_image_url_is_relative(const Profile *p);
/* The same for image.manifest (false when there is none). */
bool profile_image_manifest_is_relative(const Profile *p);
/* Make a relative image.manifest absolute, as profile_image_resolve_url()
 * does for image.url (against the document image.manifest_document names). */
int profile_image_resolve_manifest(Profile *p, const char *document_url);
/* Make a relative image.url absolute: resolved against document_url, the URL
 * (or file path) of the document that gives it (image.url_document names that
 * document as the profile loader saw it; the caller maps it back to the URL
 * it fetched, which may carry credentials that the reference inherits).
 * A no-op for absolute URLs. Returns 0, -EINVAL (the result is not a URL the
 * installer can fetch), -ENOMEM. */
int profile_image_resolve_url(Profile *p, const char *document_url);
DEFINE_POINTER_CLEANUP(Profile, profile_free);
#define _cleanup_profile_ _cleanup_(profile_freep)

const char *fs_type_to_string(FsType t);
const char *partition_table_to_string(PartitionTable t);
const char *disk_firmware_to_string(DiskFirmware f);
