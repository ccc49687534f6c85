/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A profile file and the files it includes, each verified before it is
 * parsed (installer validate/plan --keys). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "basic/url.h"
#include "profile/profile.h"
#include "trust/trust-profile.h"
#include "ydoc/ydoc.h"

typedef struct Verifier {
        const TrustKeyring *kr;
        size_t n_verified;
        int refusal;            /* the first refusal, or 0 */
        char *refusal_text;
} Verifier;

static void refused(Verifier *v, int r, char **err) {
        if (v->refusal)
                return;
        v->refusal = r;
        v->refusal_text = TAKE_PTR(*err);
}

/* profile_include_file() with the fragment's signature checked first. */
static int include_verified(const char *base, const char *ref, char **ret_name, char **ret_data, size_t *ret_size,
                            void *userdata) {
        Verifier *v = userdata;
        _cleanup_free_ char *name = NULL, *data = NULL, *err = NULL;
        size_t size = 0;
        int r;

        /* The same name and path rules as the unverified loader; its bytes are
         * then read once more, with the signature. */
        r = profile_include_file(base, ref, &name, &data, &size, NULL);
        if (r < 0)
                return r;
        explicit_bzero(data, size);
        free(TAKE_PTR(data));
        r = trust_read_file(v->kr, name, YDOC_MAX_SIZE, &data, &size, NULL, &err);
        if (trust_is_refusal(r)) {
                log_error("%s", err ?: "signature refused");
                refused(v, r, &err);
                return -EKEYREJECTED; /* "cannot include '...': its signature was refused" */
        }
        if (r < 0)
                return r;
        v->n_verified++;
        *ret_name = TAKE_PTR(name);
        *ret_data = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

int trust_profile_load_file(const TrustKeyring *kr, const char *path, Profile **ret, ProfileErrors *errors,
                            size_t *ret_n_verified, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        Verifier v = { .kr = kr };
        size_t size = 0;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!kr || kr->n == 0)
                return profile_load_file(path, ret, errors);
        /* Nothing is parsed, not even to report a syntax error, before the
         * signature is good: a file that cannot be read is an error here. */
        r = trust_read_file(kr, path, YDOC_MAX_SIZE, &data, &size, NULL, ret_error);
        if (r < 0)
                return r;
        v.n_verified = 1;
        r = profile_load_string_full(path, data, size, include_verified, &v, ret, errors);
        explicit_bzero(data, size);
        if (v.refusal) {
                if (r >= 0) { /* cannot be: a refused include is an error */
                        profile_free(*ret);
                        *ret = NULL;
                }
                if (ret_error)
                        *ret_error = TAKE_PTR(v.refusal_text);
                free(v.refusal_text);
                return v.refusal;
        }
        if (r >= 0 && ret_n_verified)
                *ret_n_verified = v.n_verified;
        return r;
}
