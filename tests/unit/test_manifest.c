/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image manifest (docs/manifest.md): the parser's line-numbered errors
 * and its checked arithmetic, chunk geometry, building one from a file, the
 * URL rule, and the chunk gate of image_install(): an image whose byte in
 * chunk k is flipped stops with only chunks 0..k-1 unpacked.
 *
 * The images are written here with libarchive's writer (a plain tar and a
 * tar.zst of the same files, random contents so that zstd stores them as they
 * are) and streamed from file:// URLs; where each file lies in the tar is
 * read back with archive_read_header_position(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "image/image.h"
#include "image/manifest.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* ---- parsing ------------------------------------------------------------------- */

static int parse(const char *text, Manifest **ret, char **ret_error) {
        return manifest_parse("m", text, strlen(text), ret, ret_error);
}

static void test_parse_good(void **state) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        const char *text = "installer-manifest 1\n"
                           "size: 200000\n"
                           "chunk-size: 65536\n"
                           "sha256: " HEX_A "\n"
                           "chunk: " HEX_B "\n"
                           "chunk: " HEX_B "\n"
                           "chunk: " HEX_B "\n"
                           "chunk: " HEX_A "\n";
        char doc[65];

        assert_int_equal(parse(text, &m, NULL), 0);
        assert_int_equal(m->size, 200000);
        assert_int_equal(m->chunk_size, 65536);
        assert_int_equal(m->n_chunks, 4);
        assert_string_equal(m->sha256_hex, HEX_A);
        assert_int_equal(m->sha256[0], 0xaa);
        assert_int_equal(m->chunks[3][31], 0xaa);
        assert_int_equal(m->chunks[0][0], 0xbb);
        /* The document's own digest, for logs. */
        {
                unsigned char d[32];
                unsigned n = 0;
                assert_int_equal(EVP_Digest(text, strlen(text), d, &n, EVP_sha256(), NULL), 1);
                for (unsigned i = 0; i < n; i++)
                        sprintf(doc + 2 * i, "%02x", d[i]);
        }
        assert_string_equal(m->document_sha256, doc);

        /* Geometry: the last chunk holds the rest. */
        assert_int_equal(manifest_chunk_offset(m, 3), 196608);
        assert_int_equal(manifest_chunk_length(m, 0), 65536);
        assert_int_equal(manifest_chunk_length(m, 3), 200000 - 196608);
        assert_int_equal(manifest_chunk_length(m, 4), 0);

        /* Chunk check. */
        uint8_t b[32], a[32];
        memset(b, 0xbb, sizeof b);
        memset(a, 0xaa, sizeof a);
        assert_int_equal(manifest_chunk_check(m, 0, b), 0);
        assert_int_equal(manifest_chunk_check(m, 0, a), -EBADMSG);
        assert_int_equal(manifest_chunk_check(m, 3, a), 0);
        assert_int_equal(manifest_chunk_check(m, 4, a), -EBADMSG);
        assert_int_equal(manifest_chunk_check(m, UINT64_MAX, a), -EBADMSG);
}

static void test_parse_exact_multiple(void **state) {
        _cleanup_(manifest_freep) Manifest *m = NULL;

        assert_int_equal(parse("installer-manifest 1\nsize: 131072\nchunk-size: 65536\nsha256: " HEX_A
                               "\nchunk: " HEX_B "\nchunk: " HEX_B "\n",
                               &m, NULL),
                         0);
        assert_int_equal(m->n_chunks, 2);
        assert_int_equal(manifest_chunk_length(m, 1), 65536);
}

typedef struct BadCase {
        const char *text;
        const char *error; /* the start of the message */
} BadCase;

#define HEAD "installer-manifest 1\n"
#define SIZE1 "size: 100\n"
#define CS "chunk-size: 65536\n"
#define SHA "sha256: " HEX_A "\n"
#define CHUNK "chunk: " HEX_B "\n"

static const BadCase bad_cases[] = {
        { "", "m:1: the manifest is empty" },
        { "installer-manifest 2\n", "m:1: the first line must be 'installer-manifest 1'" },
        { "installer-manifest 1", "m:1: the last line does not end with a line feed" },
        { "installer-manifest 1\r\n", "m:1: carriage return (CR)" },
        { HEAD, "m:2: the manifest ends before its 'size:' line" },
        { HEAD "chunk-size: 65536\n", "m:2: expected 'size: ...' here" },
        { HEAD "size:100\n", "m:2: expected 'size: ...' here" },
        { HEAD "size: 0100\n", "m:2: size must be a decimal number" },
        { HEAD "size: +100\n", "m:2: size must be a decimal number" },
        { HEAD "size: -1\n", "m:2: size must be a decimal number" },
        { HEAD "size:  100\n", "m:2: size must be a decimal number" },
        { HEAD "size: 100 \n", "m:2: size must be a decimal number" },
        { HEAD "size: 1e6\n", "m:2: size must be a decimal number" },
        { HEAD "size: \n", "m:2: size must be a decimal number" },
        { HEAD "size: 18446744073709551616\n", "m:2: size does not fit in 64 bits" },
        { HEAD "size: 99999999999999999999999\n", "m:2: size does not fit in 64 bits" },
        { HEAD "size: 0\n", "m:2: size is 0" },
        { HEAD SIZE1, "m:3: the manifest ends before its 'chunk-size:' line" },
        { HEAD SIZE1 "chunk-size: 100000\n", "m:3: chunk-size 100000 is not a power of two" },
        { HEAD SIZE1 "chunk-size: 32768\n", "m:3: chunk-size 32768 is not a power of two from 65536" },
        { HEAD SIZE1 "chunk-size: 134217728\n", "m:3: chunk-size 134217728 is not a power of two" },
        { HEAD SIZE1 "chunk-size: 0\n", "m:3: chunk-size 0 is not" },
        { HEAD SIZE1 "chunk-size: 4M\n", "m:3: chunk-size must be a decimal number" },
        { HEAD SIZE1 "chunk-size: 36893488147419103232\n", "m:3: chunk-size does not fit in 64 bits" },
        { HEAD SIZE1 CS, "m:4: the manifest ends before its 'sha256:' line" },
        { HEAD SIZE1 CS "sha256: " HEX_A "0\n", "m:4: sha256 must be 64 lower-case" },
        { HEAD SIZE1 CS "sha256: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
          "m:4: sha256 must be 64 lower-case" },
        { HEAD SIZE1 CS "sha256: gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg\n",
          "m:4: sha256 must be 64 lower-case" },
        { HEAD SIZE1 CS SHA, "m:5: the manifest ends after 0 chunk lines, but size 100 (line 2) in chunks of 65536 needs 1" },
        { HEAD SIZE1 CS SHA CHUNK CHUNK, "m:6: chunk line 2 is one too many: size 100 (line 2) in chunks of 65536 gives 1 chunk" },
        { HEAD SIZE1 CS SHA "chunk: " HEX_B, "m:5: the last line does not end with a line feed" },
        { HEAD SIZE1 CS SHA "chunk: " HEX_B "\r\n", "m:5: carriage return" },
        { HEAD SIZE1 CS SHA "chunk: " HEX_B " \n", "m:5: chunk 0: must be 64 lower-case" },
        { HEAD SIZE1 CS SHA "\n", "m:5: expected 'chunk: <64 hex digits>' here" },
        { HEAD SIZE1 CS SHA CHUNK "\n", "m:6: expected 'chunk: <64 hex digits>' here" },
        { HEAD SIZE1 CS SHA "sha256: " HEX_A "\n", "m:5: expected 'chunk: <64 hex digits>' here" },
        { HEAD "size: 200000\n" CS SHA CHUNK CHUNK CHUNK,
          "m:8: the manifest ends after 3 chunk lines, but size 200000 (line 2) in chunks of 65536 needs 4" },
        /* A size that claims 2^48 chunks: counted, not allocated. */
        { HEAD "size: 18446744073709551615\n" CS SHA CHUNK,
          "m:6: the manifest ends after 1 chunk line, but size 18446744073709551615 (line 2) in chunks of 65536 "
          "needs 281474976710656" },
};

static void test_parse_bad(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                _cleanup_(manifest_freep) Manifest *m = NULL;
                _cleanup_free_ char *err = NULL;
                int r = parse(bad_cases[i].text, &m, &err);

                if (r != -EBADMSG || !err || strncmp(err, bad_cases[i].error, strlen(bad_cases[i].error)) != 0)
                        fail_msg("case %zu: r=%d error '%s', expected '%s'", i, r, err ? err : "(null)",
                                 bad_cases[i].error);
                assert_null(m);
        }
}

static void test_parse_nul_and_too_big(void **state) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *err = NULL, *big = NULL;
        static const char nul[] = HEAD "size: 1\0" "00\n";

        assert_int_equal(manifest_parse("m", nul, sizeof nul - 1, &m, &err), -EBADMSG);
        assert_string_equal(err, "m:2: NUL byte in the line");
        free(TAKE_PTR(err));

        big = malloc(MANIFEST_DOCUMENT_MAX + 1);
        assert_non_null(big);
        memset(big, 'x', MANIFEST_DOCUMENT_MAX + 1);
        assert_int_equal(manifest_parse("m", big, MANIFEST_DOCUMENT_MAX + 1, &m, &err), -EFBIG);
        assert_non_null(strstr(err, "larger than"));
        assert_null(m);
}

/* ---- building ------------------------------------------------------------------ */

/* A memfd holding size pseudo-random bytes (seeded). */
static int data_fd(size_t size, uint32_t seed) {
        int fd = memfd_create("img", MFD_CLOEXEC);
        _cleanup_free_ uint8_t *buf = malloc(size ? size : 1);

        assert_true(fd >= 0);
        assert_non_null(buf);
        for (size_t i = 0; i < size; i++) {
                seed = seed * 1103515245u + 12345u;
                buf[i] = (uint8_t) (seed >> 16);
        }
        assert_int_equal(write_all(fd, buf, size), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static void build_and_parse(size_t size, uint64_t chunk_size, uint64_t expect_chunks) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *text = NULL, *err = NULL;
        _cleanup_close_ int fd = data_fd(size, 7);
        size_t n = 0;

        assert_int_equal(manifest_build_fd(fd, chunk_size, &text, &n, &err), 0);
        assert_int_equal(strlen(text), n);
        assert_int_equal(manifest_parse("built", text, n, &m, &err), 0);
        assert_int_equal(m->size, size);
        assert_int_equal(m->n_chunks, expect_chunks);
        assert_int_equal(m->chunk_size, chunk_size ? chunk_size : MANIFEST_CHUNK_SIZE_DEFAULT);
}

static void test_build(void **state) {
        build_and_parse(1, 65536, 1);
        build_and_parse(65535, 65536, 1);
        build_and_parse(65536, 65536, 1);
        build_and_parse(65537, 65536, 2);
        build_and_parse(300000, 65536, 5);
        build_and_parse(5 * 1024 * 1024, 0, 2); /* default 4 MiB */

        /* The whole-file digest and the chunks are those of the data. */
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *text = NULL, *err = NULL;
        _cleanup_close_ int fd = data_fd(100000, 9);
        _cleanup_free_ uint8_t *buf = malloc(100000);
        unsigned char d[32];
        unsigned dn = 0;
        size_t n = 0;

        assert_int_equal(manifest_build_fd(fd, 65536, &text, &n, &err), 0);
        assert_int_equal(manifest_parse("built", text, n, &m, &err), 0);
        assert_int_equal(pread(fd, buf, 100000, 0), 100000);
        assert_int_equal(EVP_Digest(buf, 100000, d, &dn, EVP_sha256(), NULL), 1);
        assert_memory_equal(m->sha256, d, 32);
        assert_int_equal(EVP_Digest(buf + 65536, 100000 - 65536, d, &dn, EVP_sha256(), NULL), 1);
        assert_int_equal(manifest_chunk_check(m, 1, d), 0);
        buf[70000] ^= 1;
        assert_int_equal(EVP_Digest(buf + 65536, 100000 - 65536, d, &dn, EVP_sha256(), NULL), 1);
        assert_int_equal(manifest_chunk_check(m, 1, d), -EBADMSG);
}

static void test_build_bad(void **state) {
        _cleanup_free_ char *text = NULL, *err = NULL;
        _cleanup_close_ int fd = data_fd(0, 1);
        size_t n = 0;

        assert_int_equal(manifest_build_fd(fd, 65536, &text, &n, &err), -ENODATA);
        free(TAKE_PTR(err));
        assert_int_equal(manifest_build_fd(fd, 100000, &text, &n, &err), -EINVAL);
        assert_non_null(strstr(err, "not a power of two"));
        free(TAKE_PTR(err));
        assert_int_equal(manifest_build_fd(fd, 32768, &text, &n, &err), -EINVAL);
        free(TAKE_PTR(err));
        assert_int_equal(manifest_build_fd(fd, 128 * MiB, &text, &n, &err), -EINVAL);
        assert_null(text);
}

static void test_format_and_url(void **state) {
        char b[32];
        _cleanup_free_ char *u1 = NULL, *u2 = NULL, *u3 = NULL, *u4 = NULL;

        assert_string_equal(manifest_format_chunk_size(4 * MiB, b, sizeof b), "4 MiB");
        assert_string_equal(manifest_format_chunk_size(64 * KiB, b, sizeof b), "64 KiB");
        assert_string_equal(manifest_format_chunk_size(64 * MiB, b, sizeof b), "64 MiB");

        assert_int_equal(manifest_url_for_image("http://h/i.tar.zst", &u1), 0);
        assert_string_equal(u1, "http://h/i.tar.zst.manifest");
        assert_int_equal(manifest_url_for_image("http://u:p@h/i.tar.zst?t=1#x", &u2), 0);
        assert_string_equal(u2, "http://u:p@h/i.tar.zst.manifest?t=1#x");
        assert_int_equal(manifest_url_for_image("images/a?b.tar", &u3), 0);
        assert_string_equal(u3, "images/a?b.tar.manifest"); /* a path: no query */
        assert_int_equal(manifest_url_for_image("file:///srv/i.tar", &u4), 0);
        assert_string_equal(u4, "file:///srv/i.tar.manifest");
}

/* ---- the chunk gate ------------------------------------------------------------ */

#define GATE_FILES 24
#define GATE_FILE_SIZE 40000
#define GATE_CHUNK 65536

typedef struct Gate {
        char work[64];
        char *tar, *zst;
        uint64_t header[GATE_FILES]; /* offset of each file's header in the plain tar */
        uint64_t end[GATE_FILES];    /* and of the end of its data */
} Gate;

static Gate gate;

static void write_image(const char *path, bool zstd) {
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();
        _cleanup_free_ uint8_t *buf = malloc(GATE_FILE_SIZE);

        assert_non_null(a);
        assert_non_null(buf);
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        if (zstd)
                assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
        for (unsigned i = 0; i < GATE_FILES; i++) {
                char name[32];
                uint32_t seed = 1000 + i;
                for (size_t k = 0; k < GATE_FILE_SIZE; k++) {
                        seed = seed * 1103515245u + 12345u;
                        buf[k] = (uint8_t) (seed >> 16);
                }
                snprintf(name, sizeof name, "f%02u", i);
                archive_entry_clear(e);
                archive_entry_set_pathname(e, name);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, GATE_FILE_SIZE);
                archive_entry_set_mtime(e, 1700000000, 0);
                assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
                assert_int_equal(archive_write_data(a, buf, GATE_FILE_SIZE), GATE_FILE_SIZE);
        }
        archive_entry_free(e);
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

/* Where each file lies in the plain tar. */
static void read_layout(void) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        unsigned i = 0;

        assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
        assert_int_equal(archive_read_open_filename(a, gate.tar, 65536), ARCHIVE_OK);
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                assert_true(i < GATE_FILES);
                gate.header[i] = (uint64_t) archive_read_header_position(a);
                /* The data follows the header (one 512-byte block for these
                 * short names, no pax extension). */
                gate.end[i] = gate.header[i] + 512 + GATE_FILE_SIZE;
                i++;
        }
        assert_int_equal(i, GATE_FILES);
        archive_read_free(a);
}

static int gate_setup(void **state) {
        strcpy(gate.work, "/tmp/test-manifest-XXXXXX");
        if (!mkdtemp(gate.work))
                return -1;
        gate.tar = strprintf("%s/img.tar", gate.work);
        gate.zst = strprintf("%s/img.tar.zst", gate.work);
        write_image(gate.tar, false);
        write_image(gate.zst, true);
        read_layout();
        return fetch_global_init() < 0 ? -1 : 0;
}

static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static int gate_teardown(void **state) {
        (void) nftw(gate.work, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(gate.tar);
        free(gate.zst);
        fetch_global_done();
        return 0;
}

static Manifest *manifest_of(const char *path) {
        _cleanup_free_ char *text = NULL, *err = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        Manifest *m = NULL;
        size_t n = 0;

        assert_true(fd >= 0);
        assert_int_equal(manifest_build_fd(fd, GATE_CHUNK, &text, &n, &err), 0);
        assert_int_equal(manifest_parse(path, text, n, &m, &err), 0);
        return m;
}

/* A copy of src with the byte at offset flipped (offset UINT64_MAX: none),
 * cut to size (0: as it is). */
static char *copy_image(const char *src, const char *name, uint64_t offset, uint64_t size) {
        char *dst = strprintf("%s/%s", gate.work, name);
        _cleanup_free_ char *data = NULL;
        size_t n = 0;

        assert_int_equal(read_full_file(src, &data, &n), 0);
        if (offset != UINT64_MAX) {
                assert_true(offset < n);
                data[offset] ^= 0x01;
        }
        if (size)
                n = size;
        assert_int_equal(write_file_atomic(dst, data, n, 0644), 0);
        return dst;
}

static char *fresh_root(const char *name) {
        char *root = strprintf("%s/%s", gate.work, name);
        assert_int_equal(mkdir(root, 0755), 0);
        return root;
}

static bool file_exists(const char *root, unsigned i) {
        _cleanup_free_ char *p = strprintf("%s/f%02u", root, i);
        struct stat st;
        return lstat(p, &st) == 0;
}

static int install(const char *image, const Manifest *m, const char *sha256, const char *root, ImageResult *res,
                   char **err) {
        _cleanup_free_ char *url = strprintf("file://%s", image);
        ImageSource src = { .url = url, .manifest = m, .sha256 = sha256, .skip_checksum = !sha256 };
        return image_install(&src, root, res, err);
}

static void test_gate_intact(void **state) {
        _cleanup_(manifest_freep) Manifest *m = manifest_of(gate.zst);
        _cleanup_free_ char *root = fresh_root("intact"), *err = NULL;
        ImageResult res = {};

        assert_int_equal(install(gate.zst, m, NULL, root, &res, &err), 0);
        assert_int_equal(res.chunks_verified, m->n_chunks);
        assert_int_equal(res.bytes_downloaded, m->size);
        assert_string_equal(res.sha256, m->sha256_hex);
        assert_int_equal(res.entries, GATE_FILES);
        for (unsigned i = 0; i < GATE_FILES; i++)
                assert_true(file_exists(root, i));

        /* With the profile's sha256 too, equal to the manifest's. */
        _cleanup_free_ char *root2 = fresh_root("intact2");
        assert_int_equal(install(gate.zst, m, m->sha256_hex, root2, &res, &err), 0);
}

/* One flipped byte in chunk k of the plain tar: chunks 0..k-1 are unpacked,
 * and exactly so: every file that ends before chunk k is there whole, no
 * file whose header lies in chunk k or later is. */
static void flipped_in_chunk(const char *src, bool exact, uint64_t k) {
        _cleanup_(manifest_freep) Manifest *m = manifest_of(src);
        _cleanup_free_ char *name = strprintf("flip-%s-%" PRIu64, exact ? "tar" : "zst", k);
        _cleanup_free_ char *bad = copy_image(src, name, k * GATE_CHUNK + 1234, 0);
        _cleanup_free_ char *rname = strprintf("root-%s", name), *root = fresh_root(rname), *err = NULL;
        _cleanup_free_ char *want = NULL;
        ImageResult res = {};
        unsigned before = 0, after = 0;

        assert_true(k < m->n_chunks);
        assert_int_equal(install(bad, m, NULL, root, &res, &err), -EBADMSG);
        assert_int_equal(res.chunks_verified, k);
        want = strprintf("chunk %" PRIu64 " of %" PRIu64 " (bytes %" PRIu64 "-%" PRIu64 ") does not match its manifest",
                         k, m->n_chunks, k * GATE_CHUNK, k * GATE_CHUNK + manifest_chunk_length(m, k) - 1);
        if (!strstr(err, want))
                fail_msg("error '%s' lacks '%s'", err, want);
        for (unsigned i = 0; i < GATE_FILES; i++) {
                if (gate.header[i] >= k * GATE_CHUNK) {
                        /* Past the chunk: never reached the extractor. (In
                         * the tar.zst, byte X of the tar comes at or after
                         * byte X of the file: stored blocks add headers.) */
                        if (file_exists(root, i))
                                fail_msg("f%02u (tar offset %" PRIu64 ") lies past chunk %" PRIu64 " but was written",
                                         i, gate.header[i], k);
                        after++;
                } else if (exact && gate.end[i] + 1024 <= k * GATE_CHUNK) {
                        _cleanup_free_ char *p = strprintf("%s/f%02u", root, i);
                        struct stat st;
                        assert_int_equal(stat(p, &st), 0);
                        assert_int_equal(st.st_size, GATE_FILE_SIZE);
                        before++;
                }
        }
        assert_true(after > 0);
        if (exact && k >= 2)
                assert_true(before > 0);
}

static void test_gate_flip_tar(void **state) {
        flipped_in_chunk(gate.tar, true, 5);
        flipped_in_chunk(gate.tar, true, 0);
        flipped_in_chunk(gate.tar, true, 9);
}

static void test_gate_flip_zst(void **state) {
        flipped_in_chunk(gate.zst, false, 6);
        flipped_in_chunk(gate.zst, false, 1);
}

/* The control: the same damage with only a whole-file sha256 is found at
 * the end, after every file was written. */
static void test_no_gate_control(void **state) {
        _cleanup_(manifest_freep) Manifest *m = manifest_of(gate.tar);
        _cleanup_free_ char *bad = copy_image(gate.tar, "control.tar", 5 * GATE_CHUNK + 1234, 0);
        _cleanup_free_ char *root = fresh_root("control"), *err = NULL;
        ImageResult res = {};

        assert_int_equal(install(bad, NULL, m->sha256_hex, root, &res, &err), -EBADMSG);
        assert_true(file_exists(root, GATE_FILES - 1));
}

static void test_gate_sha256_disagrees(void **state) {
        _cleanup_(manifest_freep) Manifest *m = manifest_of(gate.tar);
        _cleanup_free_ char *root = fresh_root("disagree"), *err = NULL;
        ImageResult res = {};

        assert_int_equal(install(gate.tar, m, HEX_A, root, &res, &err), -EBADMSG);
        assert_non_null(strstr(err, "is not its manifest's"));
        assert_int_equal(res.bytes_downloaded, 0);
        assert_false(file_exists(root, 0));
}

static void test_gate_length(void **state) {
        _cleanup_(manifest_freep) Manifest *m = manifest_of(gate.tar);
        uint64_t size = m->size;
        _cleanup_free_ char *err = NULL;
        ImageResult res = {};

        /* Shorter by half a chunk. A file:// (and an HTTP server that says
         * Content-Length) announces the length: refused before the first
         * byte; without it, the last chunk is never complete. */
        {
                _cleanup_free_ char *shortimg = copy_image(gate.tar, "short.tar", UINT64_MAX, size - GATE_CHUNK / 2);
                _cleanup_free_ char *root = fresh_root("short");
                assert_int_equal(install(shortimg, m, NULL, root, &res, &err), -EBADMSG);
                if (!strstr(err, "ends at byte") && !strstr(err, "the server announces"))
                        fail_msg("short image: %s", err);
                assert_false(file_exists(root, GATE_FILES - 1));
                free(TAKE_PTR(err));
        }
        /* Longer: a manifest of its first part only. */
        {
                _cleanup_free_ char *part = copy_image(gate.tar, "part.tar", UINT64_MAX, 3 * GATE_CHUNK + 100);
                _cleanup_(manifest_freep) Manifest *pm = manifest_of(part);
                _cleanup_free_ char *root = fresh_root("long");
                assert_int_equal(install(gate.tar, pm, NULL, root, &res, &err), -EBADMSG);
                if (!strstr(err, "longer than the") && !strstr(err, "the server announces"))
                        fail_msg("long image: %s", err);
                assert_false(file_exists(root, GATE_FILES - 1));
                free(TAKE_PTR(err));
        }
}

int main(void) {
        /* One group: tests/run.sh counts the last summary line. */
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_good),
                cmocka_unit_test(test_parse_exact_multiple),
                cmocka_unit_test(test_parse_bad),
                cmocka_unit_test(test_parse_nul_and_too_big),
                cmocka_unit_test(test_build),
                cmocka_unit_test(test_build_bad),
                cmocka_unit_test(test_format_and_url),
                cmocka_unit_test(test_gate_intact),
                cmocka_unit_test(test_gate_flip_tar),
                cmocka_unit_test(test_gate_flip_zst),
                cmocka_unit_test(test_no_gate_control),
                cmocka_unit_test(test_gate_sha256_disagrees),
                cmocka_unit_test(test_gate_length),
        };
        return cmocka_run_group_tests(tests, gate_setup, gate_teardown);
}
