/* act_src.h -- the scalar reference (act_scalar.h) as text, for the C export of expressions
 * (src/expr/print.c): an exported built-in is the reference's own code, not a second copy of
 * its math. Implemented in act_src.c. */
#ifndef ACTLAB_ACT_SRC_H
#define ACTLAB_ACT_SRC_H

#include "actlab/act.h"

/*
 * The definitions of act_scalar.h that the value functions act_<name>_f of the activations with
 * used[id] != 0 need: those functions, every helper function and constant they use, each with
 * the comment written above it, in the order of the file, as standalone C11 (<math.h> only).
 * *out: a malloc'd string (the caller frees it). ACT_OK; ACT_ENOMEM; ACT_ENOTFOUND if
 * act_scalar.h has no definition of a used act_<name>_f at the start of a line
 * ("static inline float act_<name>_f(", as the file writes them; a test exports every row).
 */
ACT_NODISCARD int acti_act_c_source(const unsigned char used[ACT_ACT_COUNT], char **out);

#endif
