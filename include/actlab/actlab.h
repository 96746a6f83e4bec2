/* actlab.h -- umbrella header: the whole public API of actlab.
 *   status.h  status codes, act_strerror(), act_diag
 *   act.h     the activation list, kernels, act_fn descriptors, ISA and thread settings
 *   expr.h    activation expressions: parse, print, canonicalise, compile, evaluate
 *   space.h   the search space: core units, enumeration, filters, fingerprints
 *   nn.h      the training engine: layers, models, data, optimisers, training loop */
#ifndef ACTLAB_ACTLAB_H
#define ACTLAB_ACTLAB_H

#include "actlab/status.h"
#include "actlab/act.h"
#include "actlab/expr.h"
#include "actlab/space.h"
#include "actlab/nn.h"

#endif
