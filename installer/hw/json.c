/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The inventory as JSON: written by `installer inventory`, read back by
 * `installer plan --inventory` (through ydoc: JSON is YAML). */
#include <inttypes.h>

#include "basic/json.h"
#include "basic/strutil.h"
#include "hw/hw.h"
#include "ydoc/ydoc.h"

#define INVENTORY_FORMAT_VERSION 1

void hw_inventory_to_json(const Inventory *inv, FILE *f) {
        JsonWriter j = JSON_WRITER_INIT(f);

        jsonw_object_begin(&j, NULL);
        jsonw_u64(&j, "format", INVENTORY_FORMAT_VERSION);
        jsonw_string(&j, "firmware", firmware_to_string(inv->firmware));
        jsonw_bool(&j, "secure_boot", inv->secure_boot);
        jsonw_object_begin(&j, "cpu");
        jsonw_u64(&j, "count", inv->cpus);
        jsonw_string(&j, "model", inv->cpu_model);
        jsonw_object_end(&j);
        jsonw_u64(&j, "memory_bytes", inv->memory);

        jsonw_object_begin(&j, "dmi");
        jsonw_string(&j, "sys_vendor", inv->dmi.sys_vendor);
        jsonw_string(&j, "product_name", inv->dmi.product_name);
        jsonw_string(&j, "product_version", inv->dmi.product_version);
        jsonw_string(&j, "product_serial", inv->dmi.product_serial);
        jsonw_string(&j, "product_uuid", inv->dmi.product_uuid);
        jsonw_string(&j, "board_vendor", inv->dmi.board_vendor);
        jsonw_string(&j, "board_name", inv->dmi.board_name);
        jsonw_string(&j, "bios_vendor", inv->dmi.bios_vendor);
        jsonw_string(&j, "bios_version", inv->dmi.bios_version);
        jsonw_string(&j, "chassis_type", inv->dmi.chassis_type);
        jsonw_object_end(&j);

        jsonw_array_begin(&j, "disks");
        for (size_t i = 0; i < inv->n_disks; i++) {
                const HwDisk *d = &inv->disks[i];
                jsonw_object_begin(&j, NULL);
                jsonw_string(&j, "name", d->name);
                jsonw_string(&j, "devnode", d->devnode);
                jsonw_u64(&j, "size_bytes", d->size);
                jsonw_u64(&j, "logical_sector_size", d->logical_sector_size);
                jsonw_u64(&j, "physical_sector_size", d->physical_sector_size);
                jsonw_string(&j, "model", d->model);
                jsonw_string(&j, "vendor", d->vendor);
                jsonw_string(&j, "serial", d->serial);
                jsonw_string(&j, "wwn", d->wwn);
                jsonw_string(&j, "wwid", d->wwid);
                jsonw_array_begin(&j, "by_id");
                for (size_t k = 0; d->by_id && d->by_id[k]; k++)
                        jsonw_string(&j, NULL, d->by_id[k]);
                jsonw_array_end(&j);
                jsonw_string(&j, "by_path", d->by_path);
                jsonw_string(&j, "transport", d->transport);
                jsonw_bool(&j, "rotational", d->rotational);
                jsonw_bool(&j, "removable", d->removable);
                jsonw_bool(&j, "readonly", d->readonly);
                jsonw_bool(&j, "boot_medium", d->boot_medium);
                jsonw_string(&j, "pttype", d->pttype);
                jsonw_string(&j, "ptuuid", d->ptuuid);
                jsonw_string(&j, "fstype", d->fstype);
                if (d->install_mark) {
                        const HwInstallMark *m = d->install_mark;
                        _cleanup_free_ char *t = hw_install_mark_format_time(m->started_usec);
                        jsonw_object_begin(&j, "install_in_progress");
                        jsonw_string(&j, "started", t);
                        jsonw_u64(&j, "started_usec", m->started_usec);
                        jsonw_string(&j, "machine", m->machine);
                        jsonw_u64(&j, "disk_size", m->disk_size);
                        jsonw_string(&j, "table_id", m->table_id);
                        jsonw_string(&j, "prior_table_id", m->prior_table_id);
                        jsonw_bool(&j, "kept_partitions", m->flags & HW_INSTALL_MARK_KEPT_PARTITIONS);
                        jsonw_object_end(&j);
                }
                jsonw_array_begin(&j, "partitions");
                for (size_t k = 0; k < d->n_partitions; k++) {
                        const HwPartition *p = &d->partitions[k];
                        jsonw_object_begin(&j, NULL);
                        jsonw_string(&j, "name", p->name);
                        jsonw_u64(&j, "number", p->number);
                        jsonw_u64(&j, "start_bytes", p->start);
                        jsonw_u64(&j, "size_bytes", p->size);
                        jsonw_string(&j, "fstype", p->fstype);
                        jsonw_string(&j, "label", p->label);
                        jsonw_string(&j, "uuid", p->uuid);
                        jsonw_object_end(&j);
                }
                jsonw_array_end(&j);
                jsonw_object_end(&j);
        }
        jsonw_array_end(&j);

        jsonw_array_begin(&j, "nics");
        for (size_t i = 0; i < inv->n_nics; i++) {
                const HwNic *n = &inv->nics[i];
                jsonw_object_begin(&j, NULL);
                jsonw_string(&j, "name", n->name);
                jsonw_string(&j, "mac", n->mac);
                jsonw_string(&j, "driver", n->driver);
                jsonw_bool(&j, "carrier", n->carrier);
                jsonw_string(&j, "operstate", n->operstate);
                jsonw_u64(&j, "speed_mbps", n->speed_mbps);
                jsonw_object_end(&j);
        }
        jsonw_array_end(&j);
        jsonw_object_end(&j);
        jsonw_finish(&j);
}

int hw_inventory_to_json_string(const Inventory *inv, char **ret, size_t *ret_size) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return -ENOMEM;
        hw_inventory_to_json(inv, f);
        if (ferror(f)) {
                fclose(f);
                free(buf);
                return -ENOMEM;
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        if (ret_size)
                *ret_size = size;
        return 0;
}

/* ---- loading ------------------------------------------------------------- */

typedef struct Loader {
        const char *file;
        char *error;
} Loader;

static int fail(Loader *l, const YNode *n, const char *what) {
        if (!l->error)
                l->error = strprintf("%s:%u:%u: %s", l->file, n ? n->line : 0, n ? n->column : 0, what);
        return -EINVAL;
}

static int get_str(Loader *l, const YNode *m, const char *key, char **ret) {
        YNode *n = ynode_get(m, key);
        if (!n || ynode_is_null(n))
                return 0;
        if (n->type != YNODE_SCALAR)
                return fail(l, n, "expected a string");
        return free_and_strdup(ret, n->value);
}

static int get_u64(Loader *l, const YNode *m, const char *key, uint64_t *ret) {
        YNode *n = ynode_get(m, key);
        if (!n || ynode_is_null(n))
                return 0;
        if (ynode_u64(n, ret) < 0)
                return fail(l, n, "expected a non-negative integer");
        return 0;
}

static int get_bool(Loader *l, const YNode *m, const char *key, bool *ret) {
        YNode *n = ynode_get(m, key);
        if (!n || ynode_is_null(n))
                return 0;
        if (ynode_bool(n, ret) < 0)
                return fail(l, n, "expected true or false");
        return 0;
}

static int get_list(Loader *l, const YNode *m, const char *key, YNode **ret) {
        YNode *n = ynode_get(m, key);
        *ret = NULL;
        if (!n || ynode_is_null(n))
                return 0;
        if (n->type != YNODE_SEQUENCE)
                return fail(l, n, "expected a list");
        *ret = n;
        return 0;
}

/* A list of strings; absent or null: *ret stays NULL. */
static int get_strv(Loader *l, const YNode *m, const char *key, char ***ret) {
        YNode *list;
        int r;

        r = get_list(l, m, key, &list);
        if (r < 0 || !list)
                return r;
        for (size_t i = 0; i < list->n; i++) {
                const YNode *n = list->items[i];
                if (n->type != YNODE_SCALAR || ynode_is_null(n))
                        return fail(l, n, "expected a string");
                if (strv_extend(ret, n->value) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* "install_in_progress": the mark as hw_inventory_to_json() writes it.
 * started_usec is what counts ("started" is for people). */
static int load_install_mark(Loader *l, const YNode *m, HwDisk *d) {
        YNode *n = ynode_get(m, "install_in_progress");
        bool kept = false;
        int r;

        if (!n || ynode_is_null(n))
                return 0;
        if (n->type != YNODE_MAPPING)
                return fail(l, n, "expected an install_in_progress object");
        d->install_mark = new0(HwInstallMark, 1);
        if (!d->install_mark)
                return -ENOMEM;
        if ((r = get_u64(l, n, "started_usec", &d->install_mark->started_usec)) < 0 ||
            (r = get_str(l, n, "machine", &d->install_mark->machine)) < 0 ||
            (r = get_u64(l, n, "disk_size", &d->install_mark->disk_size)) < 0 ||
            (r = get_str(l, n, "table_id", &d->install_mark->table_id)) < 0 ||
            (r = get_str(l, n, "prior_table_id", &d->install_mark->prior_table_id)) < 0 ||
            (r = get_bool(l, n, "kept_partitions", &kept)) < 0)
                return r;
        if (kept)
                d->install_mark->flags |= HW_INSTALL_MARK_KEPT_PARTITIONS;
        return 0;
}

static int load_disk(Loader *l, const YNode *m, HwDisk *d) {
        uint64_t v = 0;
        YNode *parts;
        int r;

        if (m->type != YNODE_MAPPING)
                return fail(l, m, "expected a disk object");
        if ((r = get_str(l, m, "name", &d->name)) < 0 || (r = get_str(l, m, "devnode", &d->devnode)) < 0 ||
            (r = get_u64(l, m, "size_bytes", &d->size)) < 0 || (r = get_str(l, m, "model", &d->model)) < 0 ||
            (r = get_str(l, m, "vendor", &d->vendor)) < 0 || (r = get_str(l, m, "serial", &d->serial)) < 0 ||
            (r = get_str(l, m, "wwn", &d->wwn)) < 0 || (r = get_str(l, m, "wwid", &d->wwid)) < 0 ||
            (r = get_strv(l, m, "by_id", &d->by_id)) < 0 || (r = get_str(l, m, "by_path", &d->by_path)) < 0 ||
            (r = get_bool(l, m, "boot_medium", &d->boot_medium)) < 0 ||
            (r = get_str(l, m, "transport", &d->transport)) < 0 ||
            (r = get_bool(l, m, "rotational", &d->rotational)) < 0 ||
            (r = get_bool(l, m, "removable", &d->removable)) < 0 ||
            (r = get_bool(l, m, "readonly", &d->readonly)) < 0 || (r = get_str(l, m, "pttype", &d->pttype)) < 0 ||
            (r = get_str(l, m, "ptuuid", &d->ptuuid)) < 0 || (r = get_str(l, m, "fstype", &d->fstype)) < 0)
                return r;
        d->logical_sector_size = 512;
        if ((r = get_u64(l, m, "logical_sector_size", &v)) < 0)
                return r;
        if (v)
                d->logical_sector_size = (unsigned) v;
        v = 0;
        if ((r = get_u64(l, m, "physical_sector_size", &v)) < 0)
                return r;
        d->physical_sector_size = v ? (unsigned) v : d->logical_sector_size;
        if (!d->name || !d->size)
                return fail(l, m, "a disk needs at least \"name\" and \"size_bytes\"");
        if (!d->devnode && !(d->devnode = strprintf("/dev/%s", d->name)))
                return -ENOMEM;
        if ((r = load_install_mark(l, m, d)) < 0)
                return r;

        if ((r = get_list(l, m, "partitions", &parts)) < 0)
                return r;
        if (parts && parts->n) {
                d->partitions = new0(HwPartition, parts->n);
                if (!d->partitions)
                        return -ENOMEM;
                for (size_t i = 0; i < parts->n; i++) {
                        const YNode *pm = parts->items[i];
                        HwPartition *p = &d->partitions[d->n_partitions++];
                        if (pm->type != YNODE_MAPPING)
                                return fail(l, pm, "expected a partition object");
                        v = 0;
                        if ((r = get_str(l, pm, "name", &p->name)) < 0 || (r = get_u64(l, pm, "number", &v)) < 0 ||
                            (r = get_u64(l, pm, "start_bytes", &p->start)) < 0 ||
                            (r = get_u64(l, pm, "size_bytes", &p->size)) < 0 ||
                            (r = get_str(l, pm, "fstype", &p->fstype)) < 0 ||
                            (r = get_str(l, pm, "label", &p->label)) < 0 || (r = get_str(l, pm, "uuid", &p->uuid)) < 0)
                                return r;
                        p->number = (unsigned) v;
                }
        }
        return 0;
}

static int load_nic(Loader *l, const YNode *m, HwNic *n) {
        int r;
        if (m->type != YNODE_MAPPING)
                return fail(l, m, "expected a NIC object");
        if ((r = get_str(l, m, "name", &n->name)) < 0 || (r = get_str(l, m, "mac", &n->mac)) < 0 ||
            (r = get_str(l, m, "driver", &n->driver)) < 0 || (r = get_bool(l, m, "carrier", &n->carrier)) < 0 ||
            (r = get_str(l, m, "operstate", &n->operstate)) < 0 ||
            (r = get_u64(l, m, "speed_mbps", &n->speed_mbps)) < 0)
                return r;
        if (n->mac) {
                char norm[18];
                if (mac_normalize(n->mac, norm) < 0)
                        return fail(l, ynode_get(m, "mac"), "invalid MAC address");
                strcpy(n->mac, norm);
        }
        return 0;
}

static int load_inventory(Loader *l, const YNode *root, Inventory *inv) {
        const YNode *cpu, *dmi;
        YNode *list;
        uint64_t v = 0;
        int r;

        if (!root || root->type != YNODE_MAPPING)
                return fail(l, root, "an inventory is a JSON object");
        if ((r = get_u64(l, root, "format", &v)) < 0)
                return r;
        if (v != INVENTORY_FORMAT_VERSION)
                return fail(l, ynode_get(root, "format") ?: root, "unsupported inventory format (expected 1)");

        const char *fw = ynode_get_str(root, "firmware");
        if (!fw || firmware_from_string(fw) < 0)
                return fail(l, ynode_get(root, "firmware") ?: root, "\"firmware\" must be \"bios\" or \"uefi\"");
        inv->firmware = (Firmware) firmware_from_string(fw);
        if ((r = get_bool(l, root, "secure_boot", &inv->secure_boot)) < 0)
                return r;
        if (inv->secure_boot && inv->firmware != FIRMWARE_UEFI)
                return fail(l, ynode_get(root, "secure_boot"), "\"secure_boot\": true needs \"firmware\": \"uefi\"");
        if ((r = get_u64(l, root, "memory_bytes", &inv->memory)) < 0)
                return r;
        cpu = ynode_get(root, "cpu");
        if (cpu) {
                v = 0;
                if ((r = get_u64(l, cpu, "count", &v)) < 0 || (r = get_str(l, cpu, "model", &inv->cpu_model)) < 0)
                        return r;
                inv->cpus = (unsigned) v;
        }
        dmi = ynode_get(root, "dmi");
        if (dmi && ((r = get_str(l, dmi, "sys_vendor", &inv->dmi.sys_vendor)) < 0 ||
                    (r = get_str(l, dmi, "product_name", &inv->dmi.product_name)) < 0 ||
                    (r = get_str(l, dmi, "product_version", &inv->dmi.product_version)) < 0 ||
                    (r = get_str(l, dmi, "product_serial", &inv->dmi.product_serial)) < 0 ||
                    (r = get_str(l, dmi, "product_uuid", &inv->dmi.product_uuid)) < 0 ||
                    (r = get_str(l, dmi, "board_vendor", &inv->dmi.board_vendor)) < 0 ||
                    (r = get_str(l, dmi, "board_name", &inv->dmi.board_name)) < 0 ||
                    (r = get_str(l, dmi, "bios_vendor", &inv->dmi.bios_vendor)) < 0 ||
                    (r = get_str(l, dmi, "bios_version", &inv->dmi.bios_version)) < 0 ||
                    (r = get_str(l, dmi, "chassis_type", &inv->dmi.chassis_type)) < 0))
                return r;

        if ((r = get_list(l, root, "disks", &list)) < 0)
                return r;
        if (list && list->n) {
                inv->disks = new0(HwDisk, list->n);
                if (!inv->disks)
                        return -ENOMEM;
                for (size_t i = 0; i < list->n; i++) {
                        inv->n_disks++;
                        if ((r = load_disk(l, list->items[i], &inv->disks[i])) < 0)
                                return r;
                }
        }
        if ((r = get_list(l, root, "nics", &list)) < 0)
                return r;
        if (list && list->n) {
                inv->nics = new0(HwNic, list->n);
                if (!inv->nics)
                        return -ENOMEM;
                for (size_t i = 0; i < list->n; i++) {
                        inv->n_nics++;
                        if ((r = load_nic(l, list->items[i], &inv->nics[i])) < 0)
                                return r;
                }
        }
        return 0;
}

int hw_inventory_load_json(const char *path, Inventory **ret, char **ret_error) {
        _cleanup_ydoc_ YDoc *doc = NULL;
        _cleanup_inventory_ Inventory *inv = NULL;
        Loader l = { .file = path };
        int r;

        r = ydoc_parse_file(path, &doc, ret_error);
        if (r < 0)
                return r;
        inv = new0(Inventory, 1);
        if (!inv)
                return -ENOMEM;
        r = load_inventory(&l, doc->root, inv);
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(l.error);
                free(l.error);
                return r;
        }
        *ret = TAKE_PTR(inv);
        return 0;
}
