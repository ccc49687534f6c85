/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The install-in-progress mark in the plan: is a disk that holds data this
 * installer's own unfinished install on this machine (redone without
 * disk.wipe), or is the mark someone else's (trusted for nothing: the disk
 * is protected as if it had none)? Pure: the inventory is all it reads. */
#include <inttypes.h>
#include <strings.h>

#include "basic/strutil.h"
#include "plan/plan-internal.h"

const char *plan_wipe_reason_to_string(PlanWipeReason r) {
        switch (r) {
        case PLAN_WIPE_NONE: return NULL;
        case PLAN_WIPE_PROFILE: return "disk.wipe";
        case PLAN_WIPE_UNFINISHED: return "unfinished-install";
        }
        return NULL;
}

/* Two table ids (PTUUIDs) name the same table; NULL or "" (no table) equals only itself. */
static bool same_table(const char *a, const char *b) {
        a = a && *a ? a : NULL;
        b = b && *b ? b : NULL;
        return a && b ? strcasecmp(a, b) == 0 : a == b;
}

int plan_mark_verdict(const Inventory *inv, const HwDisk *d, bool whole_disk, char **ret_why) {
        const HwInstallMark *m = d->install_mark;
        _cleanup_free_ char *me = NULL;

        *ret_why = NULL;
        if (!m)
                return PLAN_MARK_NONE;
        me = hw_inventory_machine_id(inv);
        if (!me || !m->machine || !streq(me, m->machine))
                *ret_why = strprintf("written by %s%s, this machine is %s", m->machine ? "machine " : "",
                                     m->machine ? m->machine : "a machine without an identity",
                                     me ? me : "without an identity (no SMBIOS UUID, no NIC)");
        else if (m->disk_size != d->size)
                *ret_why = strprintf("written on a disk of %" PRIu64 " bytes, %s has %" PRIu64, m->disk_size, d->devnode,
                                     d->size);
        else if (m->table_id && !(d->ptuuid && strcasecmp(m->table_id, d->ptuuid) == 0))
                *ret_why = strprintf("it names partition table %s, %s has %s", m->table_id, d->devnode,
                                     d->ptuuid ? d->ptuuid : "no partition table");
        else if (!m->table_id && !same_table(m->prior_table_id, d->ptuuid))
                /* Before the partition step the install wrote nothing but
                 * zeros: a table other than the one it found is someone
                 * else's (and so, probably, what the disk holds now). */
                *ret_why = strprintf("its partition table changed since the mark was written (it was %s, %s has %s)",
                                     m->prior_table_id ? m->prior_table_id : "none", d->devnode,
                                     d->ptuuid ? d->ptuuid : "none");
        else if (whole_disk && (m->flags & HW_INSTALL_MARK_KEPT_PARTITIONS))
                *ret_why = strdup("it is from a reinstall that kept partitions, and this plan wipes the whole disk");
        else
                return PLAN_MARK_OURS;
        return *ret_why ? PLAN_MARK_FOREIGN : -ENOMEM;
}

int plan_unfinished(const Plan *p, const HwDisk *d, bool whole_disk, char **ret_note) {
        _cleanup_free_ char *why = NULL, *when = NULL;
        int v;

        *ret_note = NULL;
        v = plan_mark_verdict(p->inventory, d, whole_disk, &why);
        if (v < 0)
                return v;
        if (v == PLAN_MARK_NONE)
                return 0;
        when = hw_install_mark_format_time(d->install_mark->started_usec);
        if (!when)
                return -ENOMEM;
        if (v == PLAN_MARK_OURS)
                *ret_note = strprintf("this installer's unfinished install (started %s)", when);
        else
                *ret_note = strprintf("an install-in-progress mark (started %s) that is not this installer's unfinished "
                                      "install here: %s; not trusted",
                                      when, why);
        if (!*ret_note)
                return -ENOMEM;
        return v == PLAN_MARK_OURS;
}
