/* status.h -- the one list of status codes returned by every actlab function.
 * Functions that can fail return int (an act_status); constructors return NULL.
 * act_strerror() turns a code into a static message; the library never prints. act_fmt_float()
 * is the number format of its messages. */
#ifndef ACTLAB_STATUS_H
#define ACTLAB_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ACTLAB_BUILD) && defined(__GNUC__)
#define ACT_API __attribute__((visibility("default")))
#else
#define ACT_API
#endif

/* On every function that returns a status (and every constructor): a caller that drops the
 * result gets a warning, which actlab's own build turns into an error (-Werror=unused-result).
 * Discard a status only where failure is impossible or harmless, and say why, with
 * ACT_IGNORE(call). */
#if defined(__GNUC__) || defined(__clang__)
#define ACT_NODISCARD __attribute__((warn_unused_result))
#else
#define ACT_NODISCARD
#endif
#define ACT_IGNORE(call) do { int act_ignored_ = (call); (void)act_ignored_; } while (0)

/* X(NAME, value, message) -- the only list of error codes. */
#define ACT_STATUS_LIST(X)                                                 \
    X(OK,          0, "success")                                          \
    X(ENOMEM,     -1, "out of memory")                                    \
    X(EINVAL,     -2, "invalid argument")                                 \
    X(ENOTFOUND,  -3, "no such activation, op or file")                   \
    X(EPARSE,     -4, "syntax error in expression")                       \
    X(ESHAPE,     -5, "tensor shapes do not match")                       \
    X(EIO,        -6, "read or write failed")                             \
    X(EFORMAT,    -7, "malformed or corrupt input file")                  \
    X(EUNSUPPORTED, -8, "not supported on this machine or build")         \
    X(ELIMIT,     -9, "input exceeds a size or nesting limit")            \
    X(EDIVERGED, -10, "training diverged (non-finite loss)")              \
    X(ERANGE,    -11, "value out of the valid range")                     \
    X(ECANCELED, -12, "stopped by the caller")                            \
    X(EEXHAUSTED, -13, "nothing left to propose: the search space is exhausted")

typedef enum act_status {
#define X(NAME, value, msg) ACT_##NAME = value,
    ACT_STATUS_LIST(X)
#undef X
} act_status;

/* Static message for any status code; never NULL. */
ACT_API const char *act_strerror(int status);

/* Static name of a status code ("EINVAL"); never NULL. */
ACT_API const char *act_status_name(int status);

/* v as the shortest of "%.6g" .. "%.9g" that reads back (strtof) as exactly v, into buf; returns
 * buf. The number format of actlab's messages, summaries and tables: 0.05 stays "0.05", and no
 * float is ever printed in a form that reads back as another. */
ACT_API const char *act_fmt_float(float v, char *buf, size_t len);

/* Caller-owned detail for errors that have a position (parse errors, config lines). */
typedef struct act_diag {
    int  line, col;         /* 1-based; 0 when not applicable */
    char msg[256];          /* human-readable, no trailing newline */
} act_diag;

#ifdef __cplusplus
}
#endif
#endif
