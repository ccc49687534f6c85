/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fixture of the plan unit tests (test_plan.c, test_plan_lvm.c): a saved
 * inventory (tests/data/inventory/) and an inline profile, planned. Include
 * after cmocka.h. */
#pragma once

#include "basic/strutil.h"
#include "hw/hw.h"
#include "plan/plan.h"
#include "profile/profile.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEAD "version: 1\nhostname: t1\nimage: {url: http://h/i.tar.zst, sha256: " SHA "}\n"

typedef struct Fixture {
        Inventory *inv;
        Profile *profile;
        Plan *plan;
        ProfileErrors errors;
} Fixture;

/* What a Fixture holds, freed; the Fixture itself stays. */
_unused_ static void fixture_done(Fixture *f) {
        plan_free(f->plan);
        profile_free(f->profile);
        hw_inventory_free(f->inv);
        profile_errors_done(&f->errors);
        *f = (Fixture) {};
}

_unused_ static int fixture_teardown(void **state) {
        Fixture *f = *state;
        if (f) {
                fixture_done(f);
                free(f);
        }
        return 0;
}

_unused_ static int fixture_setup(void **state) {
        *state = new0(Fixture, 1);
        return *state ? 0 : -1;
}

/* Load inventory + profile and build the plan; returns plan_build's result. */
_unused_ static int build(Fixture *f, const char *inventory, const char *yaml) {
        _cleanup_free_ char *path = strprintf("tests/data/inventory/%s", inventory), *err = NULL;
        assert_int_equal(hw_inventory_load_json(path, &f->inv, &err), 0);
        if (profile_load_string("test.yaml", yaml, strlen(yaml), &f->profile, &f->errors) < 0) {
                profile_errors_print(stderr, &f->errors);
                fail_msg("profile does not load");
        }
        return plan_build(f->inv, f->profile, &f->plan, &f->errors);
}

/* The plan as printed: text, or JSON. The caller frees it. */
_unused_ static char *print_plan(const Plan *p, bool json) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        if (json)
                plan_print_json(p, f);
        else
                plan_print_text(p, f);
        assert_int_equal(fclose(f), 0);
        return buf;
}
