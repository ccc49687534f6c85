/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `installer run`: detect -> fetch profile -> validate -> plan -> apply.
 * Nothing is written to any disk before the profile and the plan are
 * complete and valid. */
#include <inttypes.h>
#include <strings.h>

#include "basic/interrupt.h"
#include "basic/log.h"
#include "basic/sha256.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "image/manifest.h"
#include "install/install.h"
#include "medium/medium.h"
#include "plan/plan.h"
#include "profile/profile.h"
#include "basic/url.h"
#include "report/report.h"
#include "trust/trust.h"

/* Try every candidate URL in order; the first one that exists wins. A
 * transport error (not a 404) stops the search: falling through to the
 * default profile because a server hiccupped could install the wrong
 * machine. */
static int fetch_profile(const BootParams *bp, const Inventory *inv, char **ret_url, char **ret_safe,
                         char **ret_data, size_t *ret_size, const TrustKey **ret_key) {
        _cleanup_strv_free_ char **urls = NULL;
        int r;

        r = install_profile_candidates(bp, inv, &urls);
        if (r == -EINVAL)
                return log_error_errno(r, "No profile location: boot with inst.profiles=URL (a directory) or inst.profile=URL");
        if (r < 0)
                return r;

        for (size_t i = 0; urls[i]; i++) {
                _cleanup_free_ char *safe = fetch_url_redact(urls[i]), *err = NULL;
                /* Verified before it is parsed (with trusted keys): a profile
                 * whose signature is missing or bad stops the search. */
                r = trust_fetch_with(trust_get_keyring(), urls[i], NULL, ret_data, ret_size, ret_key, &err);
                if (r == -ENOENT) {
                        report_info("profile %s: not found, trying the next", safe ? safe : "?");
                        continue;
                }
                if (trust_is_refusal(r))
                        return log_error_errno(r, "%s", err ? err : "signature refused");
                if (r < 0)
                        return log_error_errno(r, "Cannot fetch profile %s", err ? err : "?");
                *ret_url = strdup(urls[i]);
                if (!*ret_url) {
                        free(*ret_data);
                        return -ENOMEM;
                }
                *ret_safe = TAKE_PTR(safe);
                return 0;
        }
        return log_error_errno(-ENOENT, "No profile for this machine: none of the %zu locations exists (mac, uuid, serial, default)",
                               strv_length(urls));
}

/* Fragments of a fetched profile ("include:"), fetched relative to the
 * document that includes them. Names (in messages, and the base the profile
 * code hands back) are redacted; the URLs they stand for may carry
 * credentials, which relative references inherit. */
typedef struct FragmentFetcher {
        char **names;
        char **urls;
        int refusal;            /* a fragment's signature was refused (trust.h) */
} FragmentFetcher;

static void fragment_fetcher_done(FragmentFetcher *ff) {
        strv_free(ff->names);
        strv_free(ff->urls);
}

static bool is_http_url(const char *s) {
        return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

static int fetch_fragment(const char *base, const char *ref, char **ret_name, char **ret_data, size_t *ret_size,
                          void *userdata) {
        FragmentFetcher *ff = userdata;
        _cleanup_free_ char *url = NULL, *name = NULL, *err = NULL;
        const char *base_url = NULL;
        char digest[65];
        int r;

        for (size_t i = 0; ff->names && ff->names[i]; i++)
                if (streq(ff->names[i], base))
                        base_url = ff->urls[i];
        if (!base_url)
                return -EINVAL;
        /* Relative references keep the profile's scheme; absolute ones must be http(s). */
        if (url_has_scheme(ref) && !is_http_url(ref))
                return -EPROTONOSUPPORT;
        r = url_resolve(base_url, ref, &url);
        if (r < 0)
                return r;
        name = fetch_url_redact(url);
        if (!name)
                return -ENOMEM;

        const TrustKey *k = NULL;
        r = trust_fetch_with(trust_get_keyring(), url, NULL, ret_data, ret_size, &k, &err);
        if (r == -ENOENT) /* reported as a profile error at the include */
                return log_debug_errno(r, "Profile fragment %s: not found", name);
        if (trust_is_refusal(r)) { /* the include's error says "its signature was refused"; this says why */
                if (!ff->refusal)
                        ff->refusal = r;
                log_error_errno(r, "%s", err ? err : "signature refused");
                return -EKEYREJECTED;
        }
        if (r < 0) /* the profile error says "cannot include"; this says why */
                return log_error_errno(r, "Cannot fetch profile fragment %s", err ? err : name);
        /* Fragments may hold secrets too: their digest, never their text. */
        (void) sha256_hex(*ret_data, *ret_size, digest);
        report_info("profile fragment %s (%zu bytes, sha256 %s%s%s%s%s)", name, *ret_size, digest,
                    k ? ", signed by key " : "", k ? k->id : "", k ? " " : "", k ? k->name : "");

        if (strv_extend(&ff->names, name) < 0 || strv_extend(&ff->urls, url) < 0) {
                explicit_bzero(*ret_data, *ret_size);
                free(TAKE_PTR(*ret_data));
                return -ENOMEM;
        }
        *ret_name = TAKE_PTR(name);
        return 0;
}

/* LUKS key URLs (on partitions, arrays and logical volumes) may carry
 * credentials. */
static void report_luks_secrets(const Profile *profile) {
        for (size_t i = 0; i < profile->disk.n_partitions; i++)
                if (profile->disk.partitions[i].luks)
                        (void) report_secret_add_url(profile->disk.partitions[i].luks->key_url);
        for (size_t i = 0; i < profile->n_raids; i++)
                if (profile->raids[i].luks)
                        (void) report_secret_add_url(profile->raids[i].luks->key_url);
        for (size_t i = 0; i < profile->n_vgs; i++)
                for (size_t k = 0; k < profile->vgs[i].n_volumes; k++)
                        if (profile->vgs[i].volumes[k].luks)
                                (void) report_secret_add_url(profile->vgs[i].volumes[k].luks->key_url);
}

/* The profile's secrets are scrubbed from everything printed from here on,
 * and its report: (if any) becomes where events go. */
static void report_profile_known(const BootParams *bp, const Profile *profile) {
        for (size_t i = 0; i < profile->n_users; i++)
                (void) report_secret_add(profile->users[i].password_hash);
        (void) report_secret_add_url(profile->image.url);
        for (size_t i = 0; i < profile->n_files; i++)
                (void) report_secret_add_url(profile->files[i].url);
        (void) report_secret_add_url(profile->apt_mirror);
        report_luks_secrets(profile);
        if (profile->report.url) {
                _cleanup_free_ char *safe = fetch_url_redact(profile->report.url);
                if (report_set_target(profile->report.url, profile->report.token) < 0)
                        log_warning("Cannot start the report sender, going on without");
                else
                        report_info("events go to %s (from the profile)%s", safe ? safe : "?",
                                    profile->report.token ? " with a bearer token" : "");
        } else if (!bp->report_url)
                (void) report_set_target(NULL, NULL); /* nowhere: stop queueing */
}

/* Each profile error as an "error" event too (they were printed as a list). */
static void report_profile_errors(const ProfileErrors *errors) {
        for (size_t i = 0; i < errors->n; i++) {
                const ProfileError *e = &errors->v[i];
                report_error_event("%s:%u:%u: %s%s%s", e->file ? e->file : "?", e->line, e->column, e->key ? e->key : "",
                                   e->key ? ": " : "", e->message ? e->message : "");
        }
}

int install_detect(const BootParams *bp, const InstallOptions *opts, Inventory **ret) {
        _cleanup_inventory_ Inventory *inv = NULL;
        _cleanup_free_ char *json = NULL;
        size_t json_size = 0;
        Phase ph;
        int r;

        /* The boot medium (inst.medium=), mounted before the hardware is
         * detected so that its disk is known as the boot medium: never a
         * target. */
        if (bp->medium && !opts->sysroot) {
                report_phase_begin(&ph, "medium", "%s", bp->medium);
                _cleanup_free_ char *dev = NULL;
                r = medium_mount(bp->medium, MEDIUM_MOUNT_POINT, MEDIUM_WAIT_SEC, &dev);
                if (r < 0)
                        return report_phase_end(&ph, r, "nothing was written to any disk"), EXIT_FETCH_FAILED;
                report_phase_end(&ph, 0, "%s mounted read-only on %s", dev ? dev : "medium", MEDIUM_MOUNT_POINT);
        }

        report_phase_begin(&ph, "detect", "hardware inventory");
        r = hw_inventory_detect(opts->sysroot, HW_PROBE_SIGNATURES, &inv);
        if (r < 0)
                return report_phase_end(&ph, log_error_errno(r, "Hardware detection failed: %m"), NULL),
                       EXIT_FAILURE_GENERIC;
        report_phase_end(&ph, 0, "%s firmware%s, %u CPUs, %" PRIu64 " MiB memory, %zu disk%s, %zu NIC%s",
                         firmware_to_string(inv->firmware), inv->secure_boot ? " (Secure Boot on)" : "", inv->cpus, inv->memory / MiB, inv->n_disks,
                         inv->n_disks == 1 ? "" : "s", inv->n_nics, inv->n_nics == 1 ? "" : "s");
        for (size_t i = 0; i < inv->n_disks; i++) {
                char sz[32];
                const HwDisk *d = &inv->disks[i];
                report_info("disk %s %s (%" PRIu64 " bytes) %s%s%s%s", d->devnode, format_bytes(sz, sizeof sz, d->size),
                            d->size, d->transport, d->serial ? " serial " : "", d->serial ? d->serial : "",
                            hw_disk_has_data(d) ? " holds data" : " blank");
        }
        for (size_t i = 0; i < inv->n_nics; i++)
                report_info("nic %s %s driver %s link %s", inv->nics[i].name, inv->nics[i].mac ? inv->nics[i].mac : "?",
                            inv->nics[i].driver ? inv->nics[i].driver : "?", inv->nics[i].carrier ? "up" : "down");

        /* The text of `installer inventory --json`, from the same function:
         * on the console, and to the report URL (the site server keeps it;
         * `installer plan --inventory` reads it back). */
        r = hw_inventory_to_json_string(inv, &json, &json_size);
        if (r < 0)
                return log_error_errno(r, "Out of memory"), EXIT_FAILURE_GENERIC;
        if (opts->print_inventory) {
                printf("----- BEGIN INVENTORY -----\n");
                fwrite(json, 1, json_size, stdout);
                printf("----- END INVENTORY -----\n");
                fflush(stdout);
        }
        r = report_upload_inventory(json, json_size);
        if (r < 0)
                log_warning_errno(r, "Cannot queue the inventory upload, going on without: %m");

        *ret = TAKE_PTR(inv);
        return EXIT_OK;
}

/* The trusted keys: the boot image's keyring, or --keys FILE (a test seam,
 * given on the command line only: nothing a profile or the kernel command
 * line says changes it). A keyring that exists but cannot be read or parsed
 * stops the install: it must never pass for "no keys". */
static int load_trusted_keys(const char *path) {
        _cleanup_free_ char *err = NULL;
        TrustKeyring *kr = NULL;
        int r;

        r = trust_keyring_load(path ?: TRUST_KEYRING_PATH, &kr, &err);
        if (r == -ENOENT && !path) {
                report_info("signatures: not checked (no trusted keys in this boot image)");
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Trusted keys: %s", err ? err : strerror(-r));
        trust_set_keyring(kr);
        if (kr->n == 0) {
                report_info("signatures: not checked (no trusted keys in this boot image)");
                return 0;
        }
        report_info("signatures: required on the profile, its fragments, files and LUKS key files (%zu trusted key%s)",
                    kr->n, kr->n == 1 ? "" : "s");
        for (size_t i = 0; i < kr->n; i++)
                report_info("trusted key %s name=%s%s%s%s", kr->keys[i].id, kr->keys[i].name,
                            kr->keys[i].end ? " not-after=" : "", kr->keys[i].not_after,
                            kr->keys[i].revoked ? " revoked" : "");
        return 0;
}

static void trust_forget(int *unused) {
        trust_set_keyring(NULL);
}

int install_run(const BootParams *bp, const InstallOptions *opts) {
        _cleanup_(trust_forget) int keys_loaded = 0;
        _cleanup_inventory_ Inventory *inv = NULL;
        _cleanup_profile_ Profile *profile = NULL;
        _cleanup_plan_ Plan *plan = NULL;
        _cleanup_free_ char *url = NULL, *safe = NULL, *data = NULL;
        _cleanup_(fragment_fetcher_done) FragmentFetcher ff = {};
        ProfileErrors errors = {};
        char digest[65];
        size_t size = 0;
        Phase ph;
        int r;

        /* 1. The boot medium and the hardware; the inventory goes to the
         * report URL. */
        r = install_detect(bp, opts, &inv);
        if (r != EXIT_OK)
                return r;

        /* 2. Profile. What https is verified against (docs/tls.md). */
        _cleanup_free_ char *trust = NULL, *trust_err = NULL;
        if (fetch_tls_describe(&trust, &trust_err) >= 0)
                report_info("%s", trust);
        else
                log_error("%s: every https request will fail", trust_err ? trust_err : "the site CA is unusable");
        /* Verified before it is parsed when there are trusted keys. */
        r = load_trusted_keys(opts->keys_path);
        if (r < 0)
                return EXIT_SIGNATURE;
        keys_loaded = 1;
        report_phase_begin(&ph, "fetch-profile", NULL);
        const TrustKey *key = NULL;
        r = fetch_profile(bp, inv, &url, &safe, &data, &size, &key);
        if (r < 0)
                return report_phase_end(&ph, r, "nothing was written to any disk"),
                       trust_is_refusal(r) ? EXIT_SIGNATURE : EXIT_FETCH_FAILED;
        (void) sha256_hex(data, size, digest);
        /* The profile may hold secrets: log its digest, not its text. */
        report_phase_end(&ph, 0, "%s (%zu bytes, sha256 %s%s%s%s%s)", safe, size, digest,
                         key ? ", signed by key " : "", key ? key->id : "", key ? " " : "", key ? key->name : "");

        report_phase_begin(&ph, "validate", "%s", safe);
        if (strv_extend(&ff.names, safe) < 0 || strv_extend(&ff.urls, url) < 0)
                return report_phase_end(&ph, log_error_errno(-ENOMEM, "Out of memory"), NULL), EXIT_FAILURE_GENERIC;
        r = profile_load_string_full(safe, data, size, fetch_fragment, &ff, &profile, &errors);
        explicit_bzero(data, size); /* a plaintext password is hashed by now */
        if (r < 0) {
                profile_errors_print(stdout, &errors);
                fflush(stdout);
                report_profile_errors(&errors);
                if (errors.n == 0)
                        report_phase_end(&ph, log_error_errno(r, "Cannot load profile %s: %m", safe),
                                         "nothing was written to any disk");
                else
                        report_phase_end(&ph, r, "%zu error%s in %s; nothing was written to any disk", errors.n,
                                         errors.n == 1 ? "" : "s", safe);
                profile_errors_done(&errors);
                if (ff.refusal)
                        return EXIT_SIGNATURE;
                return r == -EINVAL ? EXIT_PROFILE_INVALID : EXIT_FAILURE_GENERIC;
        }
        /* A relative image URL is relative to the document that gives it
         * (the profile or a fragment), as fetched: on a boot medium,
         * "../images/NAME" from file:///run/install/medium/profiles/default.yaml. */
        if (profile_image_url_is_relative(profile)) {
                const char *doc = NULL;
                for (size_t i = 0; ff.names[i]; i++)
                        if (streq_ptr(ff.names[i], profile->image.url_document))
                                doc = ff.urls[i];
                r = profile_image_resolve_url(profile, doc);
                if (r < 0)
                        return report_phase_end(&ph, log_error_errno(r, "Cannot resolve the relative image URL of %s: %m",
                                                                     profile->image.url_document ?: safe),
                                                "nothing was written to any disk"),
                               r == -ENOMEM ? EXIT_FAILURE_GENERIC : EXIT_PROFILE_INVALID;
        }
        /* The manifest's URL likewise. */
        if (profile_image_manifest_is_relative(profile)) {
                const char *doc = NULL;
                for (size_t i = 0; ff.names[i]; i++)
                        if (streq_ptr(ff.names[i], profile->image.manifest_document))
                                doc = ff.urls[i];
                r = profile_image_resolve_manifest(profile, doc);
                if (r < 0)
                        return report_phase_end(&ph, log_error_errno(r, "Cannot resolve the relative image manifest URL of %s: %m",
                                                                     profile->image.manifest_document ?: safe),
                                                "nothing was written to any disk"),
                               r == -ENOMEM ? EXIT_FAILURE_GENERIC : EXIT_PROFILE_INVALID;
        }
        /* Every later fetch (fragments were fetched with the defaults):
         * the image, files, keys, reports. */
        fetch_set_policy(&(FetchPolicy) { .attempts = profile->fetch.attempts,
                                          .deadline_sec = profile->fetch.deadline_s,
                                          .min_rate = profile->fetch.min_rate,
                                          .rate_window_sec = profile->fetch.rate_window_s });
        report_phase_end(&ph, 0, "profile valid: hostname %s%s", profile->hostname,
                         profile->n_fragments > 0 ? ", with fragments" : "");

        /* The profile's CAs (tls.ca, docs/tls.md): trusted from here on,
         * the report URL's included. */
        if (profile->tls.n_cas > 0) {
                report_phase_begin(&ph, "tls", "%zu CA%s of the profile", profile->tls.n_cas,
                                   profile->tls.n_cas == 1 ? "" : "s");
                r = install_tls(profile, ff.names, ff.urls, &errors);
                if (r != EXIT_OK) {
                        profile_errors_print(stdout, &errors);
                        fflush(stdout);
                        report_profile_errors(&errors);
                        report_phase_end(&ph, -EPROTO, "nothing was written to any disk");
                        profile_errors_done(&errors);
                        return r;
                }
                report_phase_end(&ph, 0, NULL);
        }
        report_profile_known(bp, profile);

        /* 3. Is this profile really for this machine (checked before any
         * write), and the plan. */
        r = install_plan(inv, profile, true, &plan, &errors);
        if (r != EXIT_OK) {
                profile_errors_print(stdout, &errors);
                fflush(stdout);
                report_profile_errors(&errors);
                profile_errors_done(&errors);
                return r;
        }

        /* 4. The LUKS key files: fetched and checked before any write. */
        _cleanup_(install_keys_done) InstallKeys keys = {};
        if (plan->n_luks > 0) {
                report_phase_begin(&ph, "fetch-keys", "%zu LUKS key file%s", plan->n_luks, plan->n_luks == 1 ? "" : "s");
                r = install_fetch_keys(plan, &keys, &errors);
                if (r != EXIT_OK) {
                        profile_errors_print(stdout, &errors);
                        fflush(stdout);
                        report_profile_errors(&errors);
                        report_phase_end(&ph, -EIO, "no key; nothing was written to any disk");
                        profile_errors_done(&errors);
                        return r;
                }
                report_phase_end(&ph, 0, NULL);
        }

        /* 5. The image's manifest: fetched and checked before any write. */
        _cleanup_(manifest_freep) Manifest *manifest = NULL;
        /* Trusted keys make it mandatory: the image is then checked chunk by
         * chunk against a signed manifest (docs/trust.md). */
        r = install_fetch_manifest(profile, trust_required(), &manifest);
        if (r != EXIT_OK)
                return r;

        if (opts->dry_run || bp->dry_run) {
                report_info("dry run: stopping after the plan; nothing was written to any disk");
                return EXIT_OK;
        }

        /* A signal before the first write: nothing to unwind. */
        if (interrupt_check() < 0) {
                log_error("Stopped by a signal before anything was written");
                return EXIT_INSTALL_FAILED;
        }
        return install_apply(plan, bp, &keys, manifest);
}
