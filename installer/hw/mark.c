/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The install-in-progress mark: its byte format and the machine identity
 * it carries. Pure (no I/O): hw/probe.c reads the 440 bytes and decodes
 * them into the inventory, disk/mark.c encodes and writes them, the plan
 * compares hw_inventory_machine_id() with what the mark says. hw/ is below
 * both disk/ and plan/, so the one format lives here. */
#include <ctype.h>
#include <endian.h>
#include <string.h>
#include <time.h>

#include "basic/strutil.h"
#include "hw/hw.h"

/* Layout of bytes 0..439 of LBA 0 (the MBR boot code area):
 *     0   8  x86 stub: int 0x18 (BIOS: try the next boot device); hlt; jmp $-1
 *     8  24  magic "BMI-INSTALL-IN-PROGRESS\0"
 *    32   2  version (2), little endian
 *    34   1  flags (HW_INSTALL_MARK_KEPT_PARTITIONS)
 *    35   5  zero
 *    40   8  started, CLOCK_REALTIME microseconds
 *    48   8  disk size, bytes
 *    56  64  machine id, NUL padded
 *   120  64  table id, NUL padded (empty until the partition step)
 *   184  64  prior table id: the disk's PTUUID when the mark was first
 *            written, NUL padded (empty: it had no table)
 *   248 188  zero
 *   436   4  CRC32 (IEEE, as zlib/GPT) of bytes 0..435
 * Version 1 had no prior table id (bytes 184..247 zero): it does not
 * decode (no mark), as this decoder would take it for "no table before". */
#define OFF_MAGIC 8
#define OFF_VERSION 32
#define OFF_FLAGS 34
#define OFF_STARTED 40
#define OFF_SIZE 48
#define OFF_MACHINE 56
#define OFF_TABLE 120
#define OFF_PRIOR 184
#define OFF_CRC 436
#define FIELD 64
#define VERSION 2

const uint8_t hw_install_mark_stub[HW_INSTALL_MARK_STUB_SIZE] = { 0xcd, 0x18, 0xf4, 0xeb, 0xfd, 0x00, 0x00, 0x00 };

static const char magic[24] = "BMI-INSTALL-IN-PROGRESS";

uint32_t hw_crc32(const void *data, size_t n) {
        const uint8_t *p = data;
        uint32_t crc = 0xffffffffu;
        for (size_t i = 0; i < n; i++) {
                crc ^= p[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0xedb88320u & (uint32_t) -(int32_t) (crc & 1));
        }
        return ~crc;
}

static bool field_ok(const char *s) {
        /* printable ASCII, NUL terminated inside the field, NUL padded */
        size_t n = strnlen(s, FIELD);
        if (n == FIELD)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < 0x21 || s[i] > 0x7e)
                        return false;
        for (size_t i = n; i < FIELD; i++)
                if (s[i])
                        return false;
        return true;
}

int hw_install_mark_encode(const HwInstallMark *m, uint8_t ret[static HW_INSTALL_MARK_SIZE]) {
        uint64_t v;
        uint32_t crc;
        size_t nm = m->machine ? strlen(m->machine) : 0, nt = m->table_id ? strlen(m->table_id) : 0,
               np = m->prior_table_id ? strlen(m->prior_table_id) : 0;

        if (nm >= FIELD || nt >= FIELD || np >= FIELD)
                return -EINVAL;
        memset(ret, 0, HW_INSTALL_MARK_SIZE);
        memcpy(ret, hw_install_mark_stub, sizeof hw_install_mark_stub);
        memcpy(ret + OFF_MAGIC, magic, sizeof magic);
        ret[OFF_VERSION] = VERSION;
        ret[OFF_FLAGS] = (uint8_t) m->flags;
        v = htole64(m->started_usec);
        memcpy(ret + OFF_STARTED, &v, 8);
        v = htole64(m->disk_size);
        memcpy(ret + OFF_SIZE, &v, 8);
        if (nm)
                memcpy(ret + OFF_MACHINE, m->machine, nm);
        if (nt)
                memcpy(ret + OFF_TABLE, m->table_id, nt);
        if (np)
                memcpy(ret + OFF_PRIOR, m->prior_table_id, np);
        if (!field_ok((char *) ret + OFF_MACHINE) || !field_ok((char *) ret + OFF_TABLE) ||
            !field_ok((char *) ret + OFF_PRIOR))
                return -EINVAL;
        crc = htole32(hw_crc32(ret, OFF_CRC));
        memcpy(ret + OFF_CRC, &crc, 4);
        return 0;
}

int hw_install_mark_decode(const uint8_t data[static HW_INSTALL_MARK_SIZE], HwInstallMark **ret) {
        uint64_t v;
        uint32_t crc;
        char field[FIELD];

        *ret = NULL;
        if (memcmp(data + OFF_MAGIC, magic, sizeof magic) != 0)
                return 0;
        memcpy(&crc, data + OFF_CRC, 4);
        if (le32toh(crc) != hw_crc32(data, OFF_CRC) || data[OFF_VERSION] != VERSION || data[OFF_VERSION + 1] != 0 ||
            memcmp(data, hw_install_mark_stub, sizeof hw_install_mark_stub) != 0 ||
            !field_ok((const char *) data + OFF_MACHINE) || !field_ok((const char *) data + OFF_TABLE) ||
            !field_ok((const char *) data + OFF_PRIOR))
                return -EBADMSG;

        _cleanup_free_ HwInstallMark *m = new0(HwInstallMark, 1);
        if (!m)
                return -ENOMEM;
        m->flags = data[OFF_FLAGS];
        memcpy(&v, data + OFF_STARTED, 8);
        m->started_usec = le64toh(v);
        memcpy(&v, data + OFF_SIZE, 8);
        m->disk_size = le64toh(v);
        memcpy(field, data + OFF_MACHINE, FIELD);
        if (field[0] && !(m->machine = strdup(field)))
                return -ENOMEM;
        memcpy(field, data + OFF_TABLE, FIELD);
        if (field[0] && !(m->table_id = strdup(field))) {
                free(m->machine);
                return -ENOMEM;
        }
        memcpy(field, data + OFF_PRIOR, FIELD);
        if (field[0] && !(m->prior_table_id = strdup(field))) {
                free(m->machine);
                free(m->table_id);
                return -ENOMEM;
        }
        *ret = TAKE_PTR(m);
        return 1;
}

void hw_install_mark_free(HwInstallMark *m) {
        if (!m)
                return;
        free(m->machine);
        free(m->table_id);
        free(m->prior_table_id);
        free(m);
}

HwInstallMark *hw_install_mark_copy(const HwInstallMark *m) {
        HwInstallMark *c = new0(HwInstallMark, 1);
        if (!c)
                return NULL;
        *c = (HwInstallMark) { .started_usec = m->started_usec, .disk_size = m->disk_size, .flags = m->flags };
        if ((m->machine && !(c->machine = strdup(m->machine))) || (m->table_id && !(c->table_id = strdup(m->table_id))) ||
            (m->prior_table_id && !(c->prior_table_id = strdup(m->prior_table_id)))) {
                hw_install_mark_free(c);
                return NULL;
        }
        return c;
}

char *hw_inventory_machine_id(const Inventory *inv) {
        const char *lowest = NULL;

        if (!hw_dmi_uuid_is_placeholder(inv->dmi.product_uuid)) {
                _cleanup_free_ char *u = strprintf("uuid:%s", inv->dmi.product_uuid);
                if (!u)
                        return NULL;
                for (char *s = u; *s; s++)
                        *s = (char) tolower((unsigned char) *s);
                return strlen(u) < FIELD ? TAKE_PTR(u) : NULL;
        }
        /* MACs are normalized (lower case, colons) in the inventory. */
        for (size_t i = 0; i < inv->n_nics; i++) {
                const char *mac = inv->nics[i].mac;
                if (!mac || strlen(mac) != 17 || streq(mac, "00:00:00:00:00:00"))
                        continue;
                if (!lowest || strcmp(mac, lowest) < 0)
                        lowest = mac;
        }
        return lowest ? strprintf("mac:%s", lowest) : NULL;
}

char *hw_install_mark_format_time(uint64_t usec) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        char buf[32];

        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return strdup("?");
        return strdup(buf);
}
