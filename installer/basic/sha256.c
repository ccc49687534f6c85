/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "basic/sha256.h"

int sha256_hex(const void *data, size_t size, char hex[static 65]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        hex[0] = 0;
        if (!EVP_Digest(data, size, md, &n, EVP_sha256(), NULL) || n != 32)
                return -EIO;
        for (unsigned i = 0; i < n; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        return 0;
}
