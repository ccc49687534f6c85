/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test tool: stream one image through image_install() into a directory,
 * with a fetch policy from the command line, as `installer run` does with
 * the profile's fetch: section. For tests/cli/fetch-*.sh (the fault proxy
 * between it and a file server on 127.0.0.1).
 *
 *   image-fetch [--sha256 HEX] [--manifest FILE] [--attempts N] [--deadline SEC]
 *               [--min-rate B/S] [--rate-window SEC] URL DIR
 *
 * --manifest: the image's manifest (docs/manifest.md), read from FILE: each
 * chunk is checked before it is unpacked (tests/cli/manifest.sh).
 *
 * Prints "result: ERRNO-NAME bytes=N sha256=HEX chunks=N" (ERRNO-NAME "0" on
 * success; chunks: verified by the manifest)
 * and, on failure, "error: MESSAGE"; exits 0 or 1. The retry lines go to
 * stderr (log_info). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/interrupt.h"
#include "basic/log.h"
#include "fetch/fetch.h"
#include "basic/fileio.h"
#include "image/image.h"
#include "image/manifest.h"

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "sha256", required_argument, NULL, 's' },
                { "manifest", required_argument, NULL, 'M' },
                { "attempts", required_argument, NULL, 'a' },
                { "deadline", required_argument, NULL, 'd' },
                { "min-rate", required_argument, NULL, 'm' },
                { "rate-window", required_argument, NULL, 'w' },
                {},
        };
        FetchPolicy pol = {};
        ImageSource src = { .skip_checksum = true };
        ImageResult res = {};
        char *err = NULL, *manifest_text = NULL;
        const char *manifest_path = NULL;
        Manifest *m = NULL;
        size_t manifest_size = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 's': src.sha256 = optarg; src.skip_checksum = false; break;
                case 'M': manifest_path = optarg; break;
                case 'a': pol.attempts = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'd': pol.deadline_sec = strtoull(optarg, NULL, 10); break;
                case 'm': pol.min_rate = strtoull(optarg, NULL, 10); break;
                case 'w': pol.rate_window_sec = (unsigned) strtoul(optarg, NULL, 10); break;
                default: return 2;
                }
        if (argc - optind != 2) {
                fprintf(stderr, "usage: image-fetch [options] URL DIR\n");
                return 2;
        }
        src.url = argv[optind];
        log_set_max_level(LOG_INFO);
        if (interrupt_install() < 0 || fetch_global_init() < 0)
                return 1;
        fetch_set_policy(&pol);
        if (manifest_path) {
                r = read_regular_file(manifest_path, MANIFEST_DOCUMENT_MAX, &manifest_text, &manifest_size);
                if (r >= 0)
                        r = manifest_parse(manifest_path, manifest_text, manifest_size, &m, &err);
                free(manifest_text);
                if (r < 0) {
                        printf("result: %s manifest\nerror: %s\n", strerrorname_np(-r), err ? err : strerror(-r));
                        free(err);
                        return 1;
                }
                src.manifest = m;
        }
        r = image_install(&src, argv[optind + 1], &res, &err);
        printf("result: %s bytes=%" PRIu64 " sha256=%s chunks=%" PRIu64 "\n", r < 0 ? strerrorname_np(-r) : "0",
               res.bytes_downloaded, res.sha256[0] ? res.sha256 : "-", res.chunks_verified);
        if (r < 0)
                printf("error: %s\n", err ? err : strerror(-r));
        free(err);
        manifest_free(m);
        fetch_global_done();
        return r < 0 ? 1 : 0;
}
