/* list_proto.h -- tests of the coordinator/worker messages (orch/proto.h), the worker loop
 * (orch/worker.h) and the local worker pool (orch/local.h), in the order they run. */
#define TEST_LIST_PROTO(X)              \
    X(orch_proto_round_trip)            \
    X(orch_proto_encode_refuses)        \
    X(orch_proto_decode_refuses)        \
    X(orch_proto_framing)               \
    X(orch_proto_reader)                \
    X(orch_worker_tasks)                \
    X(orch_worker_heartbeats)           \
    X(orch_worker_ends)                 \
    X(orch_local_pool)                  \
    X(orch_local_bad_programs)
