/* fuzz_file.h -- what the data-reader harnesses share: REQUIRE (a broken harness invariant is a
 * finding: abort) and put(), which writes a fuzz input into a memfd as is or gzipped, so the
 * readers see real files through /proc/self/fd. Included by fuzz_idx.c and fuzz_cifar.c. */
#ifndef ACTLAB_FUZZ_FILE_H
#define ACTLAB_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define REQUIRE(c)                                                               \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* Replaces the file's contents with p[0..n), gzipped at level (0..9) if gz. */
static inline void put(int fd, const uint8_t *p, size_t n, int gz, int level)
{
    REQUIRE(ftruncate(fd, 0) == 0);
    if (!gz) {
        REQUIRE(n == 0 || pwrite(fd, p, n, 0) == (ssize_t)n);
        return;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    REQUIRE(deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t cap = deflateBound(&z, (uLong)n);
    uint8_t *out = malloc(cap);
    REQUIRE(out != NULL);
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    REQUIRE(pwrite(fd, out, z.total_out, 0) == (ssize_t)z.total_out);
    deflateEnd(&z);
    free(out);
}

#endif
