/* nn_impl.h -- every internal of the training engine, for the files above the model zoo
 * (train.c, ckpt.c, optim.c, data.c) and for tests and dev programs. net.c includes nn/net.h,
 * the layers and pass.c nn/layers.h, models.c nn/models.h, so no level sees the ones above it:
 *   net.h (builder, net.c) <- layers.h (one .c per layer; pass.c) <- models.h (models.c)
 *   <- nn_impl.h */
#ifndef ACTLAB_NN_IMPL_H
#define ACTLAB_NN_IMPL_H

#include "nn/net.h"
#include "nn/layers.h"
#include "nn/models.h"

#endif
