/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The key files of the plan's LUKS2 volumes, fetched and checked after the
 * plan and before anything is written: a key that cannot be had stops the
 * install while every disk is still as it was. The key's bytes and the
 * URL's credentials are never printed; the key's first line (a passphrase
 * written as text) and the URL's secrets go to the scrubber as well. */
#include <string.h>

#include "basic/log.h"
#include "basic/sha256.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "install/install.h"
#include "plan/plan.h"
#include "report/report.h"
#include "trust/trust.h"

#define KEY_MAX_SIZE (1024 * 1024) /* bytes; cryptsetup itself reads at most 8 MiB */

void install_keys_done(InstallKeys *k) {
        for (size_t i = 0; i < k->n; i++)
                if (k->v[i].data) {
                        explicit_bzero(k->v[i].data, k->v[i].size);
                        free(k->v[i].data);
                }
        free(k->v);
        *k = (InstallKeys) {};
}

/* The text of a key, line by line, to the scrubber (a key written by hand
 * is a passphrase; binary keys are never printed as text anyway). */
static void key_secrets(const char *data, size_t size) {
        const char *p = data, *end = data + size;

        while (p < end) {
                size_t n = 0;
                while (p + n < end && p[n] != '\n' && p[n] != '\r' && p[n] != 0)
                        n++;
                if (n >= REPORT_SECRET_MIN) {
                        _cleanup_free_ char *line = strndup(p, n);
                        if (line) {
                                (void) report_secret_add(line);
                                explicit_bzero(line, n);
                        }
                }
                p += n + 1;
        }
}

int install_fetch_keys(const Plan *plan, InstallKeys *ret_keys, ProfileErrors *errors) {
        const char *file = plan->profile->filename;
        InstallKeys *keys = ret_keys;
        int r;

        *keys = (InstallKeys) {};
        if (plan->n_luks == 0)
                return EXIT_OK;
        keys->v = new0(InstallKey, plan->n_luks);
        if (!keys->v)
                return EXIT_FAILURE_GENERIC;
        keys->n = plan->n_luks;
        for (size_t i = 0; i < plan->n_luks; i++) {
                const PlanLuks *k = &plan->luks[i];
                const ProfileLuks *l = k->source;
                _cleanup_free_ char *safe = fetch_url_redact(l->key_url), *err = NULL,
                                    *key = strprintf("%s.key_url", k->where);
                FetchOptions o = { .max_size = KEY_MAX_SIZE };
                char digest[65];

                if (!safe || !key)
                        return EXIT_FAILURE_GENERIC;
                (void) report_secret_add_url(l->key_url);
                /* With trusted keys, KEY_URL.sig must be good too (trust.h). */
                r = trust_fetch(l->key_url, &o, &keys->v[i].data, &keys->v[i].size, &err);
                if (trust_is_refusal(r)) {
                        (void) profile_errors_add(errors, file, l->line, l->column, key,
                                                  "the key file of LUKS volume %s: %s", k->name,
                                                  err ? err : strerror(-r));
                        return EXIT_SIGNATURE;
                }
                if (r < 0) {
                        (void) profile_errors_add(errors, file, l->line, l->column, key,
                                                  "cannot fetch the key file of LUKS volume %s: %s", k->name,
                                                  err ? err : strerror(-r));
                        return EXIT_FETCH_FAILED;
                }
                key_secrets(keys->v[i].data, keys->v[i].size);
                if (keys->v[i].size == 0) {
                        (void) profile_errors_add(errors, file, l->line, l->column, key,
                                                  "the key file of LUKS volume %s (%s) is empty", k->name, safe);
                        return EXIT_FETCH_FAILED;
                }
                (void) sha256_hex(keys->v[i].data, keys->v[i].size, digest); /* "" never matches */
                if (l->key_sha256 && !streq(l->key_sha256, digest)) {
                        (void) profile_errors_add(errors, file, l->line, l->column, key,
                                                  "the key file of LUKS volume %s (%s, %zu bytes) does not match "
                                                  "key_sha256: expected %s, got %s",
                                                  k->name, safe, keys->v[i].size, l->key_sha256, digest);
                        return EXIT_CHECKSUM;
                }
                /* The size and whether it was checked, never the bytes (nor
                 * their digest without key_sha256: a short passphrase's
                 * digest can be guessed). */
                report_info("LUKS key for %s: %s, %zu bytes%s", k->name, safe, keys->v[i].size,
                            l->key_sha256 ? ", sha256 verified" : " (no key_sha256 in the profile: not verified)");
        }
        return EXIT_OK;
}
