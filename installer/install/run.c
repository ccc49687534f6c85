/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `installer run`: detect -> fetch profile -> validate -> plan -> apply.
 * Nothing is written to any disk before the profile and the plan are
 * complete and valid. */
#include <inttypes.h>
#include <openssl/evp.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "install/install.h"
#include "plan/plan.h"
#include "profile/profile.h"
#include "report/report.h"

static void sha256_hex(const char *data, size_t size, char out[static 65]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_Digest(data, size, md, &n, EVP_sha256(), NULL);
        for (unsigned i = 0; i < n && i < 32; i++)
                sprintf(out + 2 * i, "%02x", md[i]);
        out[64] = 0;
}

/* Try every candidate URL in order; the first one that exists wins. A
 * transport error (not a 404) stops the search: falling through to the
 * default profile because a server hiccupped could install the wrong
 * machine. */
static int fetch_profile(const BootParams *bp, const Inventory *inv, char **ret_url, char **ret_data,
                         size_t *ret_size) {
        _cleanup_strv_free_ char **urls = NULL;
        int r;

        r = install_profile_candidates(bp, inv, &urls);
        if (r == -EINVAL)
                return log_error_errno(r, "No profile location: boot with inst.profiles=URL (a directory) or inst.profile=URL");
        if (r < 0)
                return r;

        for (size_t i = 0; urls[i]; i++) {
                _cleanup_free_ char *safe = fetch_url_redact(urls[i]), *err = NULL;
                r = fetch_to_buffer(urls[i], NULL, ret_data, ret_size, &err);
                if (r == -ENOENT) {
                        report_info("profile %s: not found, trying the next", safe ? safe : "?");
                        continue;
                }
                if (r < 0)
                        return log_error_errno(r, "Cannot fetch profile %s", err ? err : "?");
                *ret_url = TAKE_PTR(safe);
                return 0;
        }
        return log_error_errno(-ENOENT, "No profile for this machine: none of the %zu locations exists (mac, uuid, serial, default)",
                               strv_length(urls));
}

int install_run(const BootParams *bp, const InstallOptions *opts) {
        _cleanup_inventory_ Inventory *inv = NULL;
        _cleanup_profile_ Profile *profile = NULL;
        _cleanup_plan_ Plan *plan = NULL;
        _cleanup_free_ char *url = NULL, *data = NULL;
        ProfileErrors errors = {};
        char digest[65];
        size_t size = 0;
        Phase ph;
        int r;

        /* 1. Hardware. */
        report_phase_begin(&ph, "detect", "hardware inventory");
        r = hw_inventory_detect(opts->sysroot, HW_PROBE_SIGNATURES, &inv);
        if (r < 0)
                return report_phase_end(&ph, log_error_errno(r, "Hardware detection failed: %m"), NULL),
                       EXIT_FAILURE_GENERIC;
        report_phase_end(&ph, 0, "%s firmware, %u CPUs, %" PRIu64 " MiB memory, %zu disk%s, %zu NIC%s",
                         firmware_to_string(inv->firmware), inv->cpus, inv->memory / MiB, inv->n_disks,
                         inv->n_disks == 1 ? "" : "s", inv->n_nics, inv->n_nics == 1 ? "" : "s");
        for (size_t i = 0; i < inv->n_disks; i++) {
                char sz[32];
                const HwDisk *d = &inv->disks[i];
                report_info("disk %s %s (%" PRIu64 " bytes) %s%s%s%s", d->devnode, format_bytes(sz, sizeof sz, d->size),
                            d->size, d->transport, d->serial ? " serial " : "", d->serial ? d->serial : "",
                            hw_disk_has_data(d) ? " holds data" : " blank");
        }
        for (size_t i = 0; i < inv->n_nics; i++)
                report_info("nic %s %s driver %s link %s", inv->nics[i].name, inv->nics[i].mac ? inv->nics[i].mac : "?",
                            inv->nics[i].driver ? inv->nics[i].driver : "?", inv->nics[i].carrier ? "up" : "down");
        if (opts->print_inventory) {
                printf("----- BEGIN INVENTORY -----\n");
                hw_inventory_to_json(inv, stdout);
                printf("----- END INVENTORY -----\n");
                fflush(stdout);
        }

        /* 2. Profile. */
        report_phase_begin(&ph, "fetch-profile", NULL);
        r = fetch_profile(bp, inv, &url, &data, &size);
        if (r < 0)
                return report_phase_end(&ph, r, NULL), EXIT_FETCH_FAILED;
        sha256_hex(data, size, digest);
        /* The profile may hold secrets: log its digest, not its text. */
        report_phase_end(&ph, 0, "%s (%zu bytes, sha256 %s)", url, size, digest);

        report_phase_begin(&ph, "validate", "%s", url);
        r = profile_load_string(url, data, size, &profile, &errors);
        if (r < 0) {
                profile_errors_print(stdout, &errors);
                fflush(stdout);
                report_phase_end(&ph, r, "%zu error%s in %s; nothing was written to any disk", errors.n,
                                 errors.n == 1 ? "" : "s", url);
                profile_errors_done(&errors);
                return EXIT_PROFILE_INVALID;
        }
        report_phase_end(&ph, 0, "profile valid: hostname %s", profile->hostname);

        /* 3. Plan. */
        report_phase_begin(&ph, "plan", NULL);
        r = plan_build(inv, profile, &plan, &errors);
        if (r < 0) {
                profile_errors_print(stdout, &errors);
                fflush(stdout);
                report_phase_end(&ph, r, "no plan; nothing was written to any disk");
                profile_errors_done(&errors);
                return EXIT_PLAN_FAILED;
        }
        plan_print_text(plan, stdout);
        report_phase_end(&ph, 0, "target %s%s", plan_target_disk(plan)->devnode, plan->wipe ? " (will be wiped)" : "");

        if (opts->dry_run || bp->dry_run) {
                report_info("dry run: stopping after the plan; nothing was written to any disk");
                return EXIT_OK;
        }

        return install_apply(plan, bp);
}
