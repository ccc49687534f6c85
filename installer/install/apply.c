/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Applying a plan. Until the install path lands this stops with a clear
 * message and writes nothing. */
#include "basic/log.h"
#include "install/install.h"
#include "plan/plan.h"
#include "report/report.h"

int install_apply(const Plan *plan, const BootParams *bp) {
        report_info("plan ready for %s; the install path is not implemented yet: stopping here, nothing was written",
                    plan_target_disk(plan)->devnode);
        return EXIT_INSTALL_FAILED;
}
