/* list_search.h -- tests of the search strategies (tests/test_search_strategy.c,
 * tests/test_search_ppo.c), in the order they run. */
#define TEST_LIST_SEARCH(X)                 \
    X(search_strategy_names)                \
    X(search_strategy_bad_calls)            \
    X(search_strategy_inject)               \
    X(search_exhaustive_enumerates)         \
    X(search_save_load_resumes)             \
    X(search_load_rejects_corrupt)          \
    X(search_ppo_load_rejects)              \
    X(search_evolution_children_valid)      \
    X(search_evolution_aging)               \
    X(search_evolution_tournament)          \
    X(search_ppo_gradcheck)                 \
    X(search_ppo_proposals_valid)           \
    X(search_synthetic_objective)
