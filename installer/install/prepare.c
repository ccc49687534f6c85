/* SPDX-License-Identifier: GPL-2.0-or-later */
/* From a loaded profile and an inventory to a plan: the match: block checked,
 * then the plan built. One path for `installer plan` (offline, quiet) and
 * `installer run` (each step a phase). Nothing here writes to a disk. */
#include "install/install.h"
#include "plan/plan.h"
#include "profile/profile.h"
#include "report/report.h"

int install_plan(const Inventory *inv, const Profile *profile, bool phases, Plan **ret_plan, ProfileErrors *errors) {
        Phase ph;
        int r;

        /* Is this profile really for this machine? */
        if (phases)
                report_phase_begin(&ph, "match", NULL);
        r = profile_match_check(profile, inv, errors);
        if (r < 0) {
                if (phases)
                        report_phase_end(&ph, r,
                                         "the profile is not for this machine (%zu disagreement%s with its match: block); "
                                         "nothing was written to any disk",
                                         errors->n, errors->n == 1 ? "" : "s");
                return r == -EINVAL ? EXIT_PROFILE_MISMATCH : EXIT_FAILURE_GENERIC;
        }
        if (phases)
                report_phase_end(&ph, 0, "%s",
                                 profile->match.source ? "this machine matches the profile's match: block"
                                                       : "the profile has no match: block");

        if (phases)
                report_phase_begin(&ph, "plan", NULL);
        r = plan_build(inv, profile, ret_plan, errors);
        if (r < 0) {
                if (phases)
                        report_phase_end(&ph, r, "no plan; nothing was written to any disk");
                return r == -ENOMEM || errors->n == 0 ? EXIT_FAILURE_GENERIC : EXIT_PLAN_FAILED;
        }
        if (phases) {
                plan_print_text(*ret_plan, stdout);
                report_phase_end(&ph, 0, "target %s%s", plan_target_disk(*ret_plan)->devnode,
                                 (*ret_plan)->wipe ? " (will be wiped)" : "");
        }
        return EXIT_OK;
}
