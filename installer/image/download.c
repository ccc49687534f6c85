/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The download half of the image stream: fetch_stream() in a thread, hashing
 * what arrives and passing it on through a socket pair; with a manifest,
 * one chunk at a time, each checked before it is passed on. */
#include <assert.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "image/image-internal.h"

/* Into the socket, all of it. */
static int download_send(ImageDownload *d, const uint8_t *p, size_t size) {
        while (size > 0) {
                /* MSG_NOSIGNAL: a reader that gave up means EPIPE, not SIGPIPE. */
                ssize_t n = send(d->fd, p, size, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

_printf_(2, 3) static int gate_fail(ImageDownload *d, const char *fmt, ...) {
        _cleanup_free_ char *safe = fetch_url_redact(d->url), *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        d->gate_failed = true;
        free(d->gate_error);
        d->gate_error = strprintf("Image %s: %s", safe ? safe : "?", msg ? msg : "does not match its manifest");
        return -EBADMSG;
}

/* The chunk gate: collect bytes into the current chunk; a complete chunk is
 * checked against the manifest and only then passed on. A chunk's bytes may
 * come in any number of pieces, across resumes too (fetch_stream() hands
 * over every byte of the file once and in order). */
static int gate_write(ImageDownload *d, const uint8_t *p, size_t size) {
        const Manifest *m = d->manifest;

        /* d->bytes already counts these bytes. Nothing of a piece that
         * goes past the end is passed on. */
        if (d->bytes > m->size)
                return gate_fail(d, "longer than the %" PRIu64 " bytes its manifest gives; stopped at byte %" PRIu64
                                 ", after %" PRIu64 " verified chunk%s",
                                 m->size, m->size, d->chunk_index, d->chunk_index == 1 ? "" : "s");

        while (size > 0) {
                uint64_t want = manifest_chunk_length(m, d->chunk_index) - d->chunk_fill;
                size_t take = size < want ? size : (size_t) want;
                uint8_t digest[MANIFEST_SHA256_LEN];
                unsigned n = 0;
                int r;

                memcpy(d->chunk + d->chunk_fill, p, take);
                if (EVP_DigestUpdate(d->chunk_md, p, take) != 1)
                        return -ENOMEM;
                d->chunk_fill += take;
                p += take;
                size -= take;
                if (d->chunk_fill < manifest_chunk_length(m, d->chunk_index))
                        break;

                /* A whole chunk: check it, then pass it on. */
                if (EVP_DigestFinal_ex(d->chunk_md, digest, &n) != 1 || n != MANIFEST_SHA256_LEN ||
                    EVP_DigestInit_ex(d->chunk_md, EVP_sha256(), NULL) != 1)
                        return -EIO;
                if (manifest_chunk_check(m, d->chunk_index, digest) < 0) {
                        uint64_t first = manifest_chunk_offset(m, d->chunk_index);
                        return gate_fail(d,
                                         "chunk %" PRIu64 " of %" PRIu64 " (bytes %" PRIu64 "-%" PRIu64
                                         ") does not match its manifest; nothing of it or after it was unpacked",
                                         d->chunk_index, m->n_chunks, first, first + d->chunk_fill - 1);
                }
                r = download_send(d, d->chunk, d->chunk_fill);
                if (r < 0)
                        return r;
                d->chunk_index++;
                d->chunk_fill = 0;
        }
        return 0;
}

static int download_write(const void *data, size_t size, void *userdata) {
        ImageDownload *d = userdata;

        if (EVP_DigestUpdate(d->md, data, size) != 1)
                return -ENOMEM;
        if (d->manifest && d->bytes == 0 && d->content_length && d->content_length != d->manifest->size)
                return gate_fail(d, "the server announces %" PRIu64 " bytes, its manifest %" PRIu64
                                 "; nothing was unpacked", d->content_length, d->manifest->size);
        d->bytes += size;
        if (!d->progress.total && d->content_length)
                d->progress.total = d->content_length;
        report_progress_update(&d->progress, d->bytes, false);

        if (d->manifest)
                return gate_write(d, data, size);
        return download_send(d, data, size);
}

static void *download_thread(void *userdata) {
        ImageDownload *d = userdata;
        uint64_t total = 0;

        /* A reader that closed its end ends a backoff wait at once; resuming
         * happens inside fetch_stream(), so the hash and the reader's
         * decompression state simply continue. */
        FetchStreamOptions o = { .cancel_fd = d->fd, .what = "Image download" };

        d->r = fetch_stream(d->url, &o, download_write, d, &d->content_length, &total, &d->error);
        /* The whole file came, but is it the manifest's length? */
        if (d->r >= 0 && d->manifest && !d->gate_failed && d->chunk_index != d->manifest->n_chunks)
                d->r = gate_fail(d, "ends at byte %" PRIu64 ", its manifest gives %" PRIu64 " bytes; the %" PRIu64
                                 " verified chunk%s before were unpacked",
                                 d->bytes, d->manifest->size, d->chunk_index, d->chunk_index == 1 ? "" : "s");
        /* A chunk that failed stopped the transfer through the write
         * callback, which fetch_stream() gives no message for. */
        if (d->gate_failed && !d->error)
                d->error = TAKE_PTR(d->gate_error);
        log_debug("Image download ended: %s, %" PRIu64 " bytes", d->r < 0 ? strerror(-d->r) : "complete",
                  d->bytes);
        /* EOF for the reader. */
        close(d->fd);
        d->fd = -1;
        return NULL;
}

/* The last path component of the redacted URL, for progress lines. */
static char *download_label(const char *url) {
        _cleanup_free_ char *safe = fetch_url_redact(url);
        const char *path, *base;

        if (!safe)
                return NULL;
        path = strstr(safe, "://");
        path = path ? path + 3 : safe;
        base = strrchr(path, '/');
        base = base && base[1] ? base + 1 : NULL;
        return strdup(base ? base : "image");
}

int image_download_start(ImageDownload *d, const char *url, const Manifest *manifest, int *ret_fd) {
        _cleanup_close_ int rfd = -1;
        sigset_t all, saved;
        int fds[2], r;

        *d = (ImageDownload) { .url = url, .fd = -1, .manifest = manifest };

        d->label = download_label(url);
        d->md = EVP_MD_CTX_new();
        if (!d->label || !d->md)
                return -ENOMEM;
        if (EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1)
                return -EIO;
        if (manifest) {
                /* One chunk in memory (4 MiB by default, at most 64 MiB). */
                d->chunk = malloc((size_t) manifest->chunk_size);
                d->chunk_md = EVP_MD_CTX_new();
                if (!d->chunk || !d->chunk_md)
                        return -ENOMEM;
                if (EVP_DigestInit_ex(d->chunk_md, EVP_sha256(), NULL) != 1)
                        return -EIO;
        }

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
                return -errno;
        rfd = fds[0];
        d->fd = fds[1];
        /* One direction only. */
        (void) shutdown(rfd, SHUT_WR);
        (void) shutdown(d->fd, SHUT_RD);

        /* The total becomes known with the first bytes (Content-Length). */
        report_progress_init(&d->progress, d->label, 0);

        /* Signals are for the main thread. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        r = pthread_create(&d->thread, NULL, download_thread, d);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r != 0)
                return -r;
        d->running = true;

        *ret_fd = TAKE_FD(rfd);
        return 0;
}

int image_download_wait(ImageDownload *d) {
        if (d->running) {
                pthread_join(d->thread, NULL);
                d->running = false;
        }
        return d->r;
}

int image_download_digest(ImageDownload *d, char ret[static IMAGE_SHA256_HEX_LEN + 1]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        assert(!d->running);
        if (EVP_DigestFinal_ex(d->md, md, &n) != 1 || n * 2 != IMAGE_SHA256_HEX_LEN)
                return -EIO;
        for (unsigned i = 0; i < n; i++)
                sprintf(ret + 2 * i, "%02x", md[i]);
        return 0;
}

void image_download_done(ImageDownload *d) {
        image_download_wait(d);
        if (d->fd >= 0)
                close(d->fd);
        d->fd = -1;
        EVP_MD_CTX_free(d->md);
        d->md = NULL;
        free(d->label);
        d->label = NULL;
        free(d->error);
        d->error = NULL;
        free(d->chunk);
        d->chunk = NULL;
        EVP_MD_CTX_free(d->chunk_md);
        d->chunk_md = NULL;
        free(d->gate_error);
        d->gate_error = NULL;
}
