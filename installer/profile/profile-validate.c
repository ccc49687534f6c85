/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure validators for the values a profile holds. Each returns NULL when the
 * value is fine and otherwise a short reason (a static string) that the
 * caller puts into its message. None of them ever includes the value itself,
 * so they are safe for secrets. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <sys/socket.h>

#include "profile/profile-internal.h"
#include "basic/url.h"

/* ---- names ---------------------------------------------------------------- */

static const char *check_dns_name(const char *s, bool allow_upper) {
        size_t len = strlen(s);

        if (len == 0)
                return "must not be empty";
        if (len > 253)
                return "longer than 253 characters";

        for (const char *label = s;;) {
                size_t n = strcspn(label, ".");

                if (n == 0)
                        return "has an empty label (a leading, trailing or doubled '.')";
                if (n > 63)
                        return "has a label longer than 63 characters";
                if (label[0] == '-' || label[n - 1] == '-')
                        return "has a label that starts or ends with '-'";
                for (size_t i = 0; i < n; i++) {
                        char ch = label[i];
                        if (ch >= 'A' && ch <= 'Z' && !allow_upper)
                                return "must be lower case (a-z, 0-9, '-' and '.')";
                        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
                            !(ch >= '0' && ch <= '9') && ch != '-')
                                return "may only contain a-z, 0-9, '-' and '.'";
                }
                if (label[n] == 0)
                        return NULL;
                label += n + 1;
        }
}

const char *profile_check_hostname(const char *s) {
        return check_dns_name(s, false);
}

const char *profile_check_domain(const char *s) {
        return check_dns_name(s, true);
}

const char *profile_check_user_name(const char *s) {
        size_t len = strlen(s);

        if (len == 0 || len > 32)
                return "must be 1 to 32 characters long";
        if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return "must start with a lower-case letter or '_'";
        for (size_t i = 1; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
                      s[i] == '-'))
                        return "may only contain a-z, 0-9, '_' and '-'";
        return NULL;
}

/* ---- secrets ---------------------------------------------------------------- */

const char *profile_check_password_hash(const char *s) {
        static const char *const prefixes[] = { "$y$", "$gy$", "$7$", "$2b$", "$6$", "$5$", "$1$" };
        const char *rest = NULL;

        if (streq(s, "!") || streq(s, "*"))
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(prefixes) && !rest; i++)
                rest = startswith(s, prefixes[i]);
        if (!rest || !strchr(rest, '$') || endswith(rest, "$") ||
            rest[strspn(rest, "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$=,")] != 0)
                return "not a crypt(3) password hash ($y$, $6$, $5$, $2b$, $7$ or $1$), nor \"!\" or \"*\" "
                       "for a locked password; plaintext passwords are refused here (give one as "
                       "'password' with 'hash_password: true', or make a hash with 'mkpasswd -m yescrypt')";
        return NULL;
}

/* ---- OpenSSH public keys -------------------------------------------------------- */

static const char *const ssh_key_types[] = {
        "ssh-ed25519",         "ssh-rsa",
        "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
};

static int base64_value(char ch) {
        if (ch >= 'A' && ch <= 'Z')
                return ch - 'A';
        if (ch >= 'a' && ch <= 'z')
                return ch - 'a' + 26;
        if (ch >= '0' && ch <= '9')
                return ch - '0' + 52;
        if (ch == '+')
                return 62;
        if (ch == '/')
                return 63;
        return -1;
}

/* Check that s[0..len) is padded standard base64 and decode its first max
 * bytes into buf. Returns the full decoded length, or -EINVAL. */
static ssize_t base64_decode_prefix(const char *s, size_t len, uint8_t *buf, size_t max) {
        size_t out = 0;

        if (len == 0 || len % 4 != 0)
                return -EINVAL;
        for (size_t i = 0; i < len; i += 4) {
                int v[4];
                size_t pad = 0;
                bool last = i + 4 == len;

                for (size_t j = 0; j < 4; j++) {
                        if (s[i + j] == '=' && last && j >= 2) {
                                pad++;
                                v[j] = 0;
                                continue;
                        }
                        if (pad > 0 || (v[j] = base64_value(s[i + j])) < 0)
                                return -EINVAL;
                }
                uint32_t group = (uint32_t) v[0] << 18 | (uint32_t) v[1] << 12 | (uint32_t) v[2] << 6 | (uint32_t) v[3];
                for (size_t j = 0; j < 3 - pad; j++, out++)
                        if (out < max)
                                buf[out] = (uint8_t) (group >> (16 - 8 * j));
        }
        return (ssize_t) out;
}

static bool ssh_key_type_known(const char *t, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(ssh_key_types); i++)
                if (strlen(ssh_key_types[i]) == n && strncmp(ssh_key_types[i], t, n) == 0)
                        return true;
        return false;
}

static size_t token_length(const char *s) {
        return strcspn(s, " \t");
}

static const char *skip_blanks(const char *s) {
        return s + strspn(s, " \t");
}

/* Length of the leading authorized_keys options, which may contain quoted
 * strings with blanks: command="echo hi",no-pty. -1 on an open quote. */
static ssize_t options_length(const char *s) {
        bool quoted = false;
        size_t i = 0;

        for (; s[i] && (quoted || (s[i] != ' ' && s[i] != '\t')); i++) {
                if (quoted && s[i] == '\\' && s[i + 1])
                        i++;
                else if (s[i] == '"')
                        quoted = !quoted;
        }
        return quoted ? -1 : (ssize_t) i;
}

/* The decoded blob starts with the key type as an SSH string (32-bit
 * big-endian length, then the bytes). */
static const char *check_ssh_blob(const char *type, size_t type_len, const char *b64) {
        uint8_t blob[64];
        size_t b64_len = token_length(b64);
        ssize_t n;

        if (b64_len == 0)
                return "the base64 key data after the key type is missing";
        n = base64_decode_prefix(b64, b64_len, blob, sizeof(blob));
        if (n < 0)
                return "the key data is not valid base64";
        if ((size_t) n <= 4 + type_len ||
            ((uint32_t) blob[0] << 24 | (uint32_t) blob[1] << 16 | (uint32_t) blob[2] << 8 | blob[3]) != type_len ||
            memcmp(blob + 4, type, type_len) != 0)
                return "the key data does not hold a key of the stated type (damaged or mixed-up key?)";
        return NULL;
}

const char *profile_check_ssh_key(const char *s) {
        const char *type;
        size_t n;

        if (strpbrk(s, "\r\n"))
                return "must be a single line (one key per list item)";
        type = skip_blanks(s);
        n = token_length(type);
        if (!ssh_key_type_known(type, n) && !(n == 7 && strncmp(type, "ssh-dss", 7) == 0)) {
                /* Not a key type, so these must be options. */
                ssize_t o = options_length(type);
                if (o < 0)
                        return "the key options have an unterminated quote";
                type = skip_blanks(type + o);
                n = token_length(type);
        }
        if (n == 0)
                return "not an OpenSSH public key (expected '[OPTIONS] TYPE BASE64-DATA [COMMENT]')";
        if (n == 7 && strncmp(type, "ssh-dss", 7) == 0)
                return "DSA (ssh-dss) keys are insecure and refused; use an ssh-ed25519 key";
        if (!ssh_key_type_known(type, n))
                return "unknown key type (expected ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521, "
                       "sk-ssh-ed25519@openssh.com or sk-ecdsa-sha2-nistp256@openssh.com)";
        return check_ssh_blob(type, n, skip_blanks(type + n));
}

/* ---- paths ------------------------------------------------------------------- */

static bool has_blank_or_control(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || *s == 0x7f)
                        return true;
        return false;
}

const char *profile_check_abs_path(const char *s) {
        if (s[0] != '/')
                return "must be an absolute path";
        if (has_blank_or_control(s))
                return "must not contain white space or control characters";
        if (strlen(s) >= 4096)
                return "is too long";
        return NULL;
}

const char *profile_check_mount_point(const char *s) {
        const char *why = profile_check_abs_path(s);

        if (why)
                return why;
        if (streq(s, "/"))
                return NULL;
        if (endswith(s, "/"))
                return "must not end with '/'";
        if (strstr(s, "//"))
                return "must not contain '//'";
        if (strchr(s, '\\'))
                return "must not contain '\\'";
        for (const char *c = s + 1;;) {
                size_t n = strcspn(c, "/");
                if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return "must not contain '.' or '..' components";
                if (c[n] == 0)
                        break;
                c += n + 1;
        }
        /* The kernel's and the init system's own filesystems: the installer
         * mounts them into the target for its chroot steps, and the booted
         * system mounts them over anything in fstab. */
        static const char *const api[] = { "/proc", "/sys", "/dev", "/run" };
        for (size_t i = 0; i < ELEMENTSOF(api); i++) {
                const char *rest = startswith(s, api[i]);
                if (rest && (!*rest || *rest == '/'))
                        return "must not be /proc, /sys, /dev, /run or below them (the system mounts its own "
                               "filesystems there)";
        }
        return NULL;
}

/* ---- addresses ---------------------------------------------------------------- */

int profile_ip_family(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];
        char host[INET6_ADDRSTRLEN];
        size_t n = strcspn(s, "/");

        if (n >= sizeof(host))
                return -1;
        memcpy(host, s, n);
        host[n] = 0;
        if (inet_pton(AF_INET, host, buf) == 1)
                return AF_INET;
        if (inet_pton(AF_INET6, host, buf) == 1)
                return AF_INET6;
        return -1;
}

const char *profile_check_ip(const char *s) {
        if (strchr(s, '/'))
                return "must be an address without a prefix length";
        return profile_ip_family(s) < 0 ? "not an IPv4 or IPv6 address" : NULL;
}

const char *profile_check_ip4(const char *s) {
        if (strchr(s, '/') || profile_ip_family(s) != AF_INET)
                return "not an IPv4 address";
        return NULL;
}

const char *profile_check_ip6(const char *s) {
        if (strchr(s, '/') || profile_ip_family(s) != AF_INET6)
                return "not an IPv6 address";
        return NULL;
}

const char *profile_check_cidr(const char *s) {
        const char *slash = strchr(s, '/');
        int family = profile_ip_family(s);
        unsigned long prefix;
        char *end;

        if (family < 0)
                return "not an IPv4 or IPv6 address";
        if (!slash || !isdigit((unsigned char) slash[1]))
                return "needs a prefix length (ADDRESS/PREFIX, for example 192.168.1.10/24)";
        errno = 0;
        prefix = strtoul(slash + 1, &end, 10);
        if (errno != 0 || *end != 0)
                return "the prefix length is not a number";
        if (prefix > (family == AF_INET ? 32u : 128u))
                return family == AF_INET ? "the prefix length must be 0 to 32"
                                         : "the prefix length must be 0 to 128";
        return NULL;
}

/* ---- the image ------------------------------------------------------------------- */

const char *profile_check_url(const char *s) {
        const char *rest;

        if (has_blank_or_control(s))
                return "must not contain white space or control characters";
        if ((rest = startswith(s, "file://"))) {
                if (rest[0] != '/' || rest[1] == 0)
                        return "a file URL must look like file:///absolute/path";
                return NULL;
        }
        if (!(rest = startswith(s, "http://")) && !(rest = startswith(s, "https://")))
                return "only http://, https:// and file:// URLs are supported";

        size_t auth = strcspn(rest, "/?#");
        const char *at = memrchr(rest, '@', auth);
        const char *host = at ? at + 1 : rest;
        if (host == rest + auth || host[0] == ':')
                return "has no host name";
        if (rest[auth] != '/' || rest[auth + 1] == 0 || rest[auth + 1] == '?' || rest[auth + 1] == '#')
                return "names no file (the path is empty)";
        return NULL;
}

const char *profile_check_url_reference(const char *s) {
        size_t first = strcspn(s, "/?#");

        if (has_blank_or_control(s))
                return "must not contain white space or control characters";
        if (startswith(s, "//"))
                return "a reference starting with '//' names a host: write the whole URL (http://HOST/PATH)";
        if (memchr(s, ':', first))
                return "is neither a URL (http://, https://, file://) nor a relative reference "
                       "(a ':' in the first segment; write './' before it)";
        if (s[strcspn(s, "?#")] == 0 ? s[0] == 0 : s[0] == '?' || s[0] == '#')
                return "names no file (the path is empty)";
        return NULL;
}

const char *profile_check_sha256(const char *s) {
        if (strchr(s, '@'))
                return "is a template placeholder; profiles/*.yaml are templates whose @IMAGE_SHA256@ "
                       "ipxe/mkwww.sh replaces with the image's digest";
        if (strlen(s) != 64 || s[strspn(s, "0123456789abcdefABCDEF")] != 0)
                return "must be 64 hexadecimal digits (the output of sha256sum)";
        return NULL;
}

/* ---- GPT partition names ------------------------------------------------------------ */

size_t profile_utf16_length(const char *s) {
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if ((*p & 0xC0) == 0x80)
                        continue;          /* continuation byte */
                n += *p >= 0xF0 ? 2 : 1;   /* outside the BMP: a surrogate pair */
        }
        return n;
}
