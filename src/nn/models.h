/* models.h -- level 2 of the training engine (src/nn): activation resolution, the step from an
 * act_nn_act (the public choice of activation) to the layer that computes it, used by the
 * model zoo in models.c and by tests that build their own nets. Uses layers.h.
 * Order: net.h <- layers.h <- models.h <- nn_impl.h. */
#ifndef ACTLAB_NN_MODELS_H
#define ACTLAB_NN_MODELS_H

#include "nn/layers.h"

/* Adds the layer of activation a on tensor in: an ACT layer over a->fn (relu when NULL) with
 * a's per-channel choice and initialisation (a->params when has_params, else the built-in's
 * act_act_init_params(ACT_INIT_PAPER when paper_init, else ACT_INIT_DEFAULT)), or a Meta-ACON,
 * FReLU or ACON-FReLU layer. Returns the output tensor id or a negative act_status. */
ACT_NODISCARD int acti_nn_act_add(act_net *net, int in, const act_nn_act *a);

#endif
