/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Hardware inventory: what this machine has, read from /sys and /proc (below
 * an optional sysroot, so that recorded dumps of real machines can be used in
 * tests) and from libblkid for on-disk signatures. Saved as JSON, and loaded
 * back for offline planning. */

#include <stdint.h>
#include <stdio.h>

#include "basic/macro.h"

typedef enum Firmware {
        FIRMWARE_BIOS,
        FIRMWARE_UEFI,
} Firmware;

typedef struct HwPartition {
        char *name;            /* vda1 */
        unsigned number;
        uint64_t start;        /* bytes */
        uint64_t size;         /* bytes */
        char *fstype;          /* from blkid, or NULL */
        char *label;
        char *uuid;
} HwPartition;

/* The install-in-progress mark (hw/mark.c writes nothing; disk/mark.c
 * writes it): the installer's own record, in the MBR boot code area (bytes
 * 0..439 of LBA 0), that an install on this disk started and did not finish.
 * docs/installer.md, "The install-in-progress mark". */
typedef enum HwInstallMarkFlags {
        HW_INSTALL_MARK_KEPT_PARTITIONS = 1 << 0, /* a reinstall that preserves partitions */
} HwInstallMarkFlags;

typedef struct HwInstallMark {
        uint64_t started_usec;  /* CLOCK_REALTIME when the install began */
        char *machine;          /* hw_inventory_machine_id() of the machine that wrote it, or NULL */
        uint64_t disk_size;     /* bytes, of the disk it was written to */
        char *table_id;         /* the new table's PTUUID (as blkid prints it), NULL before the partition step */
        char *prior_table_id;   /* the disk's PTUUID as the plan saw it when the mark was written, NULL: no table */
        unsigned flags;         /* HwInstallMarkFlags */
} HwInstallMark;

#define HW_INSTALL_MARK_SIZE 440     /* the whole MBR boot code area */
#define HW_INSTALL_MARK_STUB_SIZE 8
/* The x86 code at the start of the mark: int 0x18 (the BIOS tries the next
 * boot device); hlt; jmp $-1 (should it return). */
extern const uint8_t hw_install_mark_stub[HW_INSTALL_MARK_STUB_SIZE];

/* The 440 bytes of m (machine, table id and prior table id shorter than 64 bytes,
 * printable): 0 or -EINVAL. */
int hw_install_mark_encode(const HwInstallMark *m, uint8_t ret[static HW_INSTALL_MARK_SIZE]);
/* 1 and *ret when data is a mark; 0 (*ret NULL) when it is not one (no
 * magic); -EBADMSG when it has the magic but does not verify (CRC, version,
 * stub, fields): a corrupt mark is no mark. -ENOMEM. */
int hw_install_mark_decode(const uint8_t data[static HW_INSTALL_MARK_SIZE], HwInstallMark **ret);
void hw_install_mark_free(HwInstallMark *m);
DEFINE_POINTER_CLEANUP(HwInstallMark, hw_install_mark_free);
HwInstallMark *hw_install_mark_copy(const HwInstallMark *m);
/* "2026-12-07T21:50:03Z", allocated. */
char *hw_install_mark_format_time(uint64_t usec);
/* CRC32 (IEEE 802.3, as zlib and GPT). */
uint32_t hw_crc32(const void *data, size_t n);

typedef struct HwDisk {
        char *name;            /* vda, sda, nvme0n1 */
        char *devnode;         /* /dev/vda */
        unsigned major, minor; /* the kernel's device number, from /sys/block/NAME/dev; 0:0 when
                                * unknown (an inventory loaded from JSON does not carry it) */
        uint64_t size;         /* bytes */
        unsigned logical_sector_size;
        unsigned physical_sector_size;
        char *model, *vendor, *serial;
        char *wwn;             /* World Wide Name, "0x" + hex as udev's wwn- link, or NULL */
        char *wwid;            /* the kernel's identifier (naa. eui. t10. nvme. ...), or NULL */
        char **by_id;          /* names in /dev/disk/by-id/ as udev makes them, or NULL */
        char *by_path;         /* the name in /dev/disk/by-path/, or NULL */
        char *transport;       /* virtio sata sas nvme usb scsi mmc unknown */
        bool rotational, removable, readonly;
        bool boot_medium;      /* it or a partition is mounted: the installer runs from it */
        char *pttype;          /* gpt, dos, or NULL (from blkid) */
        char *ptuuid;
        char *fstype;          /* a filesystem/RAID/LVM signature on the whole disk */
        HwInstallMark *install_mark; /* a valid install-in-progress mark, or NULL */
        HwPartition *partitions;
        size_t n_partitions;
} HwDisk;

typedef struct HwNic {
        char *name;            /* eth0, enp1s0 */
        char *mac;             /* aa:bb:cc:dd:ee:ff */
        char *driver;
        bool carrier;          /* link detected */
        char *operstate;
        uint64_t speed_mbps;   /* 0 when unknown */
} HwNic;

typedef struct HwDmi {
        char *sys_vendor, *product_name, *product_version, *product_serial, *product_uuid;
        char *board_vendor, *board_name, *bios_vendor, *bios_version, *chassis_type;
} HwDmi;

typedef struct Inventory {
        Firmware firmware;
        bool secure_boot;      /* UEFI Secure Boot enforcing (EFI variable SecureBoot = 1) */
        unsigned cpus;
        char *cpu_model;
        uint64_t memory;       /* bytes */
        HwDmi dmi;
        HwDisk *disks;
        size_t n_disks;
        HwNic *nics;
        size_t n_nics;
} Inventory;

typedef enum HwProbeFlags {
        HW_PROBE_SIGNATURES = 1 << 0, /* open disks with libblkid (read-only) */
} HwProbeFlags;

/* Detect the machine. sysroot may be NULL ("/"). Never writes anything. */
int hw_inventory_detect(const char *sysroot, HwProbeFlags flags, Inventory **ret);
void hw_inventory_free(Inventory *inv);
DEFINE_POINTER_CLEANUP(Inventory, hw_inventory_free);
#define _cleanup_inventory_ _cleanup_(hw_inventory_freep)

/* Probe partition table and signatures of one disk (a block device or a
 * regular file) with libblkid, read-only. Fills pttype/ptuuid/fstype and the
 * partitions' fstype/label/uuid, and install_mark from the first 440 bytes
 * (a corrupt mark is left out). Ambiguous results are an error (-ENOTUNIQ). */
int hw_disk_probe_signatures(HwDisk *d, const char *path);

/* The filesystem on a whole block device (or regular file), read-only:
 * returns 1 and its type, label and UUID (each NULL when it has none; the
 * out-parameters must start NULL), 0 when there is none, -ENOTUNIQ when
 * ambiguous, -errno when it cannot be opened or read. */
int hw_probe_filesystem(const char *path, char **ret_fstype, char **ret_label, char **ret_uuid);

/* A libblkid probe on fd (the whole device or file), superblocks enabled
 * with type, label and UUID, partitions enabled if asked. NULL on failure.
 * The one constructor of probes in the installer (hw/ and disk/). */
typedef struct blkid_struct_probe *blkid_probe;
blkid_probe hw_blkid_probe_new(int fd, uint64_t offset, uint64_t size, bool partitions);

/* Detect one disk by its kernel name (vda, sda, nvme0n1) the way
 * hw_inventory_detect() does, without probing signatures or partitions'
 * contents: what identifies it (device number, size, sector sizes, serial,
 * WWN, WWID, by-id and by-path names). sysroot may be NULL ("/"). Returns 0,
 * -ENOENT when /sys/block/NAME does not exist, -EINVAL for a name with '/',
 * -ENOMEM. Free with
 * hw_disk_free_contents(). */
int hw_disk_identify(const char *sysroot, const char *name, HwDisk *ret);
void hw_disk_free_contents(HwDisk *d);

/* SMBIOS strings that vendors leave as placeholders are not identities: two
 * machines with "To Be Filled By O.E.M." are not the same machine. The one
 * list of placeholder serial numbers (compared without case, after trimming
 * white space; hw/dmi.c):
 *   empty or blank; only zeros, only 'F's, only 'X's, only '-', '.' or '*'
 *   ("00000000", "FFFFFFFF", "xxxxxxxx");
 *   "0123456789", "123456789", "1234567890", "12345678", "1234567";
 *   "To Be Filled By O.E.M.", "To be filled by O.E.M" (with or without
 *   the dots), "Default string", "Default", "System Serial Number",
 *   "Chassis Serial Number", "Base Board Serial Number", "Serial Number",
 *   "SerialNumber", "Not Specified", "Not Applicable", "Not Available",
 *   "Not Present", "None", "N/A", "NA", "OEM", "O.E.M.", "Unknown",
 *   "Invalid", "Empty".
 * Such a serial is dropped at detection (HwDmi.product_serial stays NULL) and
 * never used for the serial/ profile lookup nor for match.serial. */
bool hw_dmi_serial_is_placeholder(const char *serial);
/* SMBIOS UUIDs left unset: NULL, empty, all zeros or all ones (QEMU without
 * -uuid, many white boxes), ignoring dashes. */
bool hw_dmi_uuid_is_placeholder(const char *uuid);

/* This machine's identity for the install-in-progress mark: "uuid:" and
 * the SMBIOS product UUID (lower case) unless it is a placeholder, else
 * "mac:" and the lowest MAC address of the inventory's NICs; NULL when there
 * is neither (or out of memory): such a machine never recognises a mark. The
 * one function the mark's writer and the plan use. */
char *hw_inventory_machine_id(const Inventory *inv);

/* True when the disk holds a partition table or any signature. */
bool hw_disk_has_data(const HwDisk *d);

/* Does path name this disk? /dev/NAME, /dev/disk/by-id/ID for any of
 * d->by_id, /dev/disk/by-path/PATH for d->by_path and the older forms udev
 * also links (ATA "-ata-N", "virtio-pci-..."). */
bool hw_disk_has_path(const HwDisk *d, const char *path);

/* JSON: write, and read back (what `installer inventory` prints). */
void hw_inventory_to_json(const Inventory *inv, FILE *f);
/* The same text in memory (the upload to the site server): 0 or -ENOMEM. */
int hw_inventory_to_json_string(const Inventory *inv, char **ret, size_t *ret_size);
int hw_inventory_load_json(const char *path, Inventory **ret, char **ret_error);

const char *firmware_to_string(Firmware f);
int firmware_from_string(const char *s);

const HwNic *hw_inventory_find_nic(const Inventory *inv, const char *mac);
