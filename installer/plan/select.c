/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Choosing the target disk from the profile's hints. Every disk gets a reason,
 * so that "no disk matches" and "several disks match" can show the operator
 * why each disk was or was not taken. The installer's own boot medium is never
 * taken; removable and USB disks only when named by path (see docs/profile.md,
 * disk.select). */
#include <fnmatch.h>
#include <strings.h>

#include "basic/strutil.h"
#include "plan/plan-internal.h"

/* Returns NULL when the disk matches, else a reason (static or allocated in
 * *buf). Every hint given must match. */
const char *plan_disk_mismatch(const HwDisk *d, const DiskSelect *s, char **buf) {
        char a[32], b[32];

        if (d->boot_medium)
                return "the installer's boot medium"; /* never, not even when named by path */
        if (d->readonly)
                return "read-only";
        if (s->path && !hw_disk_has_path(d, s->path))
                return *buf = strprintf("not %s", s->path);
        if ((d->removable || streq_lit(d->transport, "usb")) && !s->path)
                return "removable or USB (name it with disk.select.path to use it)";
        if (s->serial && !streq_ptr(s->serial, d->serial))
                return *buf = strprintf("serial %s, not %s", d->serial ? d->serial : "(none)", s->serial);
        if (s->wwn && !(d->wwn && strcasecmp(s->wwn, d->wwn) == 0))
                return *buf = strprintf("WWN %s, not %s", d->wwn ? d->wwn : "(none)", s->wwn);
        if (s->model && (!d->model || fnmatch(s->model, d->model, 0) != 0))
                return *buf = strprintf("model %s does not match %s", d->model ? d->model : "(none)", s->model);
        if (s->vendor && (!d->vendor || fnmatch(s->vendor, d->vendor, 0) != 0))
                return *buf = strprintf("vendor %s does not match %s", d->vendor ? d->vendor : "(none)", s->vendor);
        if (s->transport && !streq_ptr(s->transport, d->transport))
                return *buf = strprintf("transport %s, not %s", d->transport ? d->transport : "unknown", s->transport);
        if (s->min_size && d->size < s->min_size)
                return *buf = strprintf("%s is smaller than min_size %s", format_bytes(a, sizeof a, d->size),
                                        format_bytes(b, sizeof b, s->min_size));
        if (s->max_size && d->size > s->max_size)
                return *buf = strprintf("%s is larger than max_size %s", format_bytes(a, sizeof a, d->size),
                                        format_bytes(b, sizeof b, s->max_size));
        if (s->rotational >= 0 && (int) d->rotational != s->rotational)
                return d->rotational ? "rotational, not SSD" : "SSD, not rotational";
        return NULL;
}

/* How a matching disk differs from the others, for "several disks match":
 * what the operator would write as a hint. */
static char *describe_match(const HwDisk *d) {
        char sz[32];

        return strprintf("matches (%s %s%s%s%s%s)", format_bytes(sz, sizeof sz, d->size),
                         d->transport ? d->transport : "unknown", d->serial ? ", serial " : "",
                         d->serial ? d->serial : "", d->by_path ? ", by-path " : "", d->by_path ? d->by_path : "");
}

int plan_select_disk(Plan *p, ProfileErrors *errors) {
        const Inventory *inv = p->inventory;
        const DiskSelect *s = &p->profile->disk.select;
        const char *file = p->profile->filename;
        size_t n_match = 0, chosen = SIZE_MAX;
        StrBuf why = {};
        int r = 0;

        p->candidates = new0(PlanCandidate, inv->n_disks ? inv->n_disks : 1);
        if (!p->candidates)
                return -ENOMEM;
        p->n_candidates = inv->n_disks;

        for (size_t i = 0; i < inv->n_disks; i++) {
                char *buf = NULL;
                const char *m = plan_disk_mismatch(&inv->disks[i], s, &buf);
                p->candidates[i].disk = i;
                p->candidates[i].matches = !m;
                p->candidates[i].reason = strdup(m ? m : "matches");
                free(buf);
                if (!p->candidates[i].reason)
                        return -ENOMEM;
                if (!m) {
                        n_match++;
                        if (chosen == SIZE_MAX)
                                chosen = i;
                }
        }

        for (size_t i = 0; i < inv->n_disks; i++)
                if (strbuf_appendf(&why, "%s %s: %s", i ? ";" : "", inv->disks[i].devnode,
                                   p->candidates[i].reason) < 0) {
                        strbuf_done(&why);
                        return -ENOMEM;
                }

        if (n_match == 0) {
                r = profile_errors_add(errors, file, s->line, s->column, "disk.select",
                                       "no disk matches (%zu disk%s:%s)", inv->n_disks,
                                       inv->n_disks == 1 ? "" : "s", why.len ? why.data : " none");
                strbuf_done(&why);
                return r < 0 ? r : -EINVAL;
        }
        strbuf_done(&why);

        if (n_match > 1) {
                const char *prefer = s->prefer;
                if (!prefer) {
                        StrBuf list = {};
                        for (size_t i = 0; i < inv->n_disks; i++) {
                                _cleanup_free_ char *m = NULL;
                                if (p->candidates[i].matches && !(m = describe_match(&inv->disks[i]))) {
                                        strbuf_done(&list);
                                        return -ENOMEM;
                                }
                                if (strbuf_appendf(&list, "%s %s: %s", i ? ";" : "", inv->disks[i].devnode,
                                                   m ? m : p->candidates[i].reason) < 0) {
                                        strbuf_done(&list);
                                        return -ENOMEM;
                                }
                        }
                        r = profile_errors_add(errors, file, s->line, s->column, "disk.select",
                                               "%zu disks match; add a hint (serial, wwn, path, ...) or prefer: "
                                               "first|smallest|largest (%zu disks:%s)",
                                               n_match, inv->n_disks, list.data ? list.data : "");
                        strbuf_done(&list);
                        return r < 0 ? r : -EINVAL;
                }
                for (size_t i = 0; i < inv->n_disks; i++) {
                        if (!p->candidates[i].matches)
                                continue;
                        if ((streq(prefer, "smallest") && inv->disks[i].size < inv->disks[chosen].size) ||
                            (streq(prefer, "largest") && inv->disks[i].size > inv->disks[chosen].size))
                                chosen = i;
                }
                p->target_reason = strprintf("%s of %zu matching disks", prefer, n_match);
        } else
                p->target_reason = strdup(s->path ? "named by disk.select.path" : "the only matching disk");
        if (!p->target_reason)
                return -ENOMEM;

        for (size_t i = 0; i < inv->n_disks; i++)
                if (p->candidates[i].matches && i != chosen) {
                        free(p->candidates[i].reason);
                        p->candidates[i].reason = strdup("matches, but not chosen");
                        if (!p->candidates[i].reason)
                                return -ENOMEM;
                }
        p->target = chosen;
        return 0;
}
