/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* HTTP(S) and file:// transfers through libcurl. URLs are redacted (no
 * user, password, query or fragment) in every message. */

#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

typedef struct FetchOptions {
        unsigned attempts;        /* tries for transient errors; 0 = 3 */
        unsigned timeout_sec;     /* per attempt, for small documents; 0 = 30 */
        size_t max_size;          /* refuse larger bodies; 0 = 4 MiB */
        const char *bearer_token; /* SECRET; "Authorization: Bearer TOKEN" (http/https),
                                   * and then redirects are not followed */
} FetchOptions;

/* Fetch a small document into memory. Returns 0, -ENOENT when the server says
 * 404/410 (or the file does not exist), -EFBIG when larger than max_size,
 * -EACCES for other 4xx answers, -EIO/-ETIMEDOUT/-ECONNREFUSED... for 5xx
 * and transport errors (and for a redirect when a bearer token is given). *ret_error (if
 * given) describes the failure with the redacted URL. */
int fetch_to_buffer(const char *url, const FetchOptions *opts, char **ret, size_t *ret_size,
                    char **ret_error);

/* Streaming download: data is handed to write_cb as it arrives; write_cb
 * returns 0 to continue or -errno to abort. Used for OS images. If
 * content_length is not NULL, it is set to the announced size (when the
 * server announces one) before write_cb first runs. */
typedef int (*fetch_write_cb)(const void *data, size_t size, void *userdata);
int fetch_stream(const char *url, fetch_write_cb write_cb, void *userdata, uint64_t *content_length,
                 uint64_t *ret_total_size, char **ret_error);

/* POST body to url (http/https only; redirects are not followed, so a token
 * never travels to another host). content_type is required; bearer_token (if
 * not NULL) goes into "Authorization: Bearer TOKEN"; extra_headers is a
 * NULL-terminated list of "Name: value" lines (may be NULL). One attempt of at
 * most timeout_sec seconds (connecting included). Returns 0 for a 2xx answer,
 * -EACCES (401/403), -ENOENT (404/410), -EFBIG (413: sending it again is
 * pointless), -EBADMSG (400, 415, 422: refused as malformed, ditto), -EIO
 * (other HTTP errors and transport errors), -ETIMEDOUT, -ECONNREFUSED...
 * *ret_error (if given) says what went
 * wrong with the redacted URL. Never logs. */
typedef struct FetchPost {
        const char *content_type;
        const char *bearer_token;     /* SECRET */
        const char *const *extra_headers;
        const void *body;
        size_t size;
        unsigned timeout_sec;         /* 0 = 10 */
} FetchPost;
int fetch_post(const char *url, const FetchPost *p, char **ret_error);

/* Copy of url without userinfo, query and fragment: safe to print. The same
 * as url_redact() (basic/url.h), which modules that do no I/O call. */
char *fetch_url_redact(const char *url);

/* Global libcurl init/cleanup, once per process. */
int fetch_global_init(void);
void fetch_global_done(void);
