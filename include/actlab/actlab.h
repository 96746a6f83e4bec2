/* actlab.h -- umbrella header: the whole public API of actlab.
 *   status.h  status codes, act_strerror(), act_diag
 *   act.h     the activation list, kernels, act_fn descriptors, ISA and thread settings
 *   expr.h    activation expressions: parse, print, canonicalise, compile, evaluate
 *   space.h   the search space: core units, enumeration, filters, fingerprints
 *   search.h  search strategies: exhaustive, random, aging evolution; save/load as bytes
 *   file.h    output files written atomically (temporary file, fsync, rename)
 *   nn.h      the training engine: layers, models, data, optimisers, training loop
 *   run.h     one training run as a library call: configuration text, activation by name
 *   rng.h     the one random number generator (splitmix64, explicit state) */
#ifndef ACTLAB_ACTLAB_H
#define ACTLAB_ACTLAB_H

#include "actlab/status.h"
#include "actlab/act.h"
#include "actlab/expr.h"
#include "actlab/space.h"
#include "actlab/search.h"
#include "actlab/file.h"
#include "actlab/nn.h"
#include "actlab/run.h"
#include "actlab/rng.h"

#endif
