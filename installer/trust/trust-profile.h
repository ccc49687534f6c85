/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "profile/profile.h"
#include "trust/trust.h"

/* profile_load_file() with the profile file and every file it includes
 * verified with kr (FILE against FILE.sig, trust_read_file()) before it is
 * parsed. kr NULL or empty: exactly profile_load_file(). Returns what
 * profile_load_file() returns (*ret_n_verified: documents verified), read
 * errors of the profile file with *ret_error, or a refusal (trust.h) with
 * *ret_error: of the profile itself (nothing parsed), or of an included file
 * (then also a profile error at its include, "its signature was refused",
 * and the message logged). */
int trust_profile_load_file(const TrustKeyring *kr, const char *path, Profile **ret, ProfileErrors *errors,
                            size_t *ret_n_verified, char **ret_error);
