/* file.h -- output files written atomically: the one mechanism behind every file actlab writes
 * (the CLI's outputs, checkpoints, the search's exports).
 *
 * The data goes to a temporary file with a unique name (".NAME.XXXXXX") in the destination's
 * directory, which is flushed, fsync'ed, closed and renamed over the destination only when
 * complete; then the directory is fsync'ed, so the rename itself survives a crash. On any
 * failure the temporary file is removed and the destination is untouched: a reader sees the old
 * file or the whole new one, and two writers of one path never mix their data. A replaced file
 * keeps its permission bits; a new one gets 0666 & ~umask, as with fopen(). A destination that
 * exists and is not a regular file (/dev/stdout, /dev/null, a FIFO) is written in place: there
 * is nothing to replace, and replacing it would be wrong.
 *
 *     act_file f;  act_diag d;
 *     if (act_file_open(&f, "out.csv", 0, &d) != ACT_OK) ...        // d.msg names the path
 *     fprintf(f.f, "epoch,loss\n");                                  // or act_file_write()
 *     if (act_file_commit(&f, &d) != ACT_OK) ...                     // or act_file_abort(&f)
 *
 * Statuses: ACT_EINVAL (the path cannot work as given: empty, names a directory, its parent is
 * not a directory), ACT_ENOTFOUND (the directory does not exist), ACT_EIO (the system refused:
 * permissions, a full disk, a failed fsync), ACT_ENOMEM. Messages go into diag (may be NULL):
 * one line, no trailing newline, naming the path. Nothing here prints or keeps global state.
 */
#ifndef ACTLAB_FILE_H
#define ACTLAB_FILE_H

#include <stddef.h>
#include <stdio.h>
#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags of act_file_open. */
#define ACT_FILE_DURABLE 0x1u  /* a failed directory fsync fails the commit (without it the
                                  directory fsync is best effort: some file systems refuse it);
                                  a destination that is not a regular file is refused, since
                                  writing in place can be neither atomic nor durable */

/* An output file being written. Plain struct in caller storage; the owned fields are released
 * by act_file_commit or act_file_abort. */
typedef struct act_file {
    FILE       *f;        /* the stream to write; NULL once committed or aborted */
    const char *name;     /* the file being written: tmp, or path when written in place; for
                             writers that open files by name, which may reopen it */
    char       *path;     /* the destination; owned */
    char       *tmp;      /* the temporary file; owned; NULL when path is written in place */
    unsigned    flags;    /* ACT_FILE_* */
    int         err;      /* errno of the first failed act_file_write, 0 if none */
} act_file;

/* Opens f for writing path: checks that path is not empty, not a directory, that its directory
 * exists, and creates the temporary file there. On failure *f holds nothing to release. */
ACT_API ACT_NODISCARD int act_file_open(act_file *f, const char *path, unsigned flags,
                                        act_diag *diag);

/* Appends data[0..n) to f's stream. ACT_EIO on a short write (the commit then fails too);
 * ACT_EINVAL on a released f. */
ACT_API ACT_NODISCARD int act_file_write(act_file *f, const void *data, size_t n);

/* Finishes f: fflush, ferror, fsync, fclose (every result checked), rename over the
 * destination, fsync of the directory. On failure ("cannot write 'PATH': REASON") the temporary
 * file is removed and the destination untouched, except that a failed directory fsync under
 * ACT_FILE_DURABLE comes after the rename. Releases f either way. */
ACT_API ACT_NODISCARD int act_file_commit(act_file *f, act_diag *diag);

/* Discards f: closes and removes the temporary file. A no-op on a released act_file. */
ACT_API void act_file_abort(act_file *f);

/* Writes data[0..n) to path atomically: act_file_open, act_file_write, act_file_commit. */
ACT_API ACT_NODISCARD int act_file_write_atomic(const char *path, const void *data, size_t n,
                                                unsigned flags, act_diag *diag);

/* Checks, before any work, that act_file_open(path) would succeed: the same checks, and the
 * temporary file is created and removed again. A destination written in place is only tested
 * for write permission (opening a FIFO would block or end its reader). */
ACT_API ACT_NODISCARD int act_file_check(const char *path, act_diag *diag);

/* Reads the whole file at path into *out (malloc'ed, NUL-terminated, the caller frees it; *len,
 * if len is not NULL, its size without the NUL). ACT_ENOTFOUND when path does not exist,
 * ACT_EIO when it cannot be read (diag: "cannot read 'PATH': REASON"), ACT_ENOMEM; *out is NULL
 * on failure. */
ACT_API ACT_NODISCARD int act_file_read(const char *path, char **out, size_t *len,
                                        act_diag *diag);

/* Creates directory dir and its parents if needed (mkdir -p), and checks that it is a directory
 * in which a file can be created. */
ACT_API ACT_NODISCARD int act_file_mkdir(const char *dir, act_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
