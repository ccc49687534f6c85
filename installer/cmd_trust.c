/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The commands of signing (docs/trust.md): keygen, sign, verify. Option
 * tables and one call each into trust/. */
#include <getopt.h>
#include <stdlib.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "basic/url.h"
#include "cmd_trust.h"
#include "install/install.h"
#include "trust/trust.h"

int cmd_trust_keyring(const char *path, TrustKeyring **ret) {
        _cleanup_free_ char *err = NULL;
        TrustKeyring *kr = NULL;
        int r;

        r = trust_keyring_load(path, &kr, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                return EXIT_SIGNATURE;
        }
        if (kr->n == 0) {
                trust_keyring_free(kr);
                log_error("%s: no keys: nothing could be verified", path);
                return EXIT_SIGNATURE;
        }
        *ret = kr;
        return EXIT_OK;
}

/* installer keygen [--name NAME] [--not-after YYYY-MM-DD] KEY
 * installer keygen --public [--name NAME] [--not-after DATE] KEY */
int cmd_keygen(int argc, char **argv) {
        static const struct option opts[] = {
                { "name", required_argument, NULL, 'n' },
                { "not-after", required_argument, NULL, 'a' },
                { "public", no_argument, NULL, 'p' },
                {},
        };
        _cleanup_(trust_signer_freep) TrustSigner *s = NULL;
        _cleanup_free_ char *err = NULL, *line = NULL;
        const char *name = NULL, *not_after = NULL;
        bool public_only = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'n': name = optarg; break;
                case 'a': not_after = optarg; break;
                case 'p': public_only = true; break;
                default: return EXIT_USAGE;
                }
        if (optind + 1 != argc) {
                log_error("keygen: give exactly one KEY file (see 'installer help')");
                return EXIT_USAGE;
        }
        const char *path = argv[optind];
        char stem[TRUST_NAME_MAX + 1];
        if (!name) { /* the key file's name without directory and suffix */
                const char *b = strrchr(path, '/');
                b = b ? b + 1 : path;
                size_t n = strcspn(b, ".");
                if (n == 0 || n > TRUST_NAME_MAX) {
                        log_error("keygen: give --name NAME (A-Z a-z 0-9 . _ -, at most %d)", TRUST_NAME_MAX);
                        return EXIT_USAGE;
                }
                memcpy(stem, b, n);
                stem[n] = 0;
                name = stem;
        }

        r = public_only ? trust_signer_load(path, &s, &err) : trust_signer_generate(&s, &err);
        if (r < 0)
                goto fail;
        r = trust_signer_keyring_line(s, name, not_after, &line);
        if (r == -EINVAL) {
                log_error("keygen: bad --name '%s' (A-Z a-z 0-9 . _ -, at most %d) or --not-after (YYYY-MM-DD)", name,
                          TRUST_NAME_MAX);
                return EXIT_USAGE;
        }
        if (r < 0)
                goto fail;
        if (!public_only) {
                r = trust_signer_save(s, path, &err);
                if (r < 0)
                        goto fail;
                log_info("keygen: wrote the private key %s (mode 0600), key id %s; its keyring line follows",
                         path, trust_signer_key_id(s));
        }
        fputs(line, stdout);
        return EXIT_OK;
fail:
        log_error("keygen: %s", err ? err : strerror(-r));
        return EXIT_FAILURE_GENERIC;
}

/* The signing time: SOURCE_DATE_EPOCH when set (reproducible builds), else now. */
static uint64_t signing_time(void) {
        const char *e = getenv("SOURCE_DATE_EPOCH");
        char *end;

        if (e && *e) {
                errno = 0;
                unsigned long long v = strtoull(e, &end, 10);
                if (errno == 0 && !*end)
                        return v;
        }
        return (uint64_t) time(NULL);
}

/* installer sign --key KEY FILE... -> FILE.sig */
int cmd_sign(int argc, char **argv) {
        static const struct option opts[] = {
                { "key", required_argument, NULL, 'k' },
                {},
        };
        _cleanup_(trust_signer_freep) TrustSigner *s = NULL;
        _cleanup_free_ char *err = NULL;
        const char *key = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "k:", opts, NULL)) >= 0)
                switch (c) {
                case 'k': key = optarg; break;
                default: return EXIT_USAGE;
                }
        if (!key || optind >= argc) {
                log_error("sign: give --key KEY and at least one FILE");
                return EXIT_USAGE;
        }
        r = trust_signer_load(key, &s, &err);
        if (r < 0) {
                log_error("sign: %s", err ? err : strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        uint64_t now = signing_time();
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *data = NULL, *sig = NULL, *sig_path = trust_sig_url(argv[i]);
                size_t size = 0, sig_size = 0;

                if (!sig_path)
                        return EXIT_FAILURE_GENERIC;
                /* Images are signed through their manifest (docs/manifest.md):
                 * a file here is read whole, at most 1 GiB. */
                r = read_regular_file(argv[i], 1024 * MiB, &data, &size);
                if (r < 0) {
                        log_error_errno(r, "sign: %s: %m", argv[i]);
                        return EXIT_FAILURE_GENERIC;
                }
                r = trust_sign(s, data, size, now, &sig, &sig_size, &err);
                if (r >= 0)
                        r = write_file_atomic(sig_path, sig, sig_size, 0644);
                if (r < 0) {
                        log_error("sign: %s: %s", argv[i], err ? err : strerror(-r));
                        return EXIT_FAILURE_GENERIC;
                }
                printf("%s: signed by key %s (%zu bytes)\n", sig_path, trust_signer_key_id(s), size);
        }
        return EXIT_OK;
}

/* installer verify --keys KEYRING [FILE|URL...]: without FILE, check the
 * keyring and list its keys. */
int cmd_verify(int argc, char **argv) {
        static const struct option opts[] = {
                { "keys", required_argument, NULL, 'k' },
                {},
        };
        _cleanup_(trust_keyring_freep) TrustKeyring *kr = NULL;
        const char *keys = NULL;
        int c, r, ret = EXIT_OK;

        while ((c = getopt_long(argc, argv, "k:", opts, NULL)) >= 0)
                switch (c) {
                case 'k': keys = optarg; break;
                default: return EXIT_USAGE;
                }
        if (!keys) {
                log_error("verify: give --keys KEYRING");
                return EXIT_USAGE;
        }
        r = cmd_trust_keyring(keys, &kr);
        if (r != EXIT_OK)
                return r;
        if (optind >= argc) {
                for (size_t i = 0; i < kr->n; i++)
                        printf("%s: key %s name=%s%s%s%s\n", keys, kr->keys[i].id, kr->keys[i].name,
                               kr->keys[i].end ? " not-after=" : "", kr->keys[i].not_after,
                               kr->keys[i].revoked ? " revoked" : "");
                return EXIT_OK;
        }
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *data = NULL, *err = NULL, *safe = url_redact(argv[i]);
                const TrustKey *k = NULL;
                size_t size = 0;

                if (!safe)
                        return EXIT_FAILURE_GENERIC;
                r = url_has_scheme(argv[i]) ? trust_fetch_with(kr, argv[i], NULL, &data, &size, &k, &err)
                                            : trust_read_file(kr, argv[i], 1024 * MiB, &data, &size, &k, &err);
                if (r < 0) {
                        log_error("%s", err ? err : strerror(-r));
                        if (trust_is_refusal(r))
                                ret = EXIT_SIGNATURE;
                        else if (ret == EXIT_OK)
                                ret = EXIT_FETCH_FAILED;
                        continue;
                }
                printf("%s: good signature by key %s (%s), %zu bytes\n", safe, k->id, k->name, size);
        }
        return ret;
}
