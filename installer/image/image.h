/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Streaming install of the OS image: a tar archive (plain, gzip, xz or zstd)
 * is downloaded (http, https, file), hashed and extracted onto the target root
 * in one pass. Nothing of the image is kept in memory or on a tmpfs: a
 * download thread hashes what libcurl delivers and passes it through a socket
 * pair (a bounded kernel buffer) to libarchive, which decompresses and writes
 * onto the target. Memory does not grow with the size of the image.
 *
 * Without a manifest, the image is checked only once it has been read to its
 * end, so a failed image_install() leaves the target root holding unverified
 * data: the caller must not go on to make it bootable. With a manifest
 * (image/manifest.h), every chunk is checked before a byte of it reaches
 * libarchive: a corrupted chunk stops the install with only the chunks
 * before it unpacked (still not a bootable system). */

#include <stdint.h>

#include "basic/macro.h"

#define IMAGE_SHA256_HEX_LEN 64

typedef enum ImageFormat {
        IMAGE_FORMAT_AUTO,      /* any compression libarchive recognises, tar inside */
        IMAGE_FORMAT_TAR,
        IMAGE_FORMAT_TAR_GZ,
        IMAGE_FORMAT_TAR_XZ,
        IMAGE_FORMAT_TAR_ZST,
        _IMAGE_FORMAT_MAX,
} ImageFormat;

typedef struct Manifest Manifest;

typedef struct ImageSource {
        const char *url;        /* http://, https:// or file:// (may carry credentials) */
        const char *sha256;     /* of the downloaded (compressed) file: 64 hex digits */
        bool skip_checksum;     /* with sha256 NULL: do not verify (insecure_no_checksum);
                                 * a non-NULL sha256 is always verified */
        const char *format;     /* "tar", "tar.gz", "tar.xz", "tar.zst" (also "tgz",
                                 * "txz", "tzst") or "auto"; NULL: from the URL suffix,
                                 * "auto" when the suffix says nothing */
        const Manifest *manifest; /* NULL, or the image's parsed manifest: each chunk is
                                 * checked before it is unpacked, the length must be the
                                 * manifest's, and the whole-file SHA-256 its sha256
                                 * (sha256, when given too, must be the same: else
                                 * -EBADMSG before anything is written). With a
                                 * manifest, skip_checksum does not apply. */
} ImageSource;

typedef struct ImageResult {
        uint64_t bytes_downloaded;     /* bytes received and hashed */
        uint64_t bytes_extracted;      /* sum of the entries' sizes */
        uint64_t entries;              /* entries written */
        uint64_t chunks_verified;      /* with a manifest: chunks checked and passed on */
        char sha256[IMAGE_SHA256_HEX_LEN + 1]; /* of the whole download; "" if it did not complete */
        double seconds;
} ImageResult;

/* Download src->url and extract it onto target_root (an existing directory).
 * Each entry is written at target_root/<its path> with numeric owner (when
 * running as root), mode, times, extended attributes (file capabilities),
 * ACLs, file flags; hard links, symlinks and device nodes are recreated.
 * Entries with an absolute path or a ".." component, hard links to such
 * targets, and entries that would be written through a symlink abort the
 * install. The stream is read to its end (data after the tar end marker is
 * hashed too) and its SHA-256 compared with src->sha256 (unless there is none
 * and src->skip_checksum is set; res->sha256 is computed all the same).
 *
 * fetch_global_init() must have been called. Progress lines
 * (report_progress_*) go to stdout; nothing else is printed except debug
 * logging. Returns 0, or:
 *   -EINVAL    bad source (no URL, malformed sha256, no sha256 without
 *              skip_checksum, unknown format) or no target
 *   -ENOENT, -ENOTDIR  the target root does not exist or is not a directory
 *   -EBADMSG   the download does not match src->sha256, or src->manifest: a
 *              chunk differs (the message names it and its byte range), the
 *              length differs, or src->sha256 is not the manifest's
 *   -EPERM     an entry escapes the target root or goes through a symlink
 *   -EILSEQ    the data is not a valid archive (corrupt, truncated, wrong format)
 *   -ESRCH     an ACL names a user or group that the image's /etc/passwd or
 *              /etc/group does not define (names are looked up there, never
 *              in the installer's own files; owners are numeric)
 *   -ENOENT, -EACCES, -EIO, -ETIMEDOUT, -ESTALE, -EPROTO, ...  from the download,
 *              after its retries and resumes (fetch_stream() in fetch.h: -ESTALE
 *              when the server ignored Range or the file changed mid-stream)
 *   -ENOSPC, -EIO, ...  writing the target
 * ret (may be NULL) is filled in as far as known, on failure too. *ret_error
 * (may be NULL) gets a message for the user on failure; URLs in it are
 * redacted (fetch_url_redact()). */
int image_install(const ImageSource *src, const char *target_root, ImageResult *ret, char **ret_error);

/* "tar", "tar.gz", "tgz", ... -> ImageFormat, or -EINVAL. */
int image_format_from_string(const char *s);
const char *image_format_to_string(ImageFormat f);
/* From the suffix of the URL's path (query and fragment ignored);
 * IMAGE_FORMAT_AUTO when it is not one of the known suffixes. */
ImageFormat image_format_from_url(const char *url);

/* Whether an archive path stays below the root it is extracted to: 0 if it
 * does, -EPERM if it is absolute or has a ".." component, -EINVAL if it is
 * empty. Symlinks are not considered here (the extraction refuses to write
 * through them). */
int image_entry_path_check(const char *path);
