/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LUKS2 in the plan: a partition with luks: is formatted as LUKS2, opened as
 * /dev/mapper/NAME, and its filesystem made there. What cannot work is
 * refused here, before anything is written: /boot (the bootloader reads it
 * unencrypted), and, in this version, / (the installed system's initramfs
 * would have to unlock it). The key URL is printed only redacted. */
#include <stdarg.h>

#include "basic/strutil.h"
#include "basic/url.h"
#include "plan/plan-internal.h"

const PlanLuks *plan_partition_luks(const Plan *p, const PlanPartition *pl) {
        for (size_t i = 0; i < p->n_luks; i++)
                if (p->luks[i].partition == pl->number && !pl->preserve && pl->source && pl->source->luks)
                        return &p->luks[i];
        return NULL;
}

int plan_luks(Plan *p, ProfileErrors *errors) {
        const ProfileDisk *pd = &p->profile->disk;
        size_t n = 0;

        for (size_t i = 0; i < p->n_partitions; i++)
                n += p->partitions[i].source && p->partitions[i].source->luks && !p->partitions[i].preserve;
        if (n == 0)
                return 0;
        p->luks = new0(PlanLuks, n);
        if (!p->luks)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_partitions; i++) {
                const PlanPartition *pl = &p->partitions[i];
                const ProfileLuks *l = pl->source ? pl->source->luks : NULL;
                PlanLuks *pk = &p->luks[p->n_luks];
                char key[48];

                if (!l || pl->preserve)
                        continue;
                snprintf(key, sizeof key, "disk.partitions[%zu].luks", (size_t) (pl->source - pd->partitions));
                if (pl->mount && (streq(pl->mount, "/boot") || startswith(pl->mount, "/boot/")))
                        return plan_error(p, errors, l->line, l->column, key,
                                          "%s cannot be encrypted: the bootloader reads it before anything is unlocked",
                                          pl->mount);
                if (streq_ptr(pl->mount, "/"))
                        return plan_error(p, errors, l->line, l->column, key,
                                          "LUKS on / is not supported by this installer yet (only data volumes: "
                                          "partitions mounted elsewhere, or swap)");
                *pk = (PlanLuks) { .source = l, .name = l->name, .partition = pl->number };
                snprintf(pk->where, sizeof pk->where, "%s", key);
                p->n_luks++;
        }
        return 0;
}

void plan_luks_free(Plan *p) {
        free(p->luks);
}

/* The stack: partition -> LUKS2 -> filesystem -> mount; the key URL
 * without credentials or query. */
void plan_print_luks_text(const Plan *p, FILE *f) {
        const HwDisk *disk = plan_target_disk(p);

        for (size_t i = 0; i < p->n_luks; i++) {
                const PlanLuks *k = &p->luks[i];
                const PlanPartition *pl = NULL;
                _cleanup_free_ char *url = url_redact(k->source->key_url);

                for (size_t n = 0; n < p->n_partitions; n++)
                        if (p->partitions[n].number == k->partition)
                                pl = &p->partitions[n];
                if (!pl)
                        continue;
                fprintf(f, "  %-12s%s partition %u -> LUKS2 /dev/mapper/%s -> %s%s%s\n", i ? "" : "LUKS:",
                        disk->devnode, k->partition, k->name, fs_type_to_string(pl->fs), pl->mount ? " at " : "",
                        pl->mount ? pl->mount : "");
                fprintf(f, "              key file %s%s%s (fetched before anything is written)\n", url ? url : "?",
                        k->source->key_sha256 ? ", sha256 " : ", no sha256", k->source->key_sha256 ? k->source->key_sha256 : "");
        }
}

void plan_print_luks_json(const Plan *p, JsonWriter *j) {
        jsonw_array_begin(j, "luks");
        for (size_t i = 0; i < p->n_luks; i++) {
                const PlanLuks *k = &p->luks[i];
                _cleanup_free_ char *url = url_redact(k->source->key_url);

                jsonw_object_begin(j, NULL);
                jsonw_string(j, "name", k->name);
                jsonw_string(j, "type", "luks2");
                jsonw_u64(j, "partition", k->partition);
                jsonw_string(j, "device", plan_target_disk(p)->devnode);
                jsonw_string(j, "key_url", url);
                jsonw_string(j, "key_sha256", k->source->key_sha256);
                jsonw_object_end(j);
        }
        jsonw_array_end(j);
}
