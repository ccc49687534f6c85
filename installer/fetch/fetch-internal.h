/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal to installer/fetch: the TLS settings every transfer applies
 * (fetch-tls.c). */

#include <curl/curl.h>

/* For an http or https URL: the trusted CAs (site CA and added CAs only
 * when there is a site CA), peer and host verification, at least TLS 1.2;
 * http too, for a redirect to https. For https, first the clock check (a
 * redirect from http to https is not clock-checked: OpenSSL then reports
 * "not yet valid"). Nothing for other URLs. Returns 0, or -EPROTO with the
 * reason in errbuf (CURL_ERROR_SIZE bytes), -ENOMEM. */
int fetch_tls_setup(CURL *c, const char *url, char *errbuf);

/* After a failed transfer of an https URL (or an http URL redirected to
 * https): when cc is a certificate
 * problem, replace errbuf by "TLS certificate refused: REASON (curl's
 * text)", REASON from the verification result (expired, not yet valid, not
 * signed by a trusted CA, another host's name). */
void fetch_tls_explain(CURL *c, const char *url, CURLcode cc, char *errbuf);
