/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal to installer/fetch: the TLS settings every transfer applies
 * (fetch-tls.c). */

#include <curl/curl.h>

/* For an https URL: the clock check, then the trusted CAs (site CA and
 * added CAs only when there is a site CA), peer and host verification, at
 * least TLS 1.2. Nothing for other URLs. Returns 0, or -EPROTO with the
 * reason in errbuf (CURL_ERROR_SIZE bytes), -ENOMEM. */
int fetch_tls_setup(CURL *c, const char *url, char *errbuf);

/* After a failed transfer of an https URL: when cc is a certificate
 * problem, replace errbuf by "TLS certificate refused: REASON (curl's
 * text)", REASON from the verification result (expired, not yet valid, not
 * signed by a trusted CA, another host's name). */
void fetch_tls_explain(CURL *c, const char *url, CURLcode cc, char *errbuf);
