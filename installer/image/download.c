/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The download half of the image stream: fetch_stream() in a thread, hashing
 * what arrives and passing it on through a socket pair. */
#include <assert.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/socket.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "image/image-internal.h"

static int download_write(const void *data, size_t size, void *userdata) {
        ImageDownload *d = userdata;
        const uint8_t *p = data;

        if (EVP_DigestUpdate(d->md, data, size) != 1)
                return -ENOMEM;
        d->bytes += size;
        if (!d->progress.total && d->content_length)
                d->progress.total = d->content_length;
        report_progress_update(&d->progress, d->bytes, false);

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

static void *download_thread(void *userdata) {
        ImageDownload *d = userdata;
        uint64_t total = 0;

        /* A reader that closed its end ends a backoff wait at once; resuming
         * happens inside fetch_stream(), so the hash and the reader's
         * decompression state simply continue. */
        FetchStreamOptions o = { .cancel_fd = d->fd, .what = "Image download" };

        d->r = fetch_stream(d->url, &o, download_write, d, &d->content_length, &total, &d->error);
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

int image_download_start(ImageDownload *d, const char *url, int *ret_fd) {
        _cleanup_close_ int rfd = -1;
        sigset_t all, saved;
        int fds[2], r;

        *d = (ImageDownload) { .url = url, .fd = -1 };

        d->label = download_label(url);
        d->md = EVP_MD_CTX_new();
        if (!d->label || !d->md)
                return -ENOMEM;
        if (EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1)
                return -EIO;

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
}
