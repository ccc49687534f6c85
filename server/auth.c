/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "auth.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/strutil.h"

static void hex(const unsigned char *in, size_t n, char *out) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * n] = '\0';
}

int auth_sha256_hex(const void *data, size_t size, char ret[static AUTH_SHA256_HEX + 1]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;

        if (EVP_Digest(data, size, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
                return -EIO;
        hex(md, 32, ret);
        return 0;
}

int auth_token_new(char token[static AUTH_TOKEN_HEX + 1], char sha256[static AUTH_SHA256_HEX + 1]) {
        unsigned char raw[32];
        size_t got = 0;

        while (got < sizeof(raw)) {
                ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t) n;
        }
        hex(raw, sizeof(raw), token);
        OPENSSL_cleanse(raw, sizeof(raw));
        return auth_sha256_hex(token, AUTH_TOKEN_HEX, sha256);
}

bool auth_digest_equal(const char *a, const char *b) {
        if (!a || !b || strlen(a) != AUTH_SHA256_HEX || strlen(b) != AUTH_SHA256_HEX)
                return false;
        return CRYPTO_memcmp(a, b, AUTH_SHA256_HEX) == 0;
}

bool auth_token_wellformed(const char *token) {
        size_t n = 0;

        if (!token)
                return false;
        for (const char *p = token; *p; p++, n++)
                if (*p <= ' ' || *p > '~' || n >= 256)
                        return false;
        return n > 0;
}

int auth_operator_token_load(const char *path, char ret_sha256[static AUTH_SHA256_HEX + 1]) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = read_regular_file(path, 4096, &text, &size);
        if (r == -ENOENT) {
                char token[AUTH_TOKEN_HEX + 2], digest[AUTH_SHA256_HEX + 1];
                _cleanup_free_ char *dir = strdup(path);
                _cleanup_close_ int fd = -1;

                if (!dir)
                        return log_error_errno(ENOMEM, "Out of memory");
                char *slash = strrchr(dir, '/');
                if (slash && slash != dir) {
                        *slash = '\0';
                        r = mkdir_p(dir, 0700);
                        if (r < 0)
                                return log_error_errno(r, "Failed to create %s: %m", dir);
                }
                r = auth_token_new(token, digest);
                if (r < 0)
                        return log_error_errno(r, "Failed to make an operator token: %m");
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return log_error_errno(errno, "Failed to create the operator token file %s: %m", path);
                strcat(token, "\n");
                r = write_all(fd, token, strlen(token));
                OPENSSL_cleanse(token, sizeof(token));
                if (r < 0 || fsync(fd) < 0) {
                        r = r < 0 ? r : -errno;
                        (void) unlink(path);
                        return log_error_errno(r, "Failed to write the operator token file %s: %m", path);
                }
                memcpy(ret_sha256, digest, AUTH_SHA256_HEX + 1);
                log_info("Created the operator token file %s (mode 0600)", path);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to read the operator token file %s: %m", path);

        char *t = strstrip(text);
        if (!auth_token_wellformed(t)) {
                OPENSSL_cleanse(text, size);
                return log_error_errno(EINVAL, "The operator token file %s holds no token (one line of printable characters)", path);
        }
        r = auth_sha256_hex(t, strlen(t), ret_sha256);
        OPENSSL_cleanse(text, size);
        if (r < 0)
                return log_error_errno(r, "Failed to hash the operator token: %m");
        return 0;
}
