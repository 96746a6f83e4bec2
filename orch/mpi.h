/* mpi.h -- the MPI transport of a search (docs/search.md, "MPI"): rank 0 is the coordinator and
 * the journal's only writer; every other rank is a worker running the loop of worker.h, the
 * same code a local worker process runs, over MPI messages instead of pipes. A message is one
 * encoded orch_msg (proto.h) in one MPI message; nothing else travels after start-up but the
 * setup: the worker options rank 0 sends each worker rank once, so that a search resumed from
 * its journal alone starts its workers exactly as the local pool would.
 *
 * Point-to-point only after MPI_Init, never blocking: one receive from any source is kept
 * posted and polled with MPI_Test and short sleeps, and every send is an MPI_Isend whose buffer
 * is kept until it completes. A dead rank is not reported by MPI (Open MPI 4.1 has no ULFM;
 * with --enable-recovery the job survives, otherwise it is killed): the coordinator sees its
 * silence when the lease runs out and kills it here, which only marks the rank dead (its late
 * messages are dropped and it is never sent to again) and reports it as exited. A worker rank
 * watches for its coordinator's silence the same way (orch_worker_config.silence_s).
 *
 * Built only where the build found MPI (ACTLAB_MPI); otherwise orch_mpi_available() is 0 and
 * every other function returns ACT_EUNSUPPORTED. Nothing here prints or exits.
 */
#ifndef ACTLAB_ORCH_MPI_H
#define ACTLAB_ORCH_MPI_H

#include "coord.h"
#include "worker.h"

/* 1 when this build has the MPI transport. */
int orch_mpi_available(void);

/* Initialises MPI once per process (MPI_THREAD_FUNNELED: training threads never call MPI);
 * *rank and *size of MPI_COMM_WORLD. ACT_EUNSUPPORTED without MPI; ACT_EIO when MPI_Init
 * fails. */
ACT_NODISCARD int orch_mpi_init(int *rank, int *size, act_diag *diag);

/* Ends MPI: MPI_Finalize when peer_alive and no rank was lost (MPI_Finalize waits for every
 * rank, the dead ones too); otherwise MPI is left as it is and the process just exits. A
 * worker that was training when its stop came leaves at its next heartbeat (worker.h), so an
 * interrupted search ends within about a second. A no-op when MPI was not initialised. */
void orch_mpi_finalize(int peer_alive);

/* Rank 0, once, before the coordinator starts: the worker options (argc strings, none with a
 * NUL, all together at most 16 KiB) to every worker rank. argc 0 tells them that there is
 * nothing to do (the search could not start): they exit. ACT_EINVAL, ACT_ELIMIT, ACT_EIO. */
ACT_NODISCARD int orch_mpi_send_setup(int argc, char *const argv[], act_diag *diag);

/* A worker rank: waits up to timeout_s (< 0: forever) for rank 0's setup. *argv points into
 * storage that stays valid until orch_mpi_finalize (*argc may be 0: exit). ACT_ECANCELED when
 * nothing came within timeout_s (rank 0 is gone), ACT_EFORMAT for a malformed setup. */
ACT_NODISCARD int orch_mpi_recv_setup(double timeout_s, int *argc, char ***argv,
                                      act_diag *diag);

/* Rank 0: the transport to ranks 1..size-1 (worker i is rank i + 1); *out owns it. ACT_EINVAL
 * when this is not rank 0 or there is no other rank. */
typedef struct orch_mpi orch_mpi;
ACT_NODISCARD int orch_mpi_new(orch_mpi **out, act_diag *diag);
orch_transport    orch_mpi_transport(orch_mpi *m);   /* borrows m; respawn: ACT_EUNSUPPORTED */

/* Sends stop to every live worker (and whether to finalize), waits up to grace_s for the sends
 * to complete, then releases the requests. NULL is a no-op. */
void orch_mpi_free(orch_mpi *m, double grace_s);

/* A worker rank: the channel to rank 0 for orch_worker_config.chan. send waits at most
 * send_timeout_s for a free send slot (the coordinator is gone otherwise): ACT_EIO. */
ACT_NODISCARD int orch_mpi_channel_new(orch_channel *ch, double send_timeout_s,
                                       act_diag *diag);

/* Waits up to grace_s for the channel's sends, then releases it. */
void orch_mpi_channel_free(orch_channel *ch, double grace_s);

#endif
