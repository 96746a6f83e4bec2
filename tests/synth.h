/* synth.h -- the synthetic data set of the engine's tests: 3 classes of 8x8 images (a bright
 * row, column or diagonal, plus noise), c channels alike, from a seed. */
#ifndef ACTLAB_TESTS_SYNTH_H
#define ACTLAB_TESTS_SYNTH_H

#include <stdint.h>
#include "actlab/nn.h"

/* Fills d with n images of c channels; free with act_data_free. */
void test_synth(act_dataset *d, size_t n, int c, uint64_t seed);

#endif
