/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fetching a document and its detached signature, verified before the
 * caller sees a byte of it; the keyring of the process. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "basic/strutil.h"
#include "trust/trust.h"

static TrustKeyring *process_keyring;

void trust_set_keyring(TrustKeyring *kr) {
        trust_keyring_free(process_keyring);
        process_keyring = kr;
}

const TrustKeyring *trust_get_keyring(void) {
        return process_keyring;
}

bool trust_required(void) {
        return process_keyring && process_keyring->n > 0;
}

int trust_fetch_with(const TrustKeyring *kr, const char *url, const FetchOptions *o, char **ret, size_t *ret_size,
                     const TrustKey **ret_key, char **ret_error) {
        _cleanup_free_ char *data = NULL, *sig = NULL, *sig_url = NULL, *safe = NULL, *safe_sig = NULL, *err = NULL;
        size_t size = 0, sig_size = 0;
        FetchOptions so = {};
        int r;

        if (!url || !ret || !ret_size)
                return -EINVAL;
        if (ret_key)
                *ret_key = NULL;
        if (ret_error)
                *ret_error = NULL;
        r = fetch_to_buffer(url, o, &data, &size, ret_error);
        if (r < 0)
                return r;
        if (kr && kr->n > 0) {
                sig_url = trust_sig_url(url);
                safe = fetch_url_redact(url);
                safe_sig = sig_url ? fetch_url_redact(sig_url) : NULL;
                if (!safe || !safe_sig) {
                        explicit_bzero(data, size);
                        return -ENOMEM;
                }
                /* The document's options (retries, timeout, token), a signature's size. */
                if (o)
                        so = *o;
                so.max_size = TRUST_SIG_MAX_SIZE;
                r = fetch_to_buffer(sig_url, &so, &sig, &sig_size, &err);
                if (r == -ENOENT)
                        r = -ENOMSG;
                if (r == -ENOMSG || r == -EFBIG) {
                        free(err);
                        err = r == -ENOMSG ? strprintf("%s: signature refused: no signature (%s: not found)", safe, safe_sig)
                                           : strprintf("%s: signature refused: malformed signature file: larger than "
                                                       "%d bytes",
                                                       safe, TRUST_SIG_MAX_SIZE);
                        r = r == -EFBIG ? -EBADE : r;
                } else if (r < 0) {
                        /* Not a refusal: the signature could not be had (a fetch failure). */
                        char *m = strprintf("cannot fetch the signature of %s: %s", safe, err ?: strerror(-r));
                        free(err);
                        err = m;
                } else
                        r = trust_verify_key(kr, safe, data, size, sig, sig_size, (uint64_t) time(NULL), ret_key,
                                             &err);
                if (r < 0) {
                        explicit_bzero(data, size);
                        if (ret_error)
                                *ret_error = TAKE_PTR(err);
                        return r;
                }
        }
        *ret = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

int trust_fetch(const char *url, const FetchOptions *o, char **ret, size_t *ret_size, char **ret_error) {
        return trust_fetch_with(process_keyring, url, o, ret, ret_size, NULL, ret_error);
}
