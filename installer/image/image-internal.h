/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internals of the image module: the download thread. */

#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>

#include "basic/macro.h"
#include "image/image.h"
#include "image/manifest.h"
#include "report/report.h"

/* A download running in its own thread. It hashes every byte libcurl delivers
 * and writes it to a socket whose other end the caller reads. With a
 * manifest, it is the chunk gate: bytes are held back until the chunk they
 * belong to is complete and its SHA-256 is the manifest's; only then does the
 * chunk go into the socket. A chunk that does not match stops the download
 * (-EBADMSG, gate_failed, error naming the chunk): the reader has seen every
 * chunk before it and nothing of it or after it. When the reader
 * closes its end, the next write fails with EPIPE and the transfer is
 * aborted; when the transfer ends (completed or failed), the thread closes its
 * end and the reader sees EOF. So neither side can block the other forever. */
typedef struct ImageDownload {
        const char *url;          /* borrowed */
        char *label;              /* for progress lines: the redacted file name */
        int fd;                   /* write end; owned by the thread while it runs */
        EVP_MD_CTX *md;
        uint64_t bytes;           /* received and hashed so far */
        uint64_t content_length;  /* announced by the server, 0 if not */
        Progress progress;
        pthread_t thread;
        bool running;
        const Manifest *manifest; /* borrowed; NULL: no chunk gate */
        uint8_t *chunk;           /* the chunk being received: manifest->chunk_size bytes */
        size_t chunk_fill;        /* bytes of it received */
        uint64_t chunk_index;     /* its index = chunks verified and passed on */
        EVP_MD_CTX *chunk_md;
        bool gate_failed;         /* a chunk or the length did not match the manifest */
        char *gate_error;
        int r;                    /* result of fetch_stream() once joined */
        char *error;              /* its message, NULL if the write callback aborted it */
} ImageDownload;

/* Start downloading url; *ret_fd is the read end of the stream (the caller
 * closes it). manifest (may be NULL, borrowed until image_download_done())
 * turns the chunk gate on. Returns 0 or -errno. */
int image_download_start(ImageDownload *d, const char *url, const Manifest *manifest, int *ret_fd);
/* Wait for the thread to end (the caller has read to EOF or closed its end).
 * Returns the download's result. */
int image_download_wait(ImageDownload *d);
/* After a successful download: the SHA-256 as lower-case hex. */
int image_download_digest(ImageDownload *d, char ret[static IMAGE_SHA256_HEX_LEN + 1]);
/* Free everything; joins the thread if it still runs, so the caller must
 * have closed its end of the stream before. */
void image_download_done(ImageDownload *d);
