/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hardware detection from /sys and /proc. Read-only; every path is taken
 * below the sysroot so that recorded dumps can stand in for a machine. */
#include "hw/hw-internal.h"

#include <ctype.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strutil.h"

static char *vpath(const HwCtx *c, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static char *vpath(const HwCtx *c, const char *fmt, va_list ap) {
        _cleanup_free_ char *p = NULL;

        if (vasprintf(&p, fmt, ap) < 0)
                return NULL;
        return path_join_root(c->sysroot, p);
}

char *hw_path(const HwCtx *c, const char *fmt, ...) {
        va_list ap;
        char *p;

        va_start(ap, fmt);
        p = vpath(c, fmt, ap);
        va_end(ap);
        return p;
}

int hw_read_attr(const HwCtx *c, char **ret, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL, *v = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        p = vpath(c, fmt, ap);
        va_end(ap);
        if (!p)
                return -ENOMEM;
        r = read_one_line_file(p, &v);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !*v)
                return 0;
        free(*ret);
        *ret = TAKE_PTR(v);
        return 0;
}

int hw_read_blob(const HwCtx *c, char **ret, size_t *ret_size, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        p = vpath(c, fmt, ap);
        va_end(ap);
        if (!p)
                return -ENOMEM;
        *ret = NULL;
        *ret_size = 0;
        r = read_full_file(p, ret, ret_size);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret = NULL;
                *ret_size = 0;
        }
        return 0;
}

static uint64_t read_attr_u64(const HwCtx *c, const char *rel, uint64_t def) {
        _cleanup_free_ char *p = path_join_root(c->sysroot, rel);
        uint64_t v;
        if (!p || read_u64_file(p, &v) < 0)
                return def;
        return v;
}

static bool path_exists(const HwCtx *c, const char *rel) {
        _cleanup_free_ char *p = path_join_root(c->sysroot, rel);
        struct stat st;
        return p && stat(p, &st) == 0;
}

/* ---- CPU, memory, firmware, DMI ------------------------------------------ */

/* Secure Boot: the global EFI variable SecureBoot (efivarfs: 4 bytes of
 * attributes, then the value) is 1 when the firmware enforces signatures.
 * No efivarfs, no variable or any other content: off. */
static bool detect_secure_boot(const HwCtx *c) {
        _cleanup_free_ char *p = hw_path(c, "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c");
        _cleanup_free_ char *data = NULL;
        size_t size = 0;

        if (!p || read_full_file(p, &data, &size) < 0)
                return false;
        return size == 5 && data[4] == 1;
}

static int detect_cpu(const HwCtx *c, Inventory *inv) {
        _cleanup_free_ char *p = hw_path(c, "/proc/cpuinfo"), *data = NULL;
        char *save = NULL;

        if (!p)
                return -ENOMEM;
        if (read_full_file(p, &data, NULL) < 0)
                return 0; /* unknown, not fatal */
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (startswith(line, "processor") && strchr(line, ':'))
                        inv->cpus++;
                else if (!inv->cpu_model && startswith(line, "model name")) {
                        char *v = strchr(line, ':');
                        if (v) {
                                inv->cpu_model = strdup(strstrip(v + 1));
                                if (!inv->cpu_model)
                                        return -ENOMEM;
                        }
                }
        }
        return 0;
}

static int detect_memory(const HwCtx *c, Inventory *inv) {
        _cleanup_free_ char *p = hw_path(c, "/proc/meminfo"), *data = NULL;
        if (!p)
                return -ENOMEM;
        if (read_full_file(p, &data, NULL) < 0)
                return 0;
        char *m = strstr(data, "MemTotal:");
        if (m) {
                unsigned long long kb = strtoull(m + strlen("MemTotal:"), NULL, 10);
                inv->memory = (uint64_t) kb * 1024;
        }
        return 0;
}

static int detect_dmi(const HwCtx *c, HwDmi *d) {
        static const struct {
                const char *attr;
                size_t offset;
        } table[] = {
                { "sys_vendor", offsetof(HwDmi, sys_vendor) },
                { "product_name", offsetof(HwDmi, product_name) },
                { "product_version", offsetof(HwDmi, product_version) },
                { "product_serial", offsetof(HwDmi, product_serial) },
                { "product_uuid", offsetof(HwDmi, product_uuid) },
                { "board_vendor", offsetof(HwDmi, board_vendor) },
                { "board_name", offsetof(HwDmi, board_name) },
                { "bios_vendor", offsetof(HwDmi, bios_vendor) },
                { "bios_version", offsetof(HwDmi, bios_version) },
                { "chassis_type", offsetof(HwDmi, chassis_type) },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char **field = (char **) ((char *) d + table[i].offset);
                int r = hw_read_attr(c, field, "/sys/class/dmi/id/%s", table[i].attr);
                if (r < 0)
                        return r;
        }
        /* A placeholder is not a serial number (hw_dmi_serial_is_placeholder()):
         * dropped here, so that neither the serial/ profile lookup nor
         * match.serial ever sees it. */
        if (d->product_serial && hw_dmi_serial_is_placeholder(d->product_serial)) {
                log_debug("DMI product serial \"%s\" is a placeholder; ignored", d->product_serial);
                free(d->product_serial);
                d->product_serial = NULL;
        }
        /* SMBIOS UUIDs are conventionally compared in lower case. */
        for (char *s = d->product_uuid; s && *s; s++)
                *s = (char) tolower((unsigned char) *s);
        return 0;
}

/* ---- disks ------------------------------------------------------------------ */

static bool disk_name_wanted(const char *name) {
        static const char *const skip[] = { "loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd", "mtdblock" };
        for (size_t i = 0; i < ELEMENTSOF(skip); i++)
                if (startswith(name, skip[i]))
                        return false;
        /* mmcblk0boot0 and friends are not installable */
        if (startswith(name, "mmcblk") && (strstr(name, "boot") || strstr(name, "rpmb")))
                return false;
        /* nvme2c2n1: one path of a multipath NVMe namespace (hidden; the
         * disk is nvme2n1) */
        const char *p = startswith(name, "nvme");
        if (p && *p && p[strspn(p, "0123456789")] == 'c')
                return false;
        return true;
}

/* Hidden block devices (the kernel's "hidden" attribute) are not for use. */
static bool disk_hidden(const HwCtx *c, const char *name) {
        _cleanup_free_ char *rel = strprintf("/sys/block/%s/hidden", name);
        return rel && read_attr_u64(c, rel, 0) == 1;
}

static const char *transport_from_path(const char *name, const char *devpath) {
        if (!devpath)
                return "unknown";
        if (strstr(devpath, "/usb"))
                return "usb";
        if (startswith(name, "nvme"))
                return "nvme";
        if (startswith(name, "vd"))
                return "virtio";
        if (startswith(name, "mmcblk"))
                return "mmc";
        if (strstr(devpath, "/end_device-") || strstr(devpath, "/sas_"))
                return "sas";
        if (strstr(devpath, "/ata"))
                return "sata";
        return "scsi"; /* virtio-scsi, plain SCSI */
}

static int detect_partitions(const HwCtx *c, HwDisk *d) {
        _cleanup_free_ char *dir = hw_path(c, "/sys/block/%s", d->name);
        _cleanup_strv_free_ char **names = NULL;
        int r;

        if (!dir)
                return -ENOMEM;
        r = dir_list_sorted(dir, &names);
        if (r < 0)
                return 0;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_free_ char *rel = strprintf("/sys/block/%s/%s/partition", d->name, names[i]);
                if (!rel)
                        return -ENOMEM;
                if (!path_exists(c, rel))
                        continue;

                HwPartition *n = realloc(d->partitions, (d->n_partitions + 1) * sizeof(HwPartition));
                if (!n)
                        return -ENOMEM;
                d->partitions = n;
                HwPartition *p = &d->partitions[d->n_partitions++];
                *p = (HwPartition) {};
                p->name = strdup(names[i]);
                if (!p->name)
                        return -ENOMEM;
                p->number = (unsigned) read_attr_u64(c, rel, 0);
                free(rel);
                rel = strprintf("/sys/block/%s/%s/start", d->name, names[i]);
                p->start = rel ? read_attr_u64(c, rel, 0) * 512 : 0;
                free(rel);
                rel = strprintf("/sys/block/%s/%s/size", d->name, names[i]);
                p->size = rel ? read_attr_u64(c, rel, 0) * 512 : 0;
        }
        return 0;
}

/* SCSI VPD page 0x80 (unit serial number): 4 header bytes, then the serial
 * in ASCII, space padded. Absent or malformed: no serial, not an error. */
static int read_vpd_serial(const HwCtx *c, const char *name, char **ret) {
        _cleanup_free_ char *p = hw_path(c, "/sys/block/%s/device/vpd_pg80", name), *data = NULL;
        size_t size = 0, len;

        if (!p)
                return -ENOMEM;
        if (read_full_file(p, &data, &size) < 0 || size < 5 || (unsigned char) data[1] != 0x80)
                return 0;
        len = MIN(size - 4, ((size_t) (unsigned char) data[2] << 8) | (unsigned char) data[3]);
        for (size_t i = 4; i < 4 + len; i++)
                if (!isprint((unsigned char) data[i]))
                        return 0;
        _cleanup_free_ char *serial = strndup(data + 4, len);
        if (!serial)
                return -ENOMEM;
        strstrip(serial);
        if (*serial)
                *ret = TAKE_PTR(serial);
        return 0;
}

static int detect_disk(const HwCtx *c, const char *name, HwDisk *d) {
        _cleanup_strv_free_ char **devpath = NULL;
        _cleanup_free_ char *rel = NULL, *joined = NULL;
        int r;

        d->name = strdup(name);
        d->devnode = strprintf("/dev/%s", name);
        if (!d->name || !d->devnode)
                return -ENOMEM;

        rel = strprintf("/sys/block/%s/size", name);
        if (!rel)
                return -ENOMEM;
        d->size = read_attr_u64(c, rel, 0) * 512;
        _cleanup_free_ char *devnum = NULL;
        if ((r = hw_read_attr(c, &devnum, "/sys/block/%s/dev", name)) < 0)
                return r;
        if (!devnum || sscanf(devnum, "%u:%u", &d->major, &d->minor) != 2)
                d->major = d->minor = 0;
#define U64_ATTR(field, attr, def)                                               \
        do {                                                                     \
                _cleanup_free_ char *a = strprintf("/sys/block/%s/%s", name, attr); \
                if (!a)                                                          \
                        return -ENOMEM;                                          \
                field = read_attr_u64(c, a, def);                                \
        } while (0)
        U64_ATTR(d->logical_sector_size, "queue/logical_block_size", 512);
        U64_ATTR(d->physical_sector_size, "queue/physical_block_size", 512);
        U64_ATTR(d->rotational, "queue/rotational", 0);
        U64_ATTR(d->removable, "removable", 0);
        U64_ATTR(d->readonly, "ro", 0);
#undef U64_ATTR

        if ((r = hw_read_attr(c, &d->model, "/sys/block/%s/device/model", name)) < 0 ||
            (r = hw_read_attr(c, &d->vendor, "/sys/block/%s/device/vendor", name)) < 0 ||
            (r = hw_read_attr(c, &d->serial, "/sys/block/%s/device/serial", name)) < 0 ||
            (r = hw_read_attr(c, &d->wwid, "/sys/block/%s/device/wwid", name)) < 0)
                return r;
        if (!d->serial && (r = hw_read_attr(c, &d->serial, "/sys/block/%s/serial", name)) < 0)
                return r; /* virtio-blk exposes the serial here */
        if (!d->wwid && (r = hw_read_attr(c, &d->wwid, "/sys/block/%s/wwid", name)) < 0)
                return r; /* NVMe namespaces */
        if (!d->serial && (r = read_vpd_serial(c, name, &d->serial)) < 0)
                return r; /* SCSI/SATA: the unit serial number VPD page */

        r = hw_disk_devpath(c, name, &devpath);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                StrBuf b = {};
                for (size_t i = 0; devpath[i]; i++)
                        if (strbuf_appendf(&b, "/%s", devpath[i]) < 0) {
                                strbuf_done(&b);
                                return -ENOMEM;
                        }
                joined = strbuf_steal(&b);
                if (!joined)
                        return -ENOMEM;
                r = hw_disk_names(c, d, devpath);
                if (r < 0)
                        return r;
        }
        d->transport = strdup(transport_from_path(name, joined));
        if (!d->transport)
                return -ENOMEM;

        return detect_partitions(c, d);
}

void hw_disk_free_contents(HwDisk *d) {
        free(d->name);
        free(d->devnode);
        free(d->model);
        free(d->vendor);
        free(d->serial);
        free(d->wwn);
        free(d->wwid);
        strv_free(d->by_id);
        free(d->by_path);
        free(d->transport);
        free(d->pttype);
        free(d->ptuuid);
        free(d->fstype);
        hw_install_mark_free(d->install_mark);
        for (size_t i = 0; i < d->n_partitions; i++) {
                free(d->partitions[i].name);
                free(d->partitions[i].fstype);
                free(d->partitions[i].label);
                free(d->partitions[i].uuid);
        }
        free(d->partitions);
}

int hw_disk_identify(const char *sysroot, const char *name, HwDisk *ret) {
        HwCtx c = { .sysroot = sysroot };
        _cleanup_free_ char *rel = NULL;
        HwDisk d = {};
        int r;

        if (!name || !*name || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        rel = strprintf("/sys/block/%s", name);
        if (!rel)
                return -ENOMEM;
        if (!path_exists(&c, rel))
                return -ENOENT;
        r = detect_disk(&c, name, &d);
        if (r < 0) {
                hw_disk_free_contents(&d);
                return r;
        }
        *ret = d;
        return 0;
}

static int detect_disks(const HwCtx *c, HwProbeFlags flags, Inventory *inv) {
        _cleanup_free_ char *dir = hw_path(c, "/sys/block");
        _cleanup_strv_free_ char **names = NULL;
        int r;

        if (!dir)
                return -ENOMEM;
        r = dir_list_sorted(dir, &names);
        if (r < 0)
                return log_debug_errno(r, "Cannot list %s: %m", dir), 0;

        for (size_t i = 0; names[i]; i++) {
                if (!disk_name_wanted(names[i]) || disk_hidden(c, names[i]))
                        continue;
                HwDisk *n = realloc(inv->disks, (inv->n_disks + 1) * sizeof(HwDisk));
                if (!n)
                        return -ENOMEM;
                inv->disks = n;
                HwDisk *d = &inv->disks[inv->n_disks++];
                *d = (HwDisk) {};
                r = detect_disk(c, names[i], d);
                if (r < 0)
                        return r;
                if (d->size == 0) {
                        /* Empty card readers, ejected media: not disks. */
                        hw_disk_free_contents(d);
                        inv->n_disks--;
                        continue;
                }
                if (flags & HW_PROBE_SIGNATURES) {
                        _cleanup_free_ char *node = path_join_root(c->sysroot, d->devnode);
                        if (!node)
                                return -ENOMEM;
                        r = hw_disk_probe_signatures(d, node);
                        if (r == -ENOTUNIQ)
                                return log_error_errno(r, "Disk %s holds ambiguous signatures; refusing to guess what is on it", d->devnode);
                        if (r < 0)
                                log_debug_errno(r, "Cannot probe %s: %m", node);
                }
        }
        return 0;
}

/* ---- NICs --------------------------------------------------------------------- */

static int detect_nics(const HwCtx *c, Inventory *inv) {
        _cleanup_free_ char *dir = hw_path(c, "/sys/class/net");
        _cleanup_strv_free_ char **names = NULL;
        int r;

        if (!dir)
                return -ENOMEM;
        r = dir_list_sorted(dir, &names);
        if (r < 0)
                return 0;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_free_ char *devlink = NULL, *drvlink = NULL;
                char real[PATH_MAX];

                /* Only physical NICs: they have a device link. */
                devlink = strprintf("/sys/class/net/%s/device", names[i]);
                if (!devlink)
                        return -ENOMEM;
                if (!path_exists(c, devlink))
                        continue;

                HwNic *n = realloc(inv->nics, (inv->n_nics + 1) * sizeof(HwNic));
                if (!n)
                        return -ENOMEM;
                inv->nics = n;
                HwNic *nic = &inv->nics[inv->n_nics++];
                *nic = (HwNic) {};
                nic->name = strdup(names[i]);
                if (!nic->name)
                        return -ENOMEM;
                if ((r = hw_read_attr(c, &nic->mac, "/sys/class/net/%s/address", names[i])) < 0 ||
                    (r = hw_read_attr(c, &nic->operstate, "/sys/class/net/%s/operstate", names[i])) < 0)
                        return r;

                _cleanup_free_ char *carrier = NULL, *speed = NULL;
                if ((r = hw_read_attr(c, &carrier, "/sys/class/net/%s/carrier", names[i])) < 0 ||
                    (r = hw_read_attr(c, &speed, "/sys/class/net/%s/speed", names[i])) < 0)
                        return r;
                nic->carrier = carrier && streq(carrier, "1");
                if (speed && speed[0] != '-')
                        nic->speed_mbps = strtoull(speed, NULL, 10);

                drvlink = hw_path(c, "/sys/class/net/%s/device/driver", names[i]);
                if (!drvlink)
                        return -ENOMEM;
                if (realpath(drvlink, real)) {
                        const char *b = strrchr(real, '/');
                        nic->driver = strdup(b ? b + 1 : real);
                        if (!nic->driver)
                                return -ENOMEM;
                }
        }
        return 0;
}

int hw_inventory_detect(const char *sysroot, HwProbeFlags flags, Inventory **ret) {
        _cleanup_inventory_ Inventory *inv = new0(Inventory, 1);
        HwCtx c = { .sysroot = sysroot };
        int r;

        if (!inv)
                return -ENOMEM;
        inv->firmware = path_exists(&c, "/sys/firmware/efi") ? FIRMWARE_UEFI : FIRMWARE_BIOS;
        inv->secure_boot = inv->firmware == FIRMWARE_UEFI && detect_secure_boot(&c);
        if ((r = detect_cpu(&c, inv)) < 0 ||
            (r = detect_memory(&c, inv)) < 0 ||
            (r = detect_dmi(&c, &inv->dmi)) < 0 ||
            (r = detect_disks(&c, flags, inv)) < 0 ||
            (r = hw_mark_boot_medium(&c, inv)) < 0 ||
            (r = detect_nics(&c, inv)) < 0)
                return r;
        *ret = TAKE_PTR(inv);
        return 0;
}

void hw_inventory_free(Inventory *inv) {
        if (!inv)
                return;
        for (size_t i = 0; i < inv->n_disks; i++)
                hw_disk_free_contents(&inv->disks[i]);
        free(inv->disks);
        for (size_t i = 0; i < inv->n_nics; i++) {
                free(inv->nics[i].name);
                free(inv->nics[i].mac);
                free(inv->nics[i].driver);
                free(inv->nics[i].operstate);
        }
        free(inv->nics);
        char **dmi = (char **) &inv->dmi;
        for (size_t i = 0; i < sizeof(HwDmi) / sizeof(char *); i++)
                free(dmi[i]);
        free(inv->cpu_model);
        free(inv);
}

bool hw_disk_has_data(const HwDisk *d) {
        /* Any partition counts, whatever it holds. */
        return d->pttype || d->fstype || d->n_partitions > 0;
}

const HwNic *hw_inventory_find_nic(const Inventory *inv, const char *mac) {
        char norm[18];
        if (!mac || mac_normalize(mac, norm) < 0)
                return NULL;
        for (size_t i = 0; i < inv->n_nics; i++)
                if (inv->nics[i].mac && streq(inv->nics[i].mac, norm))
                        return &inv->nics[i];
        return NULL;
}

const char *firmware_to_string(Firmware f) {
        return f == FIRMWARE_UEFI ? "uefi" : "bios";
}

int firmware_from_string(const char *s) {
        if (streq(s, "uefi"))
                return FIRMWARE_UEFI;
        if (streq(s, "bios"))
                return FIRMWARE_BIOS;
        return -EINVAL;
}
