/* SPDX-License-Identifier: GPL-2.0-or-later */
/* timeouts: how long one post_install command and one apt-get call for
 * packages: may run, in seconds, before it is killed with its process group
 * and the install fails. */
#include "profile/profile-internal.h"

static void parse_post_install(Checker *c, const YNode *v, void *userdata) {
        uint64_t u;

        if (ck_uint(c, v, PROFILE_TIMEOUT_MIN_S, PROFILE_TIMEOUT_MAX_S, &u))
                ((Profile *) userdata)->timeout_post_install_s = (unsigned) u;
}

static void parse_packages(Checker *c, const YNode *v, void *userdata) {
        uint64_t u;

        if (ck_uint(c, v, PROFILE_TIMEOUT_MIN_S, PROFILE_TIMEOUT_MAX_S, &u))
                ((Profile *) userdata)->timeout_packages_s = (unsigned) u;
}

void profile_parse_timeouts(Checker *c, const YNode *v, void *userdata) {
        static const Field fields[] = {
                { "post_install", parse_post_install, false },
                { "packages", parse_packages, false },
        };

        (void) ck_fields(c, v, fields, ELEMENTSOF(fields), userdata);
}
