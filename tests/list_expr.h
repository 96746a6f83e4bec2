/* list_expr.h -- tests of the expr module (tests/test_expr*.c), in the order they run. */
#define TEST_LIST_EXPR(X)                  \
    X(expr_parse_errors)                   \
    X(expr_parse_limits)                   \
    X(expr_bad_corpus)                     \
    X(expr_roundtrip_examples)             \
    X(expr_roundtrip_random)               \
    X(expr_canonical_rules)                \
    X(expr_primitives_vs_double)           \
    X(expr_test_vectors)                   \
    X(expr_swish_matches_builtin)          \
    X(expr_per_channel_layout)             \
    X(expr_gradcheck_random)               \
    X(expr_fused_vs_unfused)               \
    X(expr_printers)                       \
    X(expr_accuracy_primitives)            \
    X(space_templates_roundtrip)           \
    X(space_sample_roundtrip)              \
    X(space_dedup_semantics)               \
    X(space_propose)                       \
    X(space_one_unit_counts)
