/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include "plan/plan.h"
#include "boot/cmdline-prefix.h"

#include <inttypes.h>

#include "basic/json.h"
#include "basic/strutil.h"
#include "basic/url.h"
#include "plan/plan-internal.h"

const HwDisk *plan_target_disk(const Plan *p) {
        return &p->inventory->disks[p->target];
}

const char *part_role_to_string(PartRole r) {
        switch (r) {
        case PART_ROLE_BIOS_BOOT: return "bios-boot";
        case PART_ROLE_ESP: return "esp";
        case PART_ROLE_SWAP: return "swap";
        case PART_ROLE_ROOT: return "root";
        case PART_ROLE_DATA: return "data";
        case PART_ROLE_RAW: return "raw";
        }
        return "?";
}

/* What a wipe of the disk destroys, for the plan and the operator. */
char *plan_describe_contents(const HwDisk *d) {
        StrBuf b = {};
        char sz[32];

        if (d->pttype)
                strbuf_appendf(&b, "%s partition table", d->pttype);
        if (d->fstype)
                strbuf_appendf(&b, "%s%s signature on the whole disk", b.len ? ", " : "", d->fstype);
        if (d->n_partitions) {
                strbuf_appendf(&b, "%s%zu partition%s:", b.len ? ", " : "", d->n_partitions,
                               d->n_partitions == 1 ? "" : "s");
                for (size_t i = 0; i < d->n_partitions; i++) {
                        const HwPartition *p = &d->partitions[i];
                        strbuf_appendf(&b, "%s %s (%s%s%s%s%s)", i ? "," : "", p->name,
                                       format_bytes(sz, sizeof sz, p->size), p->fstype ? " " : "",
                                       p->fstype ? p->fstype : "", p->label ? " label " : "",
                                       p->label ? p->label : "");
                }
        }
        return strbuf_steal(&b);
}

int plan_error(Plan *p, ProfileErrors *errors, unsigned line, unsigned column, const char *key, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = profile_errors_addv(errors, p->profile->filename, line, column, key, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

int plan_build(const Inventory *inv, const Profile *profile, Plan **ret, ProfileErrors *errors) {
        _cleanup_plan_ Plan *p = new0(Plan, 1);
        const HwDisk *disk;
        int r;

        if (!p)
                return -ENOMEM;
        p->profile = profile;
        p->inventory = inv;
        /* disk.firmware overrides what the machine booted with: a machine
         * PXE-booted in legacy mode may be meant to run UEFI, and the
         * other way round. */
        switch (profile->disk.firmware) {
        case DISK_FIRMWARE_AUTO:
                p->firmware = inv->firmware;
                break;
        case DISK_FIRMWARE_BIOS:
                p->firmware = FIRMWARE_BIOS;
                p->firmware_from_profile = true;
                break;
        case DISK_FIRMWARE_UEFI:
                p->firmware = FIRMWARE_UEFI;
                p->firmware_from_profile = true;
                break;
        }

        r = plan_select_disk(p, errors);
        if (r < 0)
                return r;
        disk = plan_target_disk(p);
        r = plan_select_mirror(p, errors);
        if (r < 0)
                return r;

        /* Reinstall: partitions to keep, and what the others hold. */
        r = plan_preserve(p, errors);
        if (r < 0)
                return r;

        /* Data safety: a disk that holds anything is only wiped when the
         * profile says so, or when it is this installer's own unfinished
         * install on this machine (its install-in-progress mark; a mark
         * that does not match is trusted for nothing). For a reinstall,
         * plan_preserve() decided. */
        if (!p->keep_table) {
                r = plan_unfinished(p, disk, true, &p->mark_note);
                if (r < 0)
                        return r;
        }
        if (!p->keep_table && hw_disk_has_data(disk)) {
                _cleanup_free_ char *what = plan_describe_contents(disk);
                if (!what)
                        return -ENOMEM;
                if (r == 0 && !profile->disk.wipe) {
                        r = profile_errors_add(errors, profile->filename, profile->disk.select.line,
                                               profile->disk.select.column, "disk.wipe",
                                               "refusing to use %s: it holds data (%s)%s%s; set disk.wipe: true to allow wiping it",
                                               disk->devnode, what, p->mark_note ? "; it carries " : "",
                                               p->mark_note ? p->mark_note : "");
                        return r < 0 ? r : -EINVAL;
                }
                p->wipe = true;
                p->wipe_reason = r == 1 ? PLAN_WIPE_UNFINISHED : PLAN_WIPE_PROFILE;
                p->wipe_summary = TAKE_PTR(what);
        }

        r = plan_layout(p, errors);
        if (r < 0)
                return r;
        r = plan_storage(p, errors);
        if (r < 0)
                return r;
        r = plan_luks(p, errors);
        if (r < 0)
                return r;
        r = plan_lvm(p, errors);
        if (r < 0)
                return r;
        r = plan_volumes(p, errors);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

void plan_free(Plan *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_candidates; i++)
                free(p->candidates[i].reason);
        free(p->candidates);
        free(p->partitions);
        free(p->raids);
        plan_luks_free(p);
        plan_lvm_free(p);
        plan_volumes_free(p);
        free(p->mirror_reason);
        free(p->mirror_wipe_summary);
        free(p->target_reason);
        free(p->wipe_summary);
        free(p->mark_note);
        free(p->mirror_mark_note);
        free(p->keep_summary);
        free(p->preserved);
        free(p);
}

/* ---- printing ---------------------------------------------------------------- */

static const char *yes_no(bool b) {
        return b ? "yes" : "no";
}

static void print_users(const Profile *pr, FILE *f) {
        if (pr->n_users == 0) {
                fprintf(f, "  Users:      none\n");
                return;
        }
        for (size_t i = 0; i < pr->n_users; i++) {
                const ProfileUser *u = &pr->users[i];
                const char *pw = u->lock ? "locked" : !u->password_hash ? "none" :
                                 (streq(u->password_hash, "!") || streq(u->password_hash, "*")) ? "locked" : "hash set";
                /* The hash itself is a secret: never printed. */
                fprintf(f, "  %s %s (password: %s, ssh keys: %zu, sudo: %s", i ? "           " : "Users:     ", u->name,
                        pw, strv_length(u->ssh_authorized_keys), yes_no(u->sudo));
                for (size_t k = 0; u->groups && u->groups[k]; k++)
                        fprintf(f, "%s%s", k ? "," : ", groups: ", u->groups[k]);
                fputs(")\n", f);
        }
}

/* The system sections, each only when the profile has it (file URLs redacted,
 * file contents and commands not printed). */
static void print_system(const Profile *pr, FILE *f) {
        static const char *const prl[] = { "image's", "no", "prohibit-password", "yes" };

        for (size_t i = 0; i < pr->n_groups; i++)
                fprintf(f, "  %s %s (gid %s%s)\n", i ? "           " : "Groups:    ", pr->groups[i].name,
                        pr->groups[i].has_gid ? "fixed" : "allocated", pr->groups[i].system ? ", system" : "");
        if (pr->ssh.permit_root_login || pr->ssh.has_password_authentication)
                fprintf(f, "  SSH:        root login %s, password authentication %s\n",
                        prl[pr->ssh.permit_root_login < ELEMENTSOF(prl) ? pr->ssh.permit_root_login : 0],
                        !pr->ssh.has_password_authentication ? "image's" : yes_no(pr->ssh.password_authentication));
        for (size_t i = 0; i < pr->n_files; i++) {
                const ProfileFile *fi = &pr->files[i];
                _cleanup_free_ char *url = fi->url ? url_redact(fi->url) : NULL;
                fprintf(f, "  %s %s (%04o %s:%s, %s%s)\n", i ? "           " : "Files:     ", fi->path,
                        (unsigned) fi->mode, fi->owner ?: "root", fi->group ?: "root", fi->url ? "from " : "content",
                        fi->url ? (url ?: "?") : "");
        }
        if (pr->packages && pr->packages[0]) {
                _cleanup_free_ char *mirror = pr->apt_mirror ? url_redact(pr->apt_mirror) : NULL;
                fprintf(f, "  Packages:  ");
                for (size_t i = 0; pr->packages[i]; i++)
                        fprintf(f, " %s", pr->packages[i]);
                if (pr->apt_mirror)
                        fprintf(f, " (apt-get in a chroot, from %s)\n", mirror ?: "?");
                else
                        fprintf(f, " (at the first boot: no apt mirror)\n");
        }
        if (pr->n_post_install > 0) {
                size_t opt = 0;
                for (size_t i = 0; i < pr->n_post_install; i++)
                        opt += pr->post_install[i].optional;
                fprintf(f, "  Post-install: %zu command%s in a chroot (%zu optional)\n", pr->n_post_install,
                        pr->n_post_install == 1 ? "" : "s", opt);
        }
        if (pr->timezone)
                fprintf(f, "  Time zone:  %s\n", pr->timezone);
        if (pr->locale)
                fprintf(f, "  Locale:     %s\n", pr->locale);
        if (pr->has_keyboard)
                fprintf(f, "  Keyboard:   %s%s%s\n", pr->keyboard.layout ?: "us", pr->keyboard.variant ? " " : "",
                        pr->keyboard.variant ?: "");
        for (size_t i = 0; pr->ntp && pr->ntp[i]; i++)
                fprintf(f, "%s%s%s", i ? " " : "  NTP:        ", pr->ntp[i], pr->ntp[i + 1] ? "" : "\n");
}

static void print_network(const Profile *pr, FILE *f) {
        if (pr->network.n_interfaces == 0) {
                fprintf(f, "  Network:    DHCP on every NIC with link (no network section)\n");
                return;
        }
        for (size_t i = 0; i < pr->network.n_interfaces; i++) {
                const ProfileInterface *e = &pr->network.interfaces[i];
                fprintf(f, "  %s %s (%s)", i ? "           " : "Network:   ", e->id, net_kind_to_section(e->kind));
                if (e->kind == NET_ETHERNET)
                        fprintf(f, ": match %s%s", e->match_mac ? "mac " : e->match_driver && !e->match_name ? "driver " : "name ",
                                e->match_mac ?: e->match_name ?: e->match_driver ?: e->id);
                if (e->set_name)
                        fprintf(f, ", set-name %s", e->set_name);
                for (size_t k = 0; e->interfaces && e->interfaces[k]; k++)
                        fprintf(f, "%s%s", k ? "," : ": interfaces ", e->interfaces[k]);
                if (e->kind == NET_VLAN)
                        fprintf(f, ": id %u on %s", e->vlan_id, e->vlan_link);
                if (e->master)
                        fprintf(f, ", member of %s", e->master->id);
                if (e->dhcp4)
                        fprintf(f, ", dhcp4");
                if (e->dhcp6)
                        fprintf(f, ", dhcp6");
                for (size_t k = 0; e->addresses && e->addresses[k]; k++)
                        fprintf(f, ", %s", e->addresses[k]);
                if (e->gateway4)
                        fprintf(f, ", gateway %s", e->gateway4);
                fputc('\n', f);
        }
}

static void print_kernel_append(const Plan *p, FILE *f) {
        if (p->profile->kernel_append)
                fprintf(f, "  Cmdline:    " BOOT_CMDLINE_PREFIX_FMT " %s\n", "...", p->profile->kernel_append);
}

/* Where the bootloader goes (written last, by install_apply()). */
static void print_boot(const Plan *p, FILE *f) {
        for (size_t i = 0; i < p->n_partitions; i++) {
                const PlanPartition *pl = &p->partitions[i];
                if (p->firmware == FIRMWARE_UEFI && pl->role == PART_ROLE_ESP) {
                        fprintf(f, "  Boot:       systemd-boot on partition %u (EFI system partition), "
                                   "kernel and initrd copied there, NVRAM entry\n", pl->number);
                        print_kernel_append(p, f);
                        return;
                }
                if (p->firmware == FIRMWARE_BIOS && (pl->legacy_boot || pl->boot_flag)) {
                        fprintf(f, "  Boot:       extlinux on partition %u, %s boot code\n", pl->number,
                                p->table == PARTITION_TABLE_GPT ? "gptmbr.bin" : "mbr.bin");
                        print_kernel_append(p, f);
                        return;
                }
        }
        fprintf(f, "  Boot:       ?\n");
}

void plan_print_text(const Plan *p, FILE *f) {
        const Profile *pr = p->profile;
        const HwDisk *disk = plan_target_disk(p);
        char a[32], b[32];
        _cleanup_free_ char *image = NULL;

        fprintf(f, "Plan for %s (profile %s)\n", pr->hostname, pr->filename);
        if (p->firmware_from_profile)
                fprintf(f, "  Firmware:   %s (disk.firmware; the machine booted with %s)\n", firmware_to_string(p->firmware),
                        firmware_to_string(p->inventory->firmware));
        else
                fprintf(f, "  Firmware:   %s (detected)\n", firmware_to_string(p->firmware));
        print_boot(p, f);
        fprintf(f, "  Target:     %s  %s  %s%s%s%s%s — %s\n", disk->devnode, format_bytes(a, sizeof a, disk->size),
                disk->transport ? disk->transport : "unknown", disk->model ? "  model " : "",
                disk->model ? disk->model : "", disk->serial ? "  serial " : "", disk->serial ? disk->serial : "",
                p->target_reason);
        for (size_t i = 0; i < p->n_candidates; i++) {
                const HwDisk *d = &p->inventory->disks[p->candidates[i].disk];
                fprintf(f, "  %s %-14s %-10s %s\n", i ? "           " : "Disks:     ", d->devnode,
                        format_bytes(a, sizeof a, d->size),
                        p->candidates[i].disk == p->target ? "TARGET" : p->candidates[i].reason);
        }
        if (p->keep_table) {
                if (p->wipe && p->wipe_reason == PLAN_WIPE_UNFINISHED)
                        fprintf(f, "  Wipe:       YES — %s holds %s: destroyed: %s; redone without disk.wipe\n",
                                disk->devnode, p->mark_note, p->wipe_summary);
                else if (p->wipe)
                        fprintf(f, "  Wipe:       YES — destroyed on %s: %s\n", disk->devnode, p->wipe_summary);
                else
                        fprintf(f, "  Wipe:       nothing (every existing partition of %s is preserved)\n", disk->devnode);
                fprintf(f, "  Keep:       %s: %s — never moved, wiped or formatted\n", disk->devnode, p->keep_summary);
        } else if (p->wipe && p->wipe_reason == PLAN_WIPE_UNFINISHED)
                fprintf(f, "  Wipe:       YES — %s holds %s: %s; redone without disk.wipe\n", disk->devnode,
                        p->mark_note, p->wipe_summary);
        else if (p->wipe)
                fprintf(f, "  Wipe:       YES — %s will be erased: %s\n", disk->devnode, p->wipe_summary);
        else
                fprintf(f, "  Wipe:       nothing (%s is blank)\n", disk->devnode);
        if (p->mark_note && p->wipe_reason != PLAN_WIPE_UNFINISHED)
                fprintf(f, "  Mark:       %s carries %s\n", disk->devnode, p->mark_note);
        const HwDisk *mirror = plan_mirror_disk(p);
        if (mirror) {
                fprintf(f, "  Mirror:     %s  %s  %s%s%s — %s (disk.mirror: RAID1, the same partition table)\n",
                        mirror->devnode, format_bytes(a, sizeof a, mirror->size),
                        mirror->transport ? mirror->transport : "unknown", mirror->serial ? "  serial " : "",
                        mirror->serial ? mirror->serial : "", p->mirror_reason);
                if (p->mirror_wipe && p->mirror_wipe_reason == PLAN_WIPE_UNFINISHED)
                        fprintf(f, "  Wipe:       YES — %s holds %s: %s; redone without disk.wipe\n", mirror->devnode,
                                p->mirror_mark_note, p->mirror_wipe_summary);
                else if (p->mirror_wipe)
                        fprintf(f, "  Wipe:       YES — %s will be erased: %s\n", mirror->devnode, p->mirror_wipe_summary);
                else
                        fprintf(f, "  Wipe:       nothing (%s is blank)\n", mirror->devnode);
                if (p->mirror_mark_note && p->mirror_wipe_reason != PLAN_WIPE_UNFINISHED)
                        fprintf(f, "  Mark:       %s carries %s\n", mirror->devnode, p->mirror_mark_note);
        }
        fprintf(f, "  Other disks: never written\n");
        fprintf(f, "  Table:      %s%s%s\n", partition_table_to_string(p->table),
                p->keep_table ? " (the existing table, edited: preserved partitions stay)" : "",
                mirror ? " (on both disks)" : "");
        fprintf(f, "    %-3s %-10s %-10s %-9s %-5s %-10s %s\n", "#", "start", "size", "role", "fs", "mount", "label");
        for (size_t i = 0; i < p->n_partitions; i++) {
                const PlanPartition *pl = &p->partitions[i];
                if (pl->preserve) {
                        fprintf(f, "    %-3u %-10s %-10s %-9s %-5s %-10s KEPT %s (%s%s%s)\n", pl->number,
                                format_bytes(a, sizeof a, pl->start), format_bytes(b, sizeof b, pl->size), "preserved",
                                pl->fstype ? pl->fstype : "-", pl->mount ? pl->mount : "-", pl->existing,
                                pl->fs_uuid ? "UUID " : "no UUID", pl->fs_uuid ? pl->fs_uuid : "",
                                pl->source && pl->source->preserve.by == PRESERVE_LABEL ? ", by label" :
                                pl->source && pl->source->preserve.by == PRESERVE_NUMBER ? ", by number" : "");
                        continue;
                }
                const PlanRaid *raid = plan_partition_raid(p, pl);
                const PlanVg *vg = plan_partition_vg(p, pl);
                fprintf(f, "    %-3u %-10s %-10s %-9s %-5s %-10s %s%s%s%s%s%s\n", pl->number, format_bytes(a, sizeof a, pl->start),
                        format_bytes(b, sizeof b, pl->size), raid ? "raid" : vg ? "lvm-pv" : part_role_to_string(pl->role),
                        pl->fs == FS_NONE ? "-" : fs_type_to_string(pl->fs), pl->mount ? pl->mount : "-",
                        pl->label ? pl->label : "-",
                        !pl->automatic ? "" : pl->role == PART_ROLE_ESP ? "  (added: UEFI boot)" : "  (added: BIOS boot)",
                        raid ? "  member of " : "", raid ? raid->name : "",
                        vg ? "  physical volume of " : "", vg ? vg->name : "");
        }
        /* The stack: disk -> partition -> array -> filesystem -> mount. */
        for (size_t i = 0; i < p->n_raids; i++) {
                const PlanRaid *r = &p->raids[i];
                const ProfileRaid *src = r->source;
                fprintf(f, "  %s /dev/%s RAID1 (mdadm, metadata %s%s) = %s partition %u + %s partition %u (%s each)"
                           " -> %s%s%s%s%s%s\n",
                        i ? "          " : "RAID:     ", r->name, r->metadata,
                        r->holds_boot ? ": extlinux boots from either member" : "", disk->devnode, r->member,
                        mirror ? mirror->devnode : "?", r->member, format_bytes(a, sizeof a, r->size),
                        src->lvm ? "physical volume of " : fs_type_to_string(src->fs), src->lvm ? src->lvm : "",
                        src->mount ? " at " : "", src->mount ? src->mount : "",
                        src->label ? ", label " : "", src->label ? src->label : "");
        }
        plan_print_luks_text(p, f);
        plan_lvm_print_text(p, f);
        image = url_redact(pr->image.url);
        fprintf(f, "  Image:      %s\n", image ? image : "?");
        if (pr->image.sha256)
                fprintf(f, "  Checksum:   sha256 %s\n", pr->image.sha256);
        else if (!pr->image.manifest)
                fprintf(f, "  Checksum:   none\n"
                           "WARNING: image checksum not verified (insecure_no_checksum)\n");
        if (pr->image.manifest) {
                _cleanup_free_ char *manifest = url_redact(pr->image.manifest);
                fprintf(f, "  Manifest:   %s (every chunk checked before it is unpacked)\n", manifest ? manifest : "?");
        }
        fprintf(f, "  Hostname:   %s\n", pr->hostname);
        print_users(pr, f);
        print_system(pr, f);
        print_network(pr, f);
        fprintf(f, "  First boot: %s\n", pr->firstboot ? "cloud-init user-data from the profile" : "none");
        fflush(f);
}

void plan_print_json(const Plan *p, FILE *f) {
        const Profile *pr = p->profile;
        const HwDisk *disk = plan_target_disk(p);
        JsonWriter j = JSON_WRITER_INIT(f);
        _cleanup_free_ char *image = url_redact(pr->image.url);

        jsonw_object_begin(&j, NULL);
        jsonw_string(&j, "hostname", pr->hostname);
        jsonw_string(&j, "profile", pr->filename);
        jsonw_string(&j, "firmware", firmware_to_string(p->firmware));
        jsonw_string(&j, "firmware_source", p->firmware_from_profile ? "profile" : "detected");
        jsonw_string(&j, "bootloader", p->firmware == FIRMWARE_UEFI ? "systemd-boot" : "extlinux");
        jsonw_string(&j, "kernel_append", pr->kernel_append);
        jsonw_object_begin(&j, "target");
        jsonw_string(&j, "devnode", disk->devnode);
        jsonw_u64(&j, "size_bytes", disk->size);
        jsonw_string(&j, "transport", disk->transport);
        jsonw_string(&j, "model", disk->model);
        jsonw_string(&j, "serial", disk->serial);
        jsonw_string(&j, "reason", p->target_reason);
        jsonw_bool(&j, "wipe", p->wipe);
        jsonw_string(&j, "wipe_summary", p->wipe_summary);
        jsonw_string(&j, "wipe_reason", plan_wipe_reason_to_string(p->wipe_reason));
        jsonw_string(&j, "install_mark", p->mark_note);
        jsonw_bool(&j, "keep_table", p->keep_table);
        jsonw_string(&j, "keep_summary", p->keep_summary);
        jsonw_object_end(&j);
        jsonw_array_begin(&j, "disks");
        for (size_t i = 0; i < p->n_candidates; i++) {
                jsonw_object_begin(&j, NULL);
                jsonw_string(&j, "devnode", p->inventory->disks[p->candidates[i].disk].devnode);
                jsonw_bool(&j, "target", p->candidates[i].disk == p->target);
                jsonw_bool(&j, "matches", p->candidates[i].matches);
                jsonw_string(&j, "reason", p->candidates[i].reason);
                jsonw_object_end(&j);
        }
        jsonw_array_end(&j);
        const HwDisk *mirror = plan_mirror_disk(p);
        if (mirror) {
                jsonw_object_begin(&j, "mirror");
                jsonw_string(&j, "devnode", mirror->devnode);
                jsonw_u64(&j, "size_bytes", mirror->size);
                jsonw_string(&j, "transport", mirror->transport);
                jsonw_string(&j, "serial", mirror->serial);
                jsonw_string(&j, "reason", p->mirror_reason);
                jsonw_bool(&j, "wipe", p->mirror_wipe);
                jsonw_string(&j, "wipe_summary", p->mirror_wipe_summary);
                jsonw_string(&j, "wipe_reason", plan_wipe_reason_to_string(p->mirror_wipe_reason));
                jsonw_string(&j, "install_mark", p->mirror_mark_note);
                jsonw_object_end(&j);
        }
        jsonw_array_begin(&j, "raid");
        for (size_t i = 0; i < p->n_raids; i++) {
                const PlanRaid *r = &p->raids[i];
                jsonw_object_begin(&j, NULL);
                jsonw_string(&j, "name", r->name);
                jsonw_u64(&j, "level", 1);
                jsonw_string(&j, "metadata", r->metadata);
                jsonw_u64(&j, "member_partition", r->member);
                jsonw_u64(&j, "member_size_bytes", r->size);
                jsonw_array_begin(&j, "disks");
                jsonw_string(&j, NULL, plan_target_disk(p)->devnode);
                jsonw_string(&j, NULL, mirror ? mirror->devnode : NULL);
                jsonw_array_end(&j);
                jsonw_bool(&j, "holds_boot", r->holds_boot);
                jsonw_string(&j, "fs", r->source->fs == FS_NONE ? NULL : fs_type_to_string(r->source->fs));
                jsonw_string(&j, "mount", r->source->mount);
                jsonw_string(&j, "label", r->source->label);
                jsonw_object_end(&j);
        }
        jsonw_array_end(&j);
        plan_print_luks_json(p, &j);
        plan_lvm_print_json(p, &j);
        plan_volumes_print_json(p, &j);
        jsonw_string(&j, "table", partition_table_to_string(p->table));
        jsonw_array_begin(&j, "partitions");
        for (size_t i = 0; i < p->n_partitions; i++) {
                const PlanPartition *pl = &p->partitions[i];
                jsonw_object_begin(&j, NULL);
                jsonw_u64(&j, "number", pl->number);
                jsonw_u64(&j, "start_bytes", pl->start);
                jsonw_u64(&j, "size_bytes", pl->size);
                jsonw_string(&j, "role", part_role_to_string(pl->role));
                jsonw_string(&j, "fs", pl->fs == FS_NONE ? NULL : fs_type_to_string(pl->fs));
                jsonw_string(&j, "mount", pl->mount);
                jsonw_string(&j, "label", pl->label);
                jsonw_string(&j, "name", pl->name);
                jsonw_string(&j, "mount_options", pl->mount_options);
                jsonw_bool(&j, "auto", pl->automatic);
                jsonw_bool(&j, "preserve", pl->preserve);
                if (plan_partition_raid(p, pl))
                        jsonw_string(&j, "raid", plan_partition_raid(p, pl)->name);
                if (plan_partition_vg(p, pl))
                        jsonw_string(&j, "lvm", plan_partition_vg(p, pl)->name);
                if (pl->preserve) {
                        jsonw_string(&j, "existing", pl->existing);
                        jsonw_string(&j, "existing_fstype", pl->fstype);
                        jsonw_string(&j, "fs_uuid", pl->fs_uuid);
                }
                jsonw_object_end(&j);
        }
        jsonw_array_end(&j);
        jsonw_object_begin(&j, "image");
        jsonw_string(&j, "url", image);
        jsonw_string(&j, "sha256", pr->image.sha256);
        jsonw_bool(&j, "insecure_no_checksum", !pr->image.sha256 && !pr->image.manifest);
        if (pr->image.manifest) {
                _cleanup_free_ char *manifest = url_redact(pr->image.manifest);
                jsonw_string(&j, "manifest", manifest);
        }
        jsonw_object_end(&j);
        jsonw_array_begin(&j, "users");
        for (size_t i = 0; i < pr->n_users; i++) {
                const ProfileUser *u = &pr->users[i];
                jsonw_object_begin(&j, NULL);
                jsonw_string(&j, "name", u->name);
                jsonw_bool(&j, "password_set", u->password_hash && !streq(u->password_hash, "!") &&
                                                      !streq(u->password_hash, "*"));
                jsonw_u64(&j, "ssh_keys", strv_length(u->ssh_authorized_keys));
                jsonw_bool(&j, "sudo", u->sudo);
                jsonw_object_end(&j);
        }
        jsonw_array_end(&j);
        jsonw_array_begin(&j, "network");
        for (size_t i = 0; i < pr->network.n_interfaces; i++) {
                const ProfileInterface *e = &pr->network.interfaces[i];
                jsonw_object_begin(&j, NULL);
                jsonw_string(&j, "id", e->id);
                jsonw_string(&j, "kind", net_kind_to_section(e->kind));
                jsonw_string(&j, "match_mac", e->match_mac);
                jsonw_string(&j, "match_name", e->match_name);
                jsonw_string(&j, "match_driver", e->match_driver);
                jsonw_string(&j, "set_name", e->set_name);
                jsonw_string(&j, "member_of", e->master ? e->master->id : NULL);
                if (e->kind == NET_VLAN) {
                        jsonw_u64(&j, "vlan_id", e->vlan_id);
                        jsonw_string(&j, "vlan_link", e->vlan_link);
                }
                jsonw_array_begin(&j, "interfaces");
                for (size_t k = 0; e->interfaces && e->interfaces[k]; k++)
                        jsonw_string(&j, NULL, e->interfaces[k]);
                jsonw_array_end(&j);
                jsonw_bool(&j, "dhcp4", e->dhcp4);
                jsonw_bool(&j, "dhcp6", e->dhcp6);
                jsonw_array_begin(&j, "addresses");
                for (size_t k = 0; e->addresses && e->addresses[k]; k++)
                        jsonw_string(&j, NULL, e->addresses[k]);
                jsonw_array_end(&j);
                jsonw_string(&j, "gateway4", e->gateway4);
                jsonw_object_end(&j);
        }
        jsonw_array_end(&j);
        jsonw_bool(&j, "firstboot", pr->firstboot != NULL);
        jsonw_object_end(&j);
        jsonw_finish(&j);
}
