/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "basic/json.h"
#include "plan/plan.h"

/* A plan-time error at the profile position LINE:COLUMN (of the profile's
 * main file) under KEY: added to errors; returns -EINVAL (or -ENOMEM). */
int plan_error(Plan *p, ProfileErrors *errors, unsigned line, unsigned column, const char *key, const char *fmt, ...)
        _printf_(6, 7);

int plan_select_disk(Plan *p, ProfileErrors *errors);
int plan_layout(Plan *p, ProfileErrors *errors);
/* storage.c: the mirror disk (after the target is chosen), and the arrays
 * (after the layout). */
int plan_select_mirror(Plan *p, ProfileErrors *errors);
int plan_storage(Plan *p, ProfileErrors *errors);
/* lvm.c: the volume groups and their logical volumes (after the arrays). */
int plan_lvm(Plan *p, ProfileErrors *errors);
void plan_lvm_free(Plan *p);
void plan_lvm_print_text(const Plan *p, FILE *f);
void plan_lvm_print_json(const Plan *p, JsonWriter *j);
/* The existing partitions the profile preserves (p->preserved), and what
 * becomes of the others (p->keep_table, wipe, summaries). */
int plan_preserve(Plan *p, ProfileErrors *errors);
/* select.c: NULL when disk d matches s, else why not (static or in *buf). */
const char *plan_disk_mismatch(const HwDisk *d, const DiskSelect *s, char **buf);
/* mark.c: 1 when d carries this installer's unfinished install
 * (plan_mark_verdict() OURS), else 0; *ret_note: what the printed plan
 * says about d's mark ("this installer's unfinished install (started
 * ...Z)", or "an install-in-progress mark ... not trusted: WHY"), NULL
 * without a mark. -ENOMEM. */
int plan_unfinished(const Plan *p, const HwDisk *d, bool whole_disk, char **ret_note);
/* plan.c: what wiping d destroys, for the operator. */
char *plan_describe_contents(const HwDisk *d);
/* luks.c: the LUKS2 volumes (after plan_storage()), and their lines in the
 * printed plan. */
int plan_luks(Plan *p, ProfileErrors *errors);
void plan_luks_free(Plan *p);
void plan_print_luks_text(const Plan *p, FILE *f);
void plan_print_luks_json(const Plan *p, JsonWriter *j);
/* volumes.c: the volume list and the mount order (last: after plan_lvm()),
 * with the limits that need all of it. */
int plan_volumes(Plan *p, ProfileErrors *errors);
void plan_volumes_free(Plan *p);
void plan_volumes_print_json(const Plan *p, JsonWriter *j);
