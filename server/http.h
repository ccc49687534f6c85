/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The HTTP edge of the site server (libmicrohttpd), shared by the request
 * handlers: files.c, answer.c, intake.c, api.c. http.c owns the daemon, the
 * Store pool, the request life cycle (one Request per HTTP request, from the
 * URI log callback to the completion callback), request bodies (counted as
 * they arrive, refused past their cap) and the access log.
 *
 * A handler either answers at once (http_respond*, http_refuse) or accepts a
 * body (http_accept_body) and answers from its finish callback once the body
 * is complete. A handler never keeps a Store across calls: it borrows one
 * with http_store() and gives it back before it returns (the daemon's worker
 * threads each serve many connections; the pool has one Store per thread). */

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "store.h"

struct MHD_Connection;
struct MHD_Response;

typedef enum SitePolicy {
        SITE_POLICY_DISCOVER,
        SITE_POLICY_INSTALL,
} SitePolicy;

typedef struct ServerConfig {
        const char *listen;           /* "127.0.0.1:8080", "[::1]:0" */
        const char *www;              /* the boot tree */
        const char *profiles;         /* default WWW/profiles */
        const char *state_dir;
        const char *db_url;
        const char *base_url;         /* NULL: http://LISTEN/ (the bound port) */
        const char *append;           /* extra kernel arguments, NULL = none */
        const char *operator_token_file;
        const char *port_file;        /* write "http://HOST:PORT/" here once bound */
        SitePolicy policy;
        unsigned threads;
        uint64_t max_body;            /* events and inventories; logs get 4x */
} ServerConfig;

typedef struct StorePool StorePool;

typedef struct Server {
        const ServerConfig *config;
        char *base_url;               /* always ends with '/' */
        char operator_sha256[65];     /* hex of the operator token's SHA-256 */
        int www_fd, profiles_fd;      /* O_PATH directories */
        StorePool *pool;
        struct MHD_Daemon *daemon;
} Server;

typedef struct Request Request;
typedef void (*RequestFinish)(Request *r);

struct Request {
        Server *server;
        struct MHD_Connection *conn;
        char *raw_target;             /* as received: path and query, still encoded */
        char *path;                   /* decoded once (http_decode_path), NULL before routing */
        const char *method;
        char client[64];
        int64_t start_usec;
        bool routed, answered;
        unsigned status;
        uint64_t bytes;

        /* The body, when a handler accepted one. */
        RequestFinish finish;
        char *body;                   /* NUL-terminated (the NUL not counted) */
        size_t body_len, body_alloc, body_cap;
        bool body_too_big;

        /* Handler state between the first call and finish. */
        int64_t machine_id, attempt_id;
        int upload;                   /* intake.c's kind of upload */
        char action[16];              /* api.c's operator action */
};

/* The daemon: bind, serve until SIGTERM/SIGINT, stop. Returns 0 or -errno
 * (logged). */
int http_serve(const ServerConfig *config);

/* Borrow a Store (never NULL once the server runs) and give it back. */
Store *http_store(Request *r);
void http_store_release(Request *r, Store *s);

int64_t now_usec(void);

/* Answers. Each queues exactly one response; the first wins. */
void http_respond(Request *r, unsigned status, const char *content_type, char *body_owned, size_t len);
void http_respond_text(Request *r, unsigned status, const char *content_type, const char *text);
void http_respond_json(Request *r, unsigned status, void *json_t_owned);
/* Queue a response built elsewhere (files.c); takes the reference. */
void http_queue(Request *r, unsigned status, struct MHD_Response *resp, uint64_t bytes);
/* Refuse: logs "refused: METHOD PATH from CLIENT: STATUS REASON" on stderr and
 * answers {"error":"REASON"} (text under non-/api paths). The reason must
 * never contain a token. */
void http_refuse(Request *r, unsigned status, const char *fmt, ...) _printf_(3, 4);
void http_add_security_headers(struct MHD_Response *resp);

/* Accept a request body of at most cap bytes; finish runs when it is
 * complete. Past the cap: 413 (the rest is not stored). */
void http_accept_body(Request *r, size_t cap, RequestFinish finish);

/* Request headers and query arguments (decoded by libmicrohttpd). */
const char *http_header(Request *r, const char *name);
const char *http_arg(Request *r, const char *name);
/* The presented bearer token, NULL when none. */
const char *http_bearer(Request *r);
/* "type/subtype" of Content-Type equals want (parameters ignored). */
bool http_content_type_is(Request *r, const char *want);

/* The request target for a log line: undecoded, without the query,
 * printable ASCII only, at most 200 characters (and "..."). */
void http_log_path(const char *raw, char buf[static 204]);

/* Open rel under dirfd, never leaving it (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS; files.c): an fd or -errno (-EXDEV: a symlink
 * leads out). */
int files_open_beneath(int dirfd, const char *rel);

/* Decode the path of a request target once: %XX (not %00, %2F, %5C),
 * refusing "..", ".", empty segments ("//") and backslashes. Returns 0, or
 * -EINVAL (malformed encoding) or -EPERM (a traversal attempt) with *reason set. */
int http_decode_path(const char *raw, char **ret, const char **reason);

/* Routing (api.c): called once the headers are in. */
void api_route(Request *r);

/* The handlers. */
void files_handle(Request *r);                          /* GET/HEAD of a file */
void answer_handle_boot(Request *r);                    /* GET /boot.ipxe */
void answer_handle_answer(Request *r);                  /* GET /ipxe/answer */
void intake_begin_report(Request *r, const char *id);   /* POST .../report */
void intake_handle_next(Request *r, const char *id);    /* GET .../next */
