/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reinstall: the existing partitions a profile keeps (preserve:), found in
 * the inventory by filesystem label, partition number or filesystem UUID,
 * and what happens to the others. Pure: the inventory is all it looks at. */
#include <stdarg.h>
#include <strings.h>

#include "basic/strutil.h"
#include "plan/plan-internal.h"

static int add_error(ProfileErrors *errors, const Profile *pr, size_t i, const char *fmt, ...) _printf_(4, 5);
static int add_error(ProfileErrors *errors, const Profile *pr, size_t i, const char *fmt, ...) {
        const PartitionPreserve *pv = &pr->disk.partitions[i].preserve;
        _cleanup_free_ char *msg = NULL, *key = strprintf("disk.partitions[%zu].preserve", i);
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0 || !key)
                return -ENOMEM;
        r = profile_errors_add(errors, pr->filename, pv->line, pv->column, key, "%s", msg);
        return r < 0 ? r : -EINVAL;
}

/* "vda3 (2.0 GiB ext4 label srv)" */
static int describe_partition(StrBuf *b, const HwPartition *hp) {
        char sz[32];

        return strbuf_appendf(b, "%s (%s%s%s%s%s)", hp->name, format_bytes(sz, sizeof sz, hp->size),
                              hp->fstype ? " " : "", hp->fstype ? hp->fstype : "", hp->label ? " label " : "",
                              hp->label ? hp->label : "");
}

static char *describe_partitions(const HwDisk *d) {
        StrBuf b = {};

        if (d->n_partitions == 0)
                return strdup("none");
        for (size_t i = 0; i < d->n_partitions; i++)
                if ((i && strbuf_appendf(&b, ", ") < 0) || describe_partition(&b, &d->partitions[i]) < 0) {
                        strbuf_done(&b);
                        return NULL;
                }
        return strbuf_steal(&b);
}

static bool preserve_matches(const PartitionPreserve *pv, const HwPartition *hp) {
        switch (pv->by) {
        case PRESERVE_LABEL: return streq_ptr(hp->label, pv->value);
        case PRESERVE_NUMBER: return hp->number == pv->number;
        case PRESERVE_UUID: return hp->uuid && strcasecmp(hp->uuid, pv->value) == 0;
        case PRESERVE_NONE: break;
        }
        return false;
}

static const char *preserve_what(const PartitionPreserve *pv, char *buf, size_t size) {
        switch (pv->by) {
        case PRESERVE_LABEL: snprintf(buf, size, "the filesystem label '%s'", pv->value); break;
        case PRESERVE_NUMBER: snprintf(buf, size, "number %u", pv->number); break;
        case PRESERVE_UUID: snprintf(buf, size, "the filesystem UUID %s", pv->value); break;
        case PRESERVE_NONE: snprintf(buf, size, "?"); break;
        }
        return buf;
}

/* One preserve: entry -> exactly one existing partition. */
static int resolve_one(Plan *p, size_t i, ProfileErrors *errors) {
        const Profile *pr = p->profile;
        const PartitionPreserve *pv = &pr->disk.partitions[i].preserve;
        const HwDisk *d = plan_target_disk(p);
        const HwPartition *found = NULL;
        _cleanup_(strbuf_done) StrBuf names = {};
        size_t n = 0;
        char what[160];

        for (size_t k = 0; k < d->n_partitions; k++) {
                const HwPartition *hp = &d->partitions[k];
                if (!preserve_matches(pv, hp))
                        continue;
                if (strbuf_appendf(&names, "%s%s", n ? ", " : "", hp->name) < 0)
                        return -ENOMEM;
                found = hp;
                n++;
        }
        if (n == 0) {
                _cleanup_free_ char *list = describe_partitions(d);
                if (!list)
                        return -ENOMEM;
                return add_error(errors, pr, i, "no partition of %s has %s, so it cannot be preserved (its partitions: %s)",
                                 d->devnode, preserve_what(pv, what, sizeof what), list);
        }
        if (n > 1)
                return add_error(errors, pr, i,
                                 "%zu partitions of %s have %s (%s): which one to keep is ambiguous; name it by number or uuid",
                                 n, d->devnode, preserve_what(pv, what, sizeof what), names.data);
        for (size_t j = 0; j < i; j++)
                if (p->preserved[j] == found)
                        return add_error(errors, pr, i, "%s is already preserved by disk.partitions[%zu]", found->name, j);
        if (found->size == 0)
                return add_error(errors, pr, i, "%s has no size in the inventory; it cannot be preserved", found->name);
        if (p->profile->disk.table == PARTITION_TABLE_MSDOS && found->number > 4)
                return add_error(errors, pr, i,
                                 "%s is a logical partition; only primary partitions (1 to 4) of an msdos table can be preserved",
                                 found->name);
        p->preserved[i] = found;
        return 0;
}

static const char *table_name(const char *pttype) {
        return streq_ptr(pttype, "dos") ? "msdos" : pttype;
}

int plan_preserve(Plan *p, ProfileErrors *errors) {
        const Profile *pr = p->profile;
        const ProfileDisk *pd = &pr->disk;
        const HwDisk *d = plan_target_disk(p);
        _cleanup_(strbuf_done) StrBuf gone = {}, kept = {};
        size_t first = SIZE_MAX, n_gone = 0;
        int r, ret = 0;

        for (size_t i = 0; i < pd->n_partitions; i++)
                if (pd->partitions[i].preserve.by != PRESERVE_NONE && first == SIZE_MAX)
                        first = i;
        if (first == SIZE_MAX)
                return 0;

        p->preserved = new0(const HwPartition *, pd->n_partitions);
        if (!p->preserved)
                return -ENOMEM;

        /* The table stays: it must be the one the profile asks for. */
        const char *want = partition_table_to_string(pd->table);
        if (!d->pttype)
                return add_error(errors, pr, first, "%s has no partition table, so there is nothing to preserve",
                                 d->devnode);
        if (!streq(table_name(d->pttype), want))
                return add_error(errors, pr, first,
                                 "%s has a%s %s partition table and the profile asks for %s; preserving partitions keeps "
                                 "the table: set disk.table: %s",
                                 d->devnode, streq(table_name(d->pttype), "msdos") ? "n" : "", table_name(d->pttype),
                                 want, table_name(d->pttype));

        for (size_t i = 0; i < pd->n_partitions; i++) {
                if (pd->partitions[i].preserve.by == PRESERVE_NONE)
                        continue;
                r = resolve_one(p, i, errors);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ret = r;
        }
        if (ret < 0)
                return ret;

        /* What is kept and what is destroyed, for the plan and the operator. */
        for (size_t k = 0; k < d->n_partitions; k++) {
                const HwPartition *hp = &d->partitions[k];
                const ProfilePartition *keep = NULL;

                for (size_t i = 0; i < pd->n_partitions; i++)
                        if (p->preserved[i] == hp)
                                keep = &pd->partitions[i];
                StrBuf *b = keep ? &kept : &gone;
                n_gone += !keep;
                if ((b->len && strbuf_appendf(b, ", ") < 0) || describe_partition(b, hp) < 0)
                        return -ENOMEM;
                if (keep && strbuf_appendf(b, keep->mount ? " mounted on %s" : " not mounted",
                                           keep->mount ? keep->mount : "") < 0)
                        return -ENOMEM;
        }
        p->keep_table = true;
        p->keep_summary = strbuf_steal(&kept);
        if (!p->keep_summary)
                return -ENOMEM;

        /* Replacing the other partitions destroys what they hold: only with
         * disk.wipe: true. */
        r = plan_unfinished(p, d, false, &p->mark_note);
        if (r < 0)
                return r;
        if (gone.len > 0) {
                if (r == 0 && !pd->wipe) {
                        r = profile_errors_add(errors, pr->filename, pd->select.line, pd->select.column, "disk.wipe",
                                               "refusing to use %s: it holds data in partitions the profile does not "
                                               "preserve (%s)%s%s; set disk.wipe: true to replace them (kept: %s)",
                                               d->devnode, gone.data, p->mark_note ? "; it carries " : "",
                                               p->mark_note ? p->mark_note : "", p->keep_summary);
                        return r < 0 ? r : -EINVAL;
                }
                p->wipe = true;
                p->wipe_reason = r == 1 ? PLAN_WIPE_UNFINISHED : PLAN_WIPE_PROFILE;
                p->wipe_summary = strprintf("partition%s %s of the %s partition table", n_gone == 1 ? "" : "s",
                                            gone.data, table_name(d->pttype));
                if (!p->wipe_summary)
                        return -ENOMEM;
        }
        return 0;
}
