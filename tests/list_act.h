/* list_act.h -- tests of the act module, in the order they run. */
#define TEST_LIST_ACT(X)              \
    X(act_table_complete)             \
    X(act_recipe_complete)            \
    X(act_lookup_presets_params)      \
    X(act_bad_input)                  \
    X(act_test_vectors)               \
    X(act_special_values)             \
    X(act_accuracy_scalar)            \
    X(act_accuracy_simd)              \
    X(act_gradcheck)                  \
    X(act_acon_identities)            \
    X(act_per_channel_layout)         \
    X(act_empty_shapes)               \
    X(act_threads_bitwise)            \
    X(act_nt_stores)                  \
    X(act_vmath_accuracy)
