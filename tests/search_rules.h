/* search_rules.h -- the search tests' own statement of the core-unit space's rules, kept apart
 * from the library's (act_strategy_in_space), so that the strategies are checked against it. */
#ifndef ACTLAB_TESTS_SEARCH_RULES_H
#define ACTLAB_TESTS_SEARCH_RULES_H

#include "actlab/space.h"

/* 1 if c is a candidate of ps with 1..max_units units: the preset's primitives, inputs from x
 * and earlier units, the b(x, g(x)) form of a bxg preset, zero unused units, and an expression
 * that builds (at most ACT_EXPR_MAX_PARAMS betas). */
int test_search_valid(const act_space_preset *ps, int max_units, const act_space_cand *c);

#endif
