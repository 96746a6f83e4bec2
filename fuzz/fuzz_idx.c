/* fuzz_idx.c -- libFuzzer harness for the IDX reader (act_data_load_idx), plain and gzip: the
 * input is split into an images file and a labels file, written to two memfds and read back
 * through /proc/self/fd. Any status is fine; crashes, leaks, sanitizer reports and a status
 * that disagrees with the output are findings. FUZZ_VERBOSE=1 prints each status. Built and run
 * by fuzz/fuzz.mk (`make fuzz`).
 *
 * Input: byte 0 flags (bit 0/1: the harness gzips the images/labels part itself, at the level
 * in bits 2-3: 0, 1, 6 or 9; otherwise the part is written as is, so gzip seeds reach the
 * reader raw), byte 1 n_classes - 1, bytes 2-3 the images part's length (little endian), then
 * the images part and the labels part. Seeds: fuzz/corpus/idx (valid files, plain and gzip). */
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
    static int fd_img = -1, fd_lab = -1;
    static char img[64], lab[64];
    if (fd_img < 0) {
        fd_img = memfd_create("fuzz_idx_images", 0);
        fd_lab = memfd_create("fuzz_idx_labels", 0);
        REQUIRE(fd_img >= 0 && fd_lab >= 0);
        snprintf(img, sizeof img, "/proc/self/fd/%d", fd_img);
        snprintf(lab, sizeof lab, "/proc/self/fd/%d", fd_lab);
    }
    if (size < 4)
        return 0;
    static const int levels[4] = { 0, 1, 6, 9 };
    int flags = data[0], n_classes = data[1] + 1, level = levels[(flags >> 2) & 3];
    size_t n_img = (size_t)data[2] | (size_t)data[3] << 8;
    data += 4;
    size -= 4;
    n_img = n_img < size ? n_img : size;
    put(fd_img, data, n_img, flags & 1, level);
    put(fd_lab, data + n_img, size - n_img, flags & 2, level);

    act_dataset d;
    act_diag dg;
    dg.msg[0] = 0;
    int rc = act_data_load_idx(img, lab, n_classes, &d, &dg);
    if (getenv("FUZZ_VERBOSE"))             /* triage: what the reader said about this input */
        fprintf(stderr, "fuzz_idx: rc %d %s\n", rc, rc == ACT_OK ? "" : dg.msg);
    if (rc == ACT_OK) {
        REQUIRE(d.n > 0 && d.c == 1 && d.h > 0 && d.w > 0 && d.x && d.y);
        REQUIRE(d.n_classes == n_classes);
        for (size_t i = 0; i < d.n; i++)
            REQUIRE(d.y[i] < n_classes);
    } else {
        REQUIRE(d.x == NULL && d.y == NULL && d.n == 0);
        REQUIRE(rc == ACT_EIO || rc == ACT_EFORMAT || rc == ACT_ELIMIT || rc == ACT_ENOMEM);
        REQUIRE(dg.msg[0] != 0 || rc == ACT_ENOMEM);
    }
    act_data_free(&d);
    return 0;
}
