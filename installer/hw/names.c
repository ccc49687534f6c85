/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The persistent names of a disk, /dev/disk/by-id/ and /dev/disk/by-path/,
 * computed from sysfs as udev makes them: the boot image has no udev, and a
 * profile may name its disk the way the operator sees it on a running
 * system. We follow systemd 252 as shipped by Debian 12 (the demo image):
 * rules.d/60-persistent-storage.rules, src/udev/udev-builtin-path_id.c,
 * ata_id, scsi_id and udev-builtin-usb_id.c. What that code would read with
 * an ioctl (ATA IDENTIFY, SCSI INQUIRY VPD pages) the kernel also exports in
 * sysfs (device/vpd_pg89, vpd_pg83, vpd_pg80).
 *
 * Transports we cannot name from sysfs alone (Fibre Channel, SAS, iSCSI,
 * Hyper-V, s390) get no by-path name; their by-id names do not depend on it. */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "hw/hw-internal.h"

/* ---- the device path ----------------------------------------------------------- */

/* The device below /sys/devices that the link /sys/CLASS/NAME points to
 * (CLASS: "block", "class/nvme"), as components. */
static int sys_link_devpath(const HwCtx *c, const char *class, const char *name, char ***ret) {
        _cleanup_free_ char *link = hw_path(c, "/sys/%s/%s", class, name), *dir = NULL;
        _cleanup_strv_free_ char **comp = NULL;
        char target[PATH_MAX], *save = NULL;
        ssize_t n;

        if (!link)
                return -ENOMEM;
        n = readlink(link, target, sizeof target - 1);
        if (n < 0)
                return -errno;
        target[n] = 0;

        /* Resolve the link's target against its directory, textually: the
         * sysroot itself may be reached through symbolic links. */
        if (target[0] != '/') {
                dir = strprintf("sys/%s", class);
                if (!dir)
                        return -ENOMEM;
                for (char *s = strtok_r(dir, "/", &save); s; s = strtok_r(NULL, "/", &save))
                        if (strv_extend(&comp, s) < 0)
                                return -ENOMEM;
        }
        for (char *s = strtok_r(target, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
                size_t k = strv_length(comp);
                if (streq(s, "."))
                        continue;
                if (streq(s, "..")) {
                        if (k > 0) {
                                free(comp[k - 1]);
                                comp[k - 1] = NULL;
                        }
                        continue;
                }
                if (strv_extend(&comp, s) < 0)
                        return -ENOMEM;
        }
        if (strv_length(comp) < 4 || !streq(comp[0], "sys") || !streq(comp[1], "devices"))
                return -ENOENT;

        /* Drop "sys" and "devices". */
        free(comp[0]);
        free(comp[1]);
        memmove(comp, comp + 2, (strv_length(comp + 2) + 1) * sizeof(char *));
        *ret = TAKE_PTR(comp);
        return 0;
}

int hw_disk_devpath(const HwCtx *c, const char *name, char ***ret) {
        return sys_link_devpath(c, "block", name, ret);
}

/* A multipath NVMe namespace lives below virtual/nvme-subsystem/: like
 * path_id, name it after the controller whose number its name carries
 * (nvme2n1: nvme2), as if it were below that controller. */
static int nvme_real_devpath(const HwCtx *c, const HwDisk *d, char ***ret) {
        _cleanup_strv_free_ char **comp = NULL;
        _cleanup_free_ char *ctrl = NULL;
        size_t digits;
        int r;

        digits = strspn(d->name + 4, "0123456789");
        ctrl = strndup(d->name, 4 + digits);
        if (!ctrl)
                return -ENOMEM;
        r = sys_link_devpath(c, "class/nvme", ctrl, &comp);
        if (r < 0)
                return r;
        if (strv_extend(&comp, d->name) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(comp);
        return 0;
}

/* ---- escaping as udev does ---------------------------------------------------- */

static bool udev_allowed(char ch, const char *allow) {
        return isalnum((unsigned char) ch) || strchr("#+-.:=@_", ch) || (allow && strchr(allow, ch));
}

/* udev_replace_whitespace(): strip, and turn each run of white space into
 * one '_'. Then udev_replace_chars(allow): every other character outside
 * [0-9A-Za-z#+-.:=@_] and allow becomes '_'. Non-ASCII bytes are replaced
 * too (udev keeps valid UTF-8; disk identifiers are ASCII). */
static char *udev_escape(const char *s, bool collapse, const char *allow) {
        StrBuf b = {};
        bool space = false;

        if (!s)
                return NULL;
        if (collapse)
                while (isspace((unsigned char) *s))
                        s++;
        for (; *s; s++) {
                if (collapse && isspace((unsigned char) *s)) {
                        space = true;
                        continue;
                }
                if (space && strbuf_append(&b, "_") < 0)
                        goto oom;
                space = false;
                char ch = udev_allowed(*s, allow) ? *s : '_';
                if (strbuf_append_n(&b, &ch, 1) < 0)
                        goto oom;
        }
        return strbuf_steal(&b);
oom:
        strbuf_done(&b);
        return NULL;
}

/* Append "PREFIX" + s to the list; s NULL or empty: nothing. */
static int add_id(char ***l, const char *prefix, const char *s) {
        _cleanup_free_ char *v = NULL;

        if (!s || !*s)
                return 0;
        v = strprintf("%s%s", prefix, s);
        if (!v)
                return -ENOMEM;
        if (strv_contains(*l, v))
                return 0;
        return strv_extend(l, v);
}

/* ---- one walk up the device tree ---------------------------------------------- */

typedef struct Walk {
        const HwCtx *c;
        HwDisk *d;
        char **comp;     /* below /sys/devices */
        size_t n;
        char **subsys;   /* n entries, each the subsystem or NULL (not a strv) */
        char *path;      /* ID_PATH, built from the disk upwards */
        bool transport, parent, unknown;
} Walk;

/* "/sys/devices/c[0]/.../c[i]" */
static char *walk_dir(const Walk *w, size_t i) {
        StrBuf b = {};

        if (strbuf_append(&b, "/sys/devices") < 0)
                return NULL;
        for (size_t k = 0; k <= i && k < w->n; k++)
                if (strbuf_appendf(&b, "/%s", w->comp[k]) < 0) {
                        strbuf_done(&b);
                        return NULL;
                }
        return strbuf_steal(&b);
}

static int walk_attr(const Walk *w, size_t i, const char *attr, char **ret) {
        _cleanup_free_ char *dir = walk_dir(w, i);

        if (!dir)
                return -ENOMEM;
        return hw_read_attr(w->c, ret, "%s/%s", dir, attr);
}

static int walk_subsystems(Walk *w) {
        w->subsys = new0(char *, w->n + 1);
        if (!w->subsys)
                return -ENOMEM;
        for (size_t i = 0; i < w->n; i++) {
                _cleanup_free_ char *dir = walk_dir(w, i), *link = NULL;
                char target[PATH_MAX];
                ssize_t k;

                if (!dir || !(link = hw_path(w->c, "%s/subsystem", dir)))
                        return -ENOMEM;
                k = readlink(link, target, sizeof target - 1);
                if (k <= 0)
                        continue;
                target[k] = 0;
                const char *base = strrchr(target, '/');
                w->subsys[i] = strdup(base ? base + 1 : target);
                if (!w->subsys[i])
                        return -ENOMEM;
        }
        return 0;
}

static bool walk_is(const Walk *w, ssize_t i, const char *subsys) {
        return i >= 0 && w->subsys[i] && streq(w->subsys[i], subsys);
}

/* DEVTYPE from the device's uevent, or NULL. */
static int walk_devtype(const Walk *w, size_t i, char **ret) {
        _cleanup_free_ char *dir = walk_dir(w, i), *p = NULL, *data = NULL;
        char *save = NULL;

        *ret = NULL;
        if (!dir || !(p = hw_path(w->c, "%s/uevent", dir)))
                return -ENOMEM;
        if (read_full_file(p, &data, NULL) < 0)
                return 0;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *v = startswith(line, "DEVTYPE=");
                if (v)
                        return (*ret = strdup(v)) ? 0 : -ENOMEM;
        }
        return 0;
}

static bool walk_devtype_is(const Walk *w, size_t i, const char *a, const char *b) {
        _cleanup_free_ char *t = NULL;
        return walk_devtype(w, i, &t) >= 0 && t && (streq(t, a) || (b && streq(t, b)));
}

static int prepend(Walk *w, const char *fmt, ...) _printf_(2, 3);
static int prepend(Walk *w, const char *fmt, ...) {
        _cleanup_free_ char *pre = NULL;
        char *n;
        va_list ap;

        va_start(ap, fmt);
        pre = strvprintf(fmt, ap);
        va_end(ap);
        if (!pre)
                return -ENOMEM;
        n = w->path ? strprintf("%s-%s", pre, w->path) : TAKE_PTR(pre);
        if (!n)
                return -ENOMEM;
        free(w->path);
        w->path = n;
        return 0;
}

/* path_id's skip_subsystem(): the last of a chain of devices of one
 * subsystem, going up. Directories that are not devices are passed over. */
static ssize_t skip_subsystem(const Walk *w, ssize_t i, const char *subsys) {
        ssize_t last = i;

        for (ssize_t k = i; k >= 0; k--) {
                if (!w->subsys[k])
                        continue;
                if (!streq(w->subsys[k], subsys))
                        break;
                last = k;
        }
        return last;
}

/* The SCSI host above device i, or -1. */
static ssize_t scsi_host_of(const Walk *w, ssize_t i) {
        for (ssize_t k = i - 1; k >= 0; k--)
                if (walk_is(w, k, "scsi") && walk_devtype_is(w, (size_t) k, "scsi_host", NULL))
                        return k;
        return -1;
}

/* libata: "ata-PORT.TARGET", or "ata-PORT.PMP.0" behind a port multiplier,
 * where PORT is the port number on its controller (ata_port/ataN/port_no),
 * not the N of ataN, which counts across controllers. */
static ssize_t handle_scsi_ata(Walk *w, ssize_t i) {
        _cleanup_free_ char *port = NULL, *attr = NULL;
        unsigned host, bus, target, lun;
        ssize_t h;
        int r;

        if (sscanf(w->comp[i], "%u:%u:%u:%u", &host, &bus, &target, &lun) != 4)
                return -1;
        h = scsi_host_of(w, i);
        if (h < 1)
                return -1;
        attr = strprintf("ata_port/%s/port_no", w->comp[h - 1]);
        if (!attr)
                return -ENOMEM;
        r = walk_attr(w, (size_t) h - 1, attr, &port);
        if (r < 0)
                return r;
        if (!port) {
                w->unknown = true; /* recorded without the port number */
                return -1;
        }
        r = bus != 0 ? prepend(w, "ata-%s.%u.0", port, bus) : prepend(w, "ata-%s.%u", port, target);
        return r < 0 ? r : i;
}

/* Any other SCSI host: "scsi-H:B:T:L", H counted from the lowest numbered
 * host of the same parent device. */
static ssize_t handle_scsi_default(Walk *w, ssize_t i) {
        _cleanup_free_ char *dir = NULL, *full = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int host, bus, target, lun, base = -1, r;
        ssize_t h = scsi_host_of(w, i);

        if (h < 0)
                return -1;
        if (sscanf(w->comp[i], "%d:%d:%d:%d", &host, &bus, &target, &lun) != 4)
                return -1;
        dir = h > 0 ? walk_dir(w, (size_t) h - 1) : strdup("/sys/devices");
        if (!dir || !(full = hw_path(w->c, "%s", dir)))
                return -ENOMEM;
        r = dir_list_sorted(full, &names);
        if (r == -ENOMEM)
                return r;
        for (size_t k = 0; r >= 0 && names[k]; k++) {
                const char *num = startswith(names[k], "host");
                char *end;
                long v;

                if (!num || !*num)
                        continue;
                v = strtol(num, &end, 10);
                if (*end || v < 0 || v > INT_MAX)
                        continue;
                if (base < 0 || v < base)
                        base = (int) v;
        }
        if (base < 0)
                return h;
        r = prepend(w, "scsi-%u:%u:%u:%u", (unsigned) (host - base), (unsigned) bus, (unsigned) target,
                    (unsigned) lun);
        return r < 0 ? r : h;
}

static ssize_t handle_scsi(Walk *w, ssize_t i) {
        _cleanup_free_ char *dir = NULL, *ieee1394 = NULL;
        int r;

        if (!walk_devtype_is(w, (size_t) i, "scsi_device", NULL))
                return i;
        dir = walk_dir(w, (size_t) i);
        if (!dir)
                return -ENOMEM;
        r = walk_attr(w, (size_t) i, "ieee1394_id", &ieee1394);
        if (r < 0)
                return r;
        if (ieee1394 || strstr(dir, "/rport-") || strstr(dir, "/end_device-") || strstr(dir, "/session") ||
            strstr(dir, "/vmbus_") || strstr(dir, "/VMBUS")) {
                /* FireWire, Fibre Channel, SAS, iSCSI, Hyper-V: named from
                 * transport attributes we do not read. */
                w->unknown = true;
                return -1;
        }
        if (strstr(dir, "/ata"))
                return handle_scsi_ata(w, i);
        return handle_scsi_default(w, i);
}

/* "usb-0:PORT[:CONFIG.INTERFACE]": the USB topology below the host
 * controller, whose own number udev leaves out. */
static ssize_t handle_usb(Walk *w, ssize_t i) {
        const char *port;
        int r;

        if (!walk_devtype_is(w, (size_t) i, "usb_interface", "usb_device"))
                return i;
        port = strchr(w->comp[i], '-');
        if (!port)
                return i;
        r = prepend(w, "usb-0:%s", port + 1);
        return r < 0 ? r : skip_subsystem(w, i, "usb");
}

static int compute_by_path(Walk *w) {
        int r;

        for (ssize_t i = (ssize_t) w->n - 1; i >= 0; i--) {
                const char *s = w->subsys[i], *sysname = w->comp[i];

                if (!s)
                        continue;
                if (streq(s, "scsi")) {
                        i = handle_scsi(w, i);
                        w->transport = true;
                } else if (streq(s, "usb")) {
                        i = handle_usb(w, i);
                        w->transport = true;
                } else if (streq(s, "pci") || streq(s, "platform") || streq(s, "acpi") || streq(s, "xen")) {
                        r = prepend(w, "%s-%s", s, sysname);
                        if (r < 0)
                                return r;
                        i = skip_subsystem(w, i, s);
                        w->parent = true;
                        if (streq(s, "platform"))
                                w->transport = true;
                } else if (streq(s, "virtio")) {
                        i = skip_subsystem(w, i, "virtio");
                        w->transport = true;
                } else if (streq(s, "nvme")) {
                        _cleanup_free_ char *nsid = NULL;
                        r = hw_read_attr(w->c, &nsid, "/sys/block/%s/nsid", w->d->name);
                        if (r < 0)
                                return r;
                        if (!nsid) {
                                w->unknown = true;
                                break;
                        }
                        r = prepend(w, "nvme-%s", nsid);
                        if (r < 0)
                                return r;
                        i = skip_subsystem(w, i, "nvme");
                        w->parent = w->transport = true;
                } else if (streq(s, "nvme-subsystem") || streq(s, "cciss") || streq(s, "bcma") ||
                           streq(s, "serio") || streq(s, "scm") || streq(s, "ccw") || streq(s, "ccwgroup") ||
                           streq(s, "ap") || streq(s, "iucv") || streq(s, "spi")) {
                        w->unknown = true; /* multipath NVMe, s390, ...: not named here */
                        break;
                }
                if (i == -ENOMEM)
                        return -ENOMEM;
                if (i < 0)
                        break;
        }
        if (w->unknown || !w->path || !w->parent || !w->transport)
                return 0;
        w->d->by_path = TAKE_PTR(w->path);
        return 0;
}

/* ---- by-id ---------------------------------------------------------------------------- */

/* IDENTIFY DEVICE data of an ATA disk from the ATA Information VPD page
 * (SAT: the 512 bytes start at offset 60). */
typedef struct AtaIdentify {
        char model[41], serial[21];
        uint64_t wwn; /* 0 if none */
} AtaIdentify;

static uint16_t ata_word(const unsigned char *id, unsigned w) {
        return (uint16_t) (id[2 * w] | (id[2 * w + 1] << 8));
}

/* ATA strings hold two characters per word, the first in the high byte. */
static void ata_string(const unsigned char *id, unsigned first_word, unsigned n_words, char *out) {
        size_t k = 0;

        for (unsigned w = first_word; w < first_word + n_words; w++) {
                uint16_t v = ata_word(id, w);
                out[k++] = (char) (v >> 8);
                out[k++] = (char) (v & 0xff);
        }
        out[k] = 0;
        while (k > 0 && (out[k - 1] == ' ' || out[k - 1] == 0))
                out[--k] = 0;
}

static bool ata_identify_parse(const char *pg89, size_t size, AtaIdentify *ret) {
        const unsigned char *p = (const unsigned char *) pg89, *id;

        if (!pg89 || size < 60 + 512 || p[1] != 0x89)
                return false;
        id = p + 60;
        *ret = (AtaIdentify) {};
        ata_string(id, 27, 20, ret->model);
        ata_string(id, 10, 10, ret->serial);
        /* Words 108-111: the World Wide Name, NAA 5 (IEEE registered). */
        if ((ata_word(id, 108) & 0xf000) == 0x5000)
                ret->wwn = (uint64_t) ata_word(id, 108) << 48 | (uint64_t) ata_word(id, 109) << 32 |
                           (uint64_t) ata_word(id, 110) << 16 | ata_word(id, 111);
        for (char *s = ret->model; *s; s++)
                if (!isprint((unsigned char) *s))
                        return false;
        return ret->model[0] != 0;
}

/* One designator as scsi_id writes it: the designator type as a hex digit,
 * for vendor specific ones the INQUIRY vendor and model, then the
 * identifier, binary ones in hex. */
static char *scsi_designator(int type, bool ascii, const unsigned char *id, size_t n, const char *vendor,
                             const char *model) {
        StrBuf b = {};
        int r = strbuf_appendf(&b, "%x", type);

        if (r >= 0 && type == 0)
                r = strbuf_appendf(&b, "%-8.8s%-16.16s", vendor ?: "", model ?: "");
        for (size_t k = 0; r >= 0 && k < n; k++)
                r = ascii ? strbuf_append_n(&b, (const char *) id + k, 1) : strbuf_appendf(&b, "%02x", id[k]);
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

/* scsi_id's choice among the Device Identification VPD page's designators
 * (page 0x83) of the logical unit: NAA (IEEE registered extended first), then
 * EUI-64, T10 vendor ID, vendor specific; binary before ASCII. Returns the
 * serial ("3" + hex for NAA, ...) and, for NAA, the WWN with extension. */
static int scsi_page83_id(const char *pg83, size_t size, const char *vendor, const char *model, char **ret_serial,
                          char **ret_wwn) {
        static const struct {
                int type, naa, code_set; /* naa -1: any */
        } search[] = {
                { 3, 6, 1 }, { 3, 6, 2 }, { 3, 5, 1 }, { 3, 5, 2 }, { 3, -1, 1 }, { 3, -1, 2 },
                { 2, -1, 1 }, { 2, -1, 2 }, { 1, -1, 1 }, { 1, -1, 2 }, { 0, -1, 1 }, { 0, -1, 2 },
        };
        const unsigned char *p = (const unsigned char *) pg83;
        size_t len;

        *ret_serial = *ret_wwn = NULL;
        if (!pg83 || size < 4 || p[1] != 0x83)
                return 0;
        len = MIN(size, 4 + (((size_t) p[2] << 8) | p[3]));
        for (size_t s = 0; s < ELEMENTSOF(search); s++)
                for (size_t o = 4; o + 4 <= len && o + 4 + p[o + 3] <= len; o += 4 + p[o + 3]) {
                        const unsigned char *d = p + o;

                        if (d[3] == 0 || (d[1] & 0x30) != 0 || (d[1] & 0x0f) != search[s].type ||
                            (d[0] & 0x0f) != search[s].code_set)
                                continue;
                        if (search[s].type == 3 && search[s].naa >= 0 && (d[4] >> 4) != search[s].naa)
                                continue;
                        *ret_serial = scsi_designator(search[s].type, search[s].code_set == 2, d + 4, d[3], vendor,
                                                      model);
                        if (!*ret_serial)
                                return -ENOMEM;
                        if (search[s].type == 3 && !(*ret_wwn = strprintf("0x%s", *ret_serial + 1)))
                                return -ENOMEM;
                        return 0;
                }
        return 0;
}

/* The USB device above the disk (for usb_id), as a walk index, or -1. */
static ssize_t usb_device_of(const Walk *w) {
        for (ssize_t k = (ssize_t) w->n - 1; k >= 0; k--)
                if (walk_is(w, k, "usb") && walk_devtype_is(w, (size_t) k, "usb_device", NULL))
                        return k;
        return -1;
}

/* usb_id: VENDOR_MODEL[_SERIAL][-TARGET:LUN], from the SCSI INQUIRY strings
 * and the USB serial number string. */
static int usb_serial(const Walk *w, char **ret_id) {
        _cleanup_free_ char *vendor = NULL, *model = NULL, *serial = NULL, *v = NULL, *m = NULL, *s = NULL;
        ssize_t u = usb_device_of(w);
        int host, bus, target = -1, lun = -1, r;

        *ret_id = NULL;
        if (u < 0)
                return 0;
        if ((r = hw_read_attr(w->c, &vendor, "/sys/block/%s/device/vendor", w->d->name)) < 0 ||
            (r = hw_read_attr(w->c, &model, "/sys/block/%s/device/model", w->d->name)) < 0 ||
            (r = walk_attr(w, (size_t) u, "serial", &serial)) < 0)
                return r;
        for (const char *p = serial; p && *p; p++)
                if (*p < 0x20 || *p > 0x7e || *p == ',') {
                        free(serial); /* not a usable serial number */
                        serial = NULL;
                        break;
                }
        for (ssize_t k = (ssize_t) w->n - 1; k > u; k--)
                if (walk_is(w, k, "scsi") &&
                    sscanf(w->comp[k], "%d:%d:%d:%d", &host, &bus, &target, &lun) == 4)
                        break;
        v = udev_escape(vendor ?: "", true, NULL);
        m = udev_escape(model ?: "", true, NULL);
        s = serial ? udev_escape(serial, true, NULL) : strdup("");
        if (!v || !m || !s)
                return -ENOMEM;
        if (target >= 0)
                *ret_id = strprintf("%s_%s%s%s-%d:%d", v, m, *s ? "_" : "", s, target, lun);
        else
                *ret_id = strprintf("%s_%s%s%s", v, m, *s ? "_" : "", s);
        if (!*ret_id)
                return -ENOMEM;
        if (serial && !w->d->serial)
                w->d->serial = TAKE_PTR(serial);
        return 0;
}

static int by_id_nvme(Walk *w) {
        _cleanup_free_ char *model = NULL, *serial = NULL, *nsid = NULL, *m = NULL, *s = NULL, *id = NULL;
        HwDisk *d = w->d;
        int r;

        _cleanup_free_ char *wwid = udev_escape(d->wwid, true, "/");
        if (d->wwid && !wwid)
                return -ENOMEM;
        if ((r = add_id(&d->by_id, "nvme-", wwid)) < 0)
                return r;
        if ((r = hw_read_attr(w->c, &model, "/sys/block/%s/device/model", d->name)) < 0 ||
            (r = hw_read_attr(w->c, &serial, "/sys/block/%s/device/serial", d->name)) < 0 ||
            (r = hw_read_attr(w->c, &nsid, "/sys/block/%s/nsid", d->name)) < 0)
                return r;
        if (!model || !serial)
                return 0;
        /* ENV{ID_SERIAL}="$env{ID_MODEL}_$env{ID_SERIAL_SHORT}" with
         * string_escape=replace: every unsafe character, spaces included,
         * becomes '_' (no collapsing). */
        m = udev_escape(model, false, NULL);
        s = udev_escape(serial, false, NULL);
        if (!m || !s)
                return -ENOMEM;
        id = strprintf("%s_%s", m, s);
        if (!id || (r = add_id(&d->by_id, "nvme-", id)) < 0)
                return -ENOMEM;
        if (nsid) {
                free(id);
                id = strprintf("%s_%s_%s", m, s, nsid);
                if (!id || add_id(&d->by_id, "nvme-", id) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int by_id_sd(Walk *w) {
        _cleanup_free_ char *pg89 = NULL, *pg83 = NULL, *vendor = NULL, *model = NULL, *id = NULL,
                            *wwn = NULL, *usb_id = NULL, *serial = NULL;
        const char *bus = NULL;
        HwDisk *d = w->d;
        size_t n89 = 0, n83 = 0;
        AtaIdentify ata;
        int r;

        if ((r = hw_read_blob(w->c, &pg89, &n89, "/sys/block/%s/device/vpd_pg89", d->name)) < 0 ||
            (r = hw_read_blob(w->c, &pg83, &n83, "/sys/block/%s/device/vpd_pg83", d->name)) < 0)
                return r;

        /* ata_id: for disks behind libata (vendor "ATA") and for USB disks
         * whose bridge passes ATA commands through. */
        if (ata_identify_parse(pg89, n89, &ata)) {
                _cleanup_free_ char *m = udev_escape(ata.model, true, NULL), *s = udev_escape(ata.serial, true, NULL);
                if (!m || !s)
                        return -ENOMEM;
                id = *s ? strprintf("%s_%s", m, s) : strdup(m);
                if (!id)
                        return -ENOMEM;
                bus = "ata";
                if (ata.wwn && !(wwn = strprintf("0x%" PRIx64, ata.wwn)))
                        return -ENOMEM;
                /* The full model: sysfs has the first 16 characters only. */
                if (free_and_strdup(&d->model, ata.model) < 0)
                        return -ENOMEM;
                if (*ata.serial && free_and_strdup(&d->serial, ata.serial) < 0)
                        return -ENOMEM;
        }

        r = usb_serial(w, &usb_id);
        if (r < 0)
                return r;
        if (!id && usb_id) {
                id = TAKE_PTR(usb_id);
                bus = "usb";
        }

        /* scsi_id: the Device Identification page, else the serial number. */
        if (!id) {
                if ((r = hw_read_attr(w->c, &vendor, "/sys/block/%s/device/vendor", d->name)) < 0 ||
                    (r = hw_read_attr(w->c, &model, "/sys/block/%s/device/model", d->name)) < 0)
                        return r;
                r = scsi_page83_id(pg83, n83, vendor, model, &serial, &wwn);
                if (r < 0)
                        return r;
                if (!serial && d->serial &&
                    !(serial = strprintf("S%-8.8s%-16.16s%s", vendor ?: "", model ?: "", d->serial)))
                        return -ENOMEM;
                if (serial) {
                        id = udev_escape(serial, true, NULL);
                        if (!id)
                                return -ENOMEM;
                        bus = "scsi";
                }
        }

        if (id) {
                _cleanup_free_ char *e = udev_escape(id, true, "/"), *p = strprintf("%s-", bus);
                if (!e || !p || add_id(&d->by_id, p, e) < 0)
                        return -ENOMEM;
        }
        if (usb_id) {
                _cleanup_free_ char *e = udev_escape(usb_id, true, "/");
                if (!e || add_id(&d->by_id, "usb-", e) < 0)
                        return -ENOMEM;
        }
        if (wwn) {
                if (add_id(&d->by_id, "wwn-", wwn) < 0)
                        return -ENOMEM;
                d->wwn = TAKE_PTR(wwn);
        }
        return 0;
}

static int compute_by_id(Walk *w) {
        HwDisk *d = w->d;
        int r;

        if (startswith(d->name, "nvme"))
                return by_id_nvme(w);
        if (startswith(d->name, "vd")) {
                _cleanup_free_ char *serial = NULL, *e = NULL;
                r = hw_read_attr(w->c, &serial, "/sys/block/%s/serial", d->name);
                if (r < 0)
                        return r;
                e = udev_escape(serial, true, "/");
                if (serial && !e)
                        return -ENOMEM;
                return add_id(&d->by_id, "virtio-", e);
        }
        if (startswith(d->name, "sd"))
                return by_id_sd(w);
        if (startswith(d->name, "mmcblk")) {
                _cleanup_free_ char *name = NULL, *serial = NULL, *id = NULL, *e = NULL;
                if ((r = hw_read_attr(w->c, &name, "/sys/block/%s/device/name", d->name)) < 0 ||
                    (r = hw_read_attr(w->c, &serial, "/sys/block/%s/device/serial", d->name)) < 0)
                        return r;
                if (!name || !serial)
                        return 0;
                id = strprintf("%s_%s", name, serial);
                e = udev_escape(id, true, "/");
                if (!id || !e)
                        return -ENOMEM;
                return add_id(&d->by_id, "mmc-", e);
        }
        return 0;
}

int hw_disk_names(const HwCtx *c, HwDisk *d, char **devpath) {
        _cleanup_strv_free_ char **real = NULL;
        Walk w = { .c = c, .d = d, .comp = devpath, .n = strv_length(devpath) };
        int r;

        if (w.n > 2 && streq(devpath[0], "virtual") && streq(devpath[1], "nvme-subsystem") &&
            startswith(d->name, "nvme")) {
                r = nvme_real_devpath(c, d, &real);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0) {
                        w.comp = real;
                        w.n = strv_length(real);
                }
        }

        r = walk_subsystems(&w);
        if (r >= 0)
                r = compute_by_id(&w);
        if (r >= 0)
                r = compute_by_path(&w);
        for (size_t i = 0; w.subsys && i < w.n; i++)
                free(w.subsys[i]); /* with holes: not a strv */
        free(w.subsys);
        free(w.path);
        return r;
}

/* ---- matching a path ------------------------------------------------------------------- */

/* The by-path names udev also links: "...-ata-N" (before systemd 246) for
 * "...-ata-N.T", and "virtio-pci-..." for virtio disks. */
static bool by_path_alias(const HwDisk *d, const char *name) {
        const char *ata, *legacy;

        if (!d->by_path)
                return false;
        legacy = startswith(name, "virtio-");
        if (legacy && startswith(d->name, "vd") && streq(legacy, d->by_path))
                return true;
        ata = strstr(d->by_path, "-ata-");
        if (ata) {
                size_t digits = strspn(ata + 5, "0123456789");
                size_t len = (size_t) (ata - d->by_path) + 5 + digits;
                if (digits > 0 && ata[5 + digits] == '.' && strlen(name) == len && strncmp(name, d->by_path, len) == 0)
                        return true;
        }
        return false;
}

bool hw_disk_has_path(const HwDisk *d, const char *path) {
        const char *rest;

        if (!path)
                return false;
        if (streq_ptr(path, d->devnode))
                return true;
        rest = startswith(path, "/dev/disk/by-id/");
        if (rest)
                return strv_contains(d->by_id, rest);
        rest = startswith(path, "/dev/disk/by-path/");
        if (rest)
                return streq_ptr(rest, d->by_path) || by_path_alias(d, rest);
        return false;
}
