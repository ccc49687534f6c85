/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image's manifest (docs/manifest.md), fetched and checked after the
 * plan and before anything is written, like the LUKS key files: a manifest
 * that cannot be had, does not parse, or disagrees with the profile's
 * image.sha256 stops the install while every disk is still as it was. */
#include <inttypes.h>
#include <strings.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "image/manifest.h"
#include "install/install.h"
#include "profile/profile.h"
#include "report/report.h"
#include "trust/trust.h"

int install_fetch_manifest(const Profile *profile, bool required, Manifest **ret) {
        _cleanup_free_ char *derived = NULL, *safe = NULL, *data = NULL, *err = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        const char *url = profile->image.manifest;
        size_t size = 0;
        char cs[32];
        Phase ph;
        int r;

        *ret = NULL;
        if (!url && !required)
                return EXIT_OK;
        if (!url) {
                /* Keys in the boot image make the manifest mandatory: next
                 * to the image when the profile does not say where. */
                r = manifest_url_for_image(profile->image.url, &derived);
                if (r < 0)
                        return log_error_errno(r, "Out of memory"), EXIT_FAILURE_GENERIC;
                url = derived;
        }
        safe = fetch_url_redact(url);
        if (!safe)
                return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_GENERIC;
        (void) report_secret_add_url(url);

        report_phase_begin(&ph, "fetch-manifest", "%s", safe);
        /* With trusted keys, its signature (URL.sig) is checked before it is parsed. */
        r = trust_fetch(url, &(FetchOptions) { .max_size = MANIFEST_DOCUMENT_MAX }, &data, &size, &err);
        if (r < 0) {
                log_error("Cannot fetch the image manifest: %s", err ? err : strerror(-r));
                report_phase_end(&ph, r, "no manifest; nothing was written to any disk");
                return trust_is_refusal(r) ? EXIT_SIGNATURE : EXIT_FETCH_FAILED;
        }
        r = manifest_parse(safe, data, size, &m, &err);
        if (r < 0) {
                log_error("Invalid image manifest: %s", err ? err : strerror(-r));
                report_phase_end(&ph, r, "nothing was written to any disk");
                return r == -ENOMEM ? EXIT_FAILURE_GENERIC : EXIT_FETCH_FAILED;
        }
        if (profile->image.sha256 && strcasecmp(profile->image.sha256, m->sha256_hex) != 0) {
                log_error("The profile's image sha256 %s is not the manifest's %s: one of them is not for this image",
                          profile->image.sha256, m->sha256_hex);
                report_phase_end(&ph, -EBADMSG, "nothing was written to any disk");
                return EXIT_CHECKSUM;
        }
        report_info("image: %" PRIu64 " bytes, %" PRIu64 " chunk%s of %s, manifest sha256 %s", m->size, m->n_chunks,
                    m->n_chunks == 1 ? "" : "s", manifest_format_chunk_size(m->chunk_size, cs, sizeof cs),
                    m->document_sha256);
        report_phase_end(&ph, 0, "image sha256 %s%s", m->sha256_hex,
                         profile->image.sha256 ? " (the profile's too)" : "");
        *ret = TAKE_PTR(m);
        return EXIT_OK;
}
