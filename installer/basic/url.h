/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* URL helpers (libc only), below every module that names a URL: profile/
 * validates, fetch/ transfers, plan/ and install/ print. A URL may carry credentials
 * (http://user:password@host/...) and tokens in its query; neither may ever
 * reach a log or an error message. Like iPXE, anything printed is first
 * reduced to scheme://host[:port]/path. */

#include "basic/macro.h"

/* A new string: url without userinfo ("user:password@"), query ("?...") and
 * fragment ("#..."). Returns NULL only when out of memory. Safe to call on
 * strings that are not URLs at all (they lose only "?..." and "#..."). */
char *url_redact(const char *url);

/* Does url carry userinfo ("user@" or "user:password@") in its authority? */
bool url_has_credentials(const char *url);

/* The archive format implied by the suffix of url's path (query and fragment
 * ignored, case-insensitive): "tar", "tar.gz", "tar.xz" or "tar.zst"
 * (.tgz, .txz and .tzst are recognised too). NULL when unrecognised. */
const char *url_image_format(const char *url);

/* Does s start with a URL scheme ("http:", "file:", ...)? */
bool url_has_scheme(const char *s);

/* Resolve the reference ref against base as a browser resolves a link (RFC
 * 3986 section 5.2): an absolute URL stays as it is; otherwise ref replaces
 * the last segment of base's path ("a/b.yaml" + "c.yaml" -> "a/c.yaml"), or
 * the whole path when it starts with '/'. "." and ".." segments are removed.
 * base may be a URL or a file path (then ".." that cannot be removed from a
 * relative path stays). Returns 0, -EINVAL or -ENOMEM. */
int url_resolve(const char *base, const char *ref, char **ret);
