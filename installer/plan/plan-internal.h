/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "plan/plan.h"

int plan_select_disk(Plan *p, ProfileErrors *errors);
int plan_layout(Plan *p, ProfileErrors *errors);
/* The existing partitions the profile preserves (p->preserved), and what
 * becomes of the others (p->keep_table, wipe, summaries). */
int plan_preserve(Plan *p, ProfileErrors *errors);
