/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The image manifest (docs/manifest.md): a small text document, next to an
 * image, that gives the image's length, its SHA-256 and the SHA-256 of every
 * chunk of it. The download checks each chunk as it arrives, before a byte of
 * it reaches the decompressor (image_install() with ImageSource.manifest), so
 * a flipped byte stops the install within one chunk.
 *
 *   installer-manifest 1
 *   size: 212231759
 *   chunk-size: 4194304
 *   sha256: <64 lower-case hex digits of the whole file>
 *   chunk: <64 lower-case hex digits>      one per chunk, in order
 *
 * Everything here is pure (no I/O) except manifest_build_fd(), which reads a
 * file descriptor. */

#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

#define MANIFEST_CHUNK_SIZE_DEFAULT (4 * MiB)
#define MANIFEST_CHUNK_SIZE_MIN (64 * KiB)
#define MANIFEST_CHUNK_SIZE_MAX (64 * MiB)
/* The largest manifest document accepted (fetch max_size too): 16 MiB is
 * about 233,000 chunk lines, 910 GiB of image at the default chunk size. */
#define MANIFEST_DOCUMENT_MAX (16u * 1024 * 1024)
#define MANIFEST_SHA256_LEN 32

typedef struct Manifest {
        uint64_t size;              /* of the image, > 0 */
        uint64_t chunk_size;        /* a power of two in [MIN, MAX] */
        uint64_t n_chunks;          /* = ceil(size / chunk_size) */
        uint8_t sha256[MANIFEST_SHA256_LEN];        /* of the whole image */
        uint8_t (*chunks)[MANIFEST_SHA256_LEN];     /* n_chunks digests */
        char sha256_hex[65];        /* sha256 as lower-case hex */
        char document_sha256[65];   /* of the manifest document itself, for logs */
} Manifest;

/* Parse a manifest document. name (a redacted URL or a path) starts every
 * error message: "NAME:LINE: what is wrong". Checked: the header line, the
 * order of the lines, LF endings (no CR, a final LF), decimal numbers without
 * sign or leading zero that fit in 64 bits, size > 0, chunk-size a power of
 * two from 64 KiB to 64 MiB, hex digests of 64 lower-case digits, and the
 * number of chunk lines against ceil(size / chunk-size) (the line that is one
 * too many, or the end that comes too early, is named). Returns 0 with *ret,
 * -EBADMSG (malformed, with *ret_error), -EFBIG (larger than
 * MANIFEST_DOCUMENT_MAX), -ENOMEM. */
int manifest_parse(const char *name, const void *data, size_t size, Manifest **ret, char **ret_error);

void manifest_free(Manifest *m);
DEFINE_POINTER_CLEANUP(Manifest, manifest_free)
#define _cleanup_manifest_ _cleanup_(manifest_freep)

/* Offset and length of chunk index (< n_chunks): every chunk is chunk_size
 * bytes but the last, which holds the rest. */
uint64_t manifest_chunk_offset(const Manifest *m, uint64_t index);
uint64_t manifest_chunk_length(const Manifest *m, uint64_t index);

/* Whether digest (the SHA-256 of the bytes received for chunk index) is the
 * one the manifest lists: 0, or -EBADMSG (also for an index past the end). */
int manifest_chunk_check(const Manifest *m, uint64_t index, const uint8_t digest[static MANIFEST_SHA256_LEN]);

/* "4 MiB", "64 KiB": chunk sizes are powers of two, so always exact. */
const char *manifest_format_chunk_size(uint64_t chunk_size, char *buf, size_t n);

/* Write the manifest of everything read from fd (to its end) with the given
 * chunk size (0: the default). Returns 0 with *ret_text (NUL-terminated) and
 * *ret_size, -EINVAL (bad chunk size, with *ret_error), -ENODATA (empty
 * input), -EIO/-errno (read error), -ENOMEM. */
int manifest_build_fd(int fd, uint64_t chunk_size, char **ret_text, size_t *ret_size, char **ret_error);

/* Where the manifest of an image lives when the profile does not say: the
 * image URL with ".manifest" appended to its path (query and fragment kept:
 * http://h/i.tar.zst?t=1 -> http://h/i.tar.zst.manifest?t=1), or a path with
 * ".manifest" appended. Returns 0 or -ENOMEM. */
int manifest_url_for_image(const char *image_url, char **ret);
