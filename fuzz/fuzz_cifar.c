/* fuzz_cifar.c -- libFuzzer harness for the CIFAR reader (act_data_load_cifar), CIFAR-10 and
 * CIFAR-100, plain and gzip, one or two files (memfds read back through /proc/self/fd). Any
 * status is fine; crashes, leaks, sanitizer reports and a status that disagrees with the output
 * are findings. FUZZ_VERBOSE=1 prints each status. Built and run by fuzz/fuzz.mk (`make fuzz`).
 *
 * Input: byte 0 flags (bit 0 CIFAR-100; bit 1/2: the harness gzips file 0/1 itself at the level
 * in bits 4-5: 0, 1, 6 or 9, otherwise the part is written as is; bit 3: two files), bytes 1-2
 * the first file's length (little endian; one file: all the rest), then the files. Seeds:
 * fuzz/corpus/cifar (valid one- and two-record files, plain and gzip). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "actlab/nn.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd[2] = { -1, -1 };
    static char path[2][64];
    if (fd[0] < 0) {
        for (int i = 0; i < 2; i++) {
            fd[i] = memfd_create("fuzz_cifar", 0);
            REQUIRE(fd[i] >= 0);
            snprintf(path[i], sizeof path[i], "/proc/self/fd/%d", fd[i]);
        }
    }
    if (size < 3)
        return 0;
    static const int levels[4] = { 0, 1, 6, 9 };
    int flags = data[0], cifar100 = flags & 1, two = (flags >> 3) & 1;
    int level = levels[(flags >> 4) & 3];
    size_t n0 = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3;
    size -= 3;
    n0 = two && n0 < size ? n0 : size;
    put(fd[0], data, n0, flags & 2, level);
    if (two)
        put(fd[1], data + n0, size - n0, flags & 4, level);

    const char *files[2] = { path[0], path[1] };
    act_dataset d;
    act_diag dg;
    dg.msg[0] = 0;
    int rc = act_data_load_cifar(files, 1 + two, cifar100, &d, &dg);
    if (getenv("FUZZ_VERBOSE"))             /* triage: what the reader said about this input */
        fprintf(stderr, "fuzz_cifar: rc %d %s\n", rc, rc == ACT_OK ? "" : dg.msg);
    if (rc == ACT_OK) {
        REQUIRE(d.n > 0 && d.c == 3 && d.h == 32 && d.w == 32 && d.x && d.y);
        REQUIRE(d.n_classes == (cifar100 ? 100 : 10));
        for (size_t i = 0; i < d.n; i++)
            REQUIRE(d.y[i] < d.n_classes);
    } else {
        REQUIRE(d.x == NULL && d.y == NULL && d.n == 0);
        REQUIRE(rc == ACT_EIO || rc == ACT_EFORMAT || rc == ACT_ELIMIT || rc == ACT_ENOMEM);
        REQUIRE(dg.msg[0] != 0 || rc == ACT_ENOMEM);
    }
    act_data_free(&d);
    return 0;
}
