/* list_orch.h -- tests of the orchestration component (orch/), in the order they run. */
#define TEST_LIST_ORCH(X)               \
    X(orch_journal_roundtrip)           \
    X(orch_journal_refuses)             \
    X(orch_journal_writer_lock)         \
    X(orch_journal_operations)          \
    X(orch_journal_top)                 \
    X(orch_journal_full)                \
    X(orch_journal_commit_fails)        \
    X(orch_journal_kill9)               \
    X(orch_fidelity_table)              \
    X(orch_fidelity_run_config)         \
    X(orch_fidelity_train)              \
    X(orch_fidelity_outcomes)           \
    X(orch_fidelity_worker)             \
    X(orch_fidelity_rungs)              \
    X(orch_search_config_text)          \
    X(orch_search_config_values)        \
    X(orch_study_config_values)         \
    X(orch_study_config_errors)         \
    X(orch_study_units)                 \
    X(orch_study_same_runs)             \
    X(orch_study_run)
