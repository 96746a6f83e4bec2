/* cmd_search.c -- `actlab search`: run, resume, worker, status, top, export. The search itself
 * is orch/ (coordinator, journal, workers) over the library's strategies and candidate
 * pipeline; this file parses options, prints, and picks exit codes (docs/search.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actlab/expr.h"
#include "actlab/run.h"
#include "../../orch/coord.h"
#include "../../orch/fidelity.h"
#include "../../orch/mpi.h"
#include "../../orch/train_eval.h"
#include "cli.h"
#include "commands.h"
#include "search_cli.h"

enum {
    SEARCH_EXIT_MAX_FAILED  = 4,     /* stopped by --max-failed */
    SEARCH_EXIT_INTERRUPTED = 130,   /* Ctrl-C (SIGINT) or SIGTERM: resume continues it */
};

static void search_usage(FILE *f)
{
    fprintf(f,
            "usage: actlab search ACTION ...\n"
            "\n"
            "actions:\n"
            "  run     --journal FILE [OPTIONS]   start a search (FILE must not exist)\n"
            "  resume  FILE [OPTIONS]             continue one (after Ctrl-C, kill -9, a crash)\n"
            "  status  FILE [--json]              counts by state, best, throughput, ETA, config\n"
            "  top     FILE [-k N] [--format table|csv|json] [--fidelity F]   the leaderboard\n"
            "  export  FILE [--rank N] [--as expr|torch|c|latex] [-o OUT]     a found function\n"
            "  report  FILE -o DIR [-k K]         leaderboard, plots, learning curve (HTML)\n"
            "  finalize FILE [-k 8] [--seeds 3] [--fidelity F]   the top k again, beside relu\n"
            "          and swish, mean and 95%% CI of validation and test accuracy\n"
            "  worker  [--synthetic-ms N] [--threads N] [--data-dir D]   (started by run/resume)\n"
            "\n"
            "run/resume options (resume: only those that do not change the search, unless the\n"
            "same as stored; a differing defining option is refused, naming the keys):\n"
            "  --space NAME        a preset of `actlab space presets` (full)\n"
            "  --units N           core units, 1..%d (1)\n"
            "  --strategy NAME     exhaustive, random, evolution, ppo (exhaustive)\n"
            "  --fidelity NAME     %s (proxy)\n"
            "  --seed N            the strategy's seed and every trial's training seed (1)\n"
            "  --seed-expr EXPR    train EXPR first (repeatable), e.g. relu's max(x, 0)\n"
            "  --deterministic     synchronous batches: the same search for any worker count\n"
            "  --asha              asynchronous successive halving over the fidelity's epochs:\n"
            "                      the top 1/eta (3) of each rung trains on; --budget counts\n"
            "                      the candidates of the first rung\n"
            "  --batch N           deterministic: proposals per batch (8)\n"
            "  --set KEY=VALUE     any key of the stored configuration, e.g. ppo.lr=0.05,\n"
            "                      evolution.population=50, max_attempts=5, floor=0\n"
            "  --budget N          stop once the journal holds N trials (trainings) at this\n"
            "                      fidelity; proposals that reuse a result cost none (0: none)\n"
            "  --time-budget T     stop after T seconds (or Tm, Th): no new trial starts then\n"
            "  --max-failed N      stop after N failed trials (exit 4)\n"
            "  --lease S           a worker silent for S seconds is killed, its trial re-queued\n"
            "                      (60)\n"
            "  --workers N         worker processes (default: the number of cores)\n"
            "  --transport T       local (worker processes) or mpi: under mpirun, rank 0\n"
            "                      coordinates and every other rank is a worker (local)\n"
            "  --threads N         threads per worker (1)\n"
            "  --synthetic-ms N    synthetic fidelity: each trial takes N ms (tests, demos)\n"
            "  --data-dir D        where the Fashion-MNIST files are\n"
            "  --quiet             no per-trial lines (a TTY still gets the progress line)\n"
            "\n"
            "exit: 0 finished (budget, time budget, space exhausted), 1 failure, 2 bad input,\n"
            "4 --max-failed reached, 130 interrupted (resume continues). docs/search.md\n",
            ACT_SPACE_MAX_UNITS, orch_fidelity_names());
}

/* The options of run, resume, finalize and worker, and the machine ones among them. */
typedef struct run_opts {
    const char *journal;
    const char *keys[64], *vals[64];   /* configuration overrides, in order given */
    char        keybuf[64][64];        /* --set's keys (argv is not written to) */
    int         n_keys;
    const char *seed_exprs[ORCH_MAX_SEED_EXPRS];
    int         n_seed_exprs;
    int         workers, threads, synthetic_ms, quiet;
    int         workers_set, mpi;      /* --workers given; --transport mpi */
    const char *data_dir;
} run_opts;

/* An integer option's value in lo..hi into *out: 1, or -1 after printing the error. */
static int int_opt(const char *cmd, const char *name, const char *arg, long lo, long hi,
                   int *out)
{
    long v;
    if (cli_parse_long(arg, &v) != 0 || v < lo || v > hi) {
        cli_error(cmd, "--%s must be %ld..%ld, got '%s'", name, lo, hi, arg);
        return -1;
    }
    *out = (int)v;
    return 1;
}

/* --workers, --threads, --synthetic-ms, --data-dir, --quiet, --transport (getopt codes w, t,
 * s, d, q, M): 1 when c was one of them, 0 when not, -1 after printing a bad value's error. */
static int machine_opt(const char *cmd, int c, const char *arg, run_opts *o)
{
    switch (c) {
    case 'w':
        o->workers_set = 1;
        return int_opt(cmd, "workers", arg, 1, ORCH_POOL_MAX, &o->workers);
    case 'M':
        if (strcmp(arg, "local") && strcmp(arg, "mpi")) {
            cli_error(cmd, "unknown --transport '%s' (valid: local, mpi)", arg);
            return -1;
        }
        o->mpi = !strcmp(arg, "mpi");
        return 1;
    case 't':
        return int_opt(cmd, "threads", arg, 1, 256, &o->threads);
    case 's':
        return int_opt(cmd, "synthetic-ms", arg, 0, 3600000, &o->synthetic_ms);
    case 'd':
        o->data_dir = arg;
        return 1;
    case 'q':
        o->quiet = 1;
        return 1;
    default:
        return 0;
    }
}

static void machine_defaults(run_opts *o)
{
    memset(o, 0, sizeof *o);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->workers = ncpu > 0 ? (int)(ncpu < 64 ? ncpu : 64) : 1;
    o->threads = 1;
}

// ----------------------------------------------------------------------------
// worker

/* --transport mpi: where this process stands (cmd_search ends MPI after the action). */
static struct {
    int active, rank;
    int setup_sent;      /* rank 0: the workers have their options (or were told to exit) */
    int peer_gone;       /* a worker rank whose coordinator is gone: no MPI_Finalize */
} g_mpi;

/* The worker loop over stdin/stdout (a local worker process), or over MPI (mpi: a worker rank;
 * argv is rank 0's setup). */
static int worker_main(int argc, char **argv, int mpi)
{
    const char *cmd = "search worker";
    orch_train_ctx ctx;
    orch_train_ctx_init(&ctx);
    double silence = 60.0;
    static const struct option opts[] = {
        { "synthetic-ms", required_argument, NULL, 's' },
        { "threads", required_argument, NULL, 't' },
        { "data-dir", required_argument, NULL, 'd' },
        { "silence", required_argument, NULL, 'W' },
        { "ckpt-dir", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    run_opts mo;
    machine_defaults(&mo);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int m = c == 'q' || c == 'w' ? 0 : machine_opt(cmd, c, optarg, &mo);
        if (m < 0)
            return CLI_EXIT_USAGE;
        if (m > 0)
            continue;
        switch (c) {
        case 'c':
            ctx.ckpt_dir = optarg;
            break;
        case 'W':
            if (cli_parse_double(optarg, &silence) != 0 || !(silence >= 0)) {
                cli_error(cmd, "--silence must be >= 0 seconds, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            search_usage(stdout);
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    ctx.synthetic_ms = mo.synthetic_ms;
    ctx.threads = mo.threads;
    ctx.data_dir = mo.data_dir;
    /* Ctrl-C on a terminal reaches the whole process group: the coordinator decides what
     * stops, and a worker leaves when it is told to or its coordinator is gone */
    signal(SIGINT, SIG_IGN);
    orch_worker_config wc = { STDIN_FILENO, STDOUT_FILENO, silence, orch_train_eval, &ctx,
                              NULL };
    act_diag d;
    orch_channel ch;
    int st = ACT_OK;
    if (mpi) {
        st = orch_mpi_channel_new(&ch, silence > 0 ? silence : 60.0, &d);
        wc.chan = &ch;
    }
    if (st == ACT_OK)
        st = orch_worker_run(&wc, &d);
    if (mpi && wc.chan)
        orch_mpi_channel_free(&ch, 2.0);
    orch_train_ctx_free(&ctx);
    if (mpi && (st == ACT_ECANCELED || st == ACT_EIO))
        g_mpi.peer_gone = 1;
    if (st == ACT_OK || st == ACT_ENOTFOUND || st == ACT_ECANCELED)
        return CLI_EXIT_OK;   /* told to stop, or the coordinator is gone */
    cli_error(cmd, "%s%s%s", act_strerror(st), d.msg[0] ? ": " : "", d.msg);
    return CLI_EXIT_FAILURE;
}

static int search_worker(int argc, char **argv)
{
    return worker_main(argc, argv, 0);
}

/* --transport mpi, after the options parsed: initialises MPI, and on a rank other than 0 runs
 * the worker here with the options rank 0 sends. 1 when this process is done (*rc: its exit
 * code), 0 when it goes on as the coordinator (or o is not MPI). */
static int mpi_enter(const char *cmd, const run_opts *o, int *rc)
{
    if (!o->mpi)
        return 0;
    if (o->workers_set) {
        cli_error(cmd, "--workers does not go with --transport mpi: every rank but 0 is a "
                  "worker (mpirun -np N+1 for N workers)");
        *rc = CLI_EXIT_USAGE;
        return 1;
    }
    int rank = 0, size = 0;
    act_diag d;
    int st = orch_mpi_init(&rank, &size, &d);
    if (st != ACT_OK) {
        cli_error(cmd, "--transport mpi: %s", d.msg);
        *rc = st == ACT_EUNSUPPORTED ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
        return 1;
    }
    g_mpi.active = 1;
    g_mpi.rank = rank;
    if (rank == 0 && size < 2) {
        cli_error(cmd, "--transport mpi needs workers: start it with mpirun -np N+1 for N "
                  "workers (this is a single rank)");
        *rc = CLI_EXIT_USAGE;
        return 1;
    }
    if (rank == 0)
        return 0;
    int ac = 0;
    char **av = NULL;
    /* rank 0 opens the journal first (and rebuilds its dedup index): minutes at most */
    st = orch_mpi_recv_setup(600.0, &ac, &av, &d);
    if (st != ACT_OK) {
        g_mpi.peer_gone = st == ACT_ECANCELED;
        cli_error("search worker", "rank %d: %s", rank, d.msg);
        *rc = CLI_EXIT_FAILURE;
        return 1;
    }
    *rc = ac == 0 ? CLI_EXIT_OK : worker_main(ac, av, 1);   /* 0: rank 0 could not start */
    return 1;
}

/* The end of an action under --transport mpi: rank 0 tells workers still waiting for their
 * options to exit; every rank finalizes (but a worker whose coordinator is gone). Rank 0's
 * exit code is the search's, but mpirun --enable-recovery exits 0 whatever its ranks' codes
 * (measured, even after MPI_Abort(2)): docs/search.md, "MPI". */
static void mpi_leave(void)
{
    if (!g_mpi.active)
        return;
    if (g_mpi.rank == 0 && !g_mpi.setup_sent)
        ACT_IGNORE(orch_mpi_send_setup(0, NULL, NULL));
    orch_mpi_finalize(!g_mpi.peer_gone);
    g_mpi.active = 0;
}

// ----------------------------------------------------------------------------
// run and resume


static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

static int add_key(const char *cmd, run_opts *o, const char *k, const char *v)
{
    if (o->n_keys == 64) {
        cli_error(cmd, "too many options");
        return -1;
    }
    o->keys[o->n_keys] = k;
    o->vals[o->n_keys++] = v;
    return 0;
}

/* "90", "90s", "15m", "2h" -> seconds */
static int parse_duration(const char *s, char *buf, size_t cap)
{
    double v;
    size_t n = strlen(s);
    double mul = 1;
    char num[64];
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n + 1);
    if (strchr("smh", num[n - 1])) {
        mul = num[n - 1] == 'h' ? 3600 : num[n - 1] == 'm' ? 60 : 1;
        num[n - 1] = 0;
    }
    if (cli_parse_double(num, &v) != 0 || !(v >= 0) || !isfinite(v))
        return -1;
    snprintf(buf, cap, "%.17g", v * mul);
    return 0;
}

static int parse_run_opts(const char *cmd, int argc, char **argv, int resume, run_opts *o)
{
    static char dur[32];
    static const struct option opts[] = {
        { "journal", required_argument, NULL, 'j' },
        { "space", required_argument, NULL, 'S' },
        { "units", required_argument, NULL, 'u' },
        { "strategy", required_argument, NULL, 'g' },
        { "fidelity", required_argument, NULL, 'f' },
        { "seed", required_argument, NULL, 'r' },
        { "seed-expr", required_argument, NULL, 'e' },
        { "deterministic", no_argument, NULL, 'D' },
        { "asha", no_argument, NULL, 'A' },
        { "batch", required_argument, NULL, 'b' },
        { "set", required_argument, NULL, 'K' },
        { "budget", required_argument, NULL, 'B' },
        { "time-budget", required_argument, NULL, 'T' },
        { "max-failed", required_argument, NULL, 'F' },
        { "lease", required_argument, NULL, 'L' },
        { "workers", required_argument, NULL, 'w' },
        { "transport", required_argument, NULL, 'M' },
        { "threads", required_argument, NULL, 't' },
        { "synthetic-ms", required_argument, NULL, 's' },
        { "data-dir", required_argument, NULL, 'd' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    machine_defaults(o);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = machine_opt(cmd, c, optarg, o);
        if (bad < 0)
            return CLI_EXIT_USAGE;
        if (bad > 0)
            continue;
        switch (c) {
        case 'j': o->journal = optarg; break;
        case 'S': bad = add_key(cmd, o, "space", optarg); break;
        case 'u': bad = add_key(cmd, o, "units", optarg); break;
        case 'g': bad = add_key(cmd, o, "strategy", optarg); break;
        case 'f': bad = add_key(cmd, o, "fidelity", optarg); break;
        case 'r': bad = add_key(cmd, o, "seed", optarg); break;
        case 'D': bad = add_key(cmd, o, "deterministic", "1"); break;
        case 'A': bad = add_key(cmd, o, "asha", "1"); break;
        case 'b': bad = add_key(cmd, o, "batch", optarg); break;
        case 'B': bad = add_key(cmd, o, "budget", optarg); break;
        case 'F': bad = add_key(cmd, o, "max_failed", optarg); break;
        case 'L': bad = add_key(cmd, o, "lease_s", optarg); break;
        case 'T':
            if (parse_duration(optarg, dur, sizeof dur) != 0) {
                cli_error(cmd, "--time-budget must be seconds (or Nm, Nh), got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            bad = add_key(cmd, o, "time_budget", dur);
            break;
        case 'K': {
            const char *eq = strchr(optarg, '=');
            size_t kl = eq ? (size_t)(eq - optarg) : 0;
            if (!eq || kl == 0 || kl >= sizeof o->keybuf[0] || o->n_keys == 64) {
                cli_error(cmd, "--set takes KEY=VALUE, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            memcpy(o->keybuf[o->n_keys], optarg, kl);
            o->keybuf[o->n_keys][kl] = 0;
            bad = add_key(cmd, o, o->keybuf[o->n_keys], eq + 1);
            break;
        }
        case 'e': {
            if (o->n_seed_exprs == ORCH_MAX_SEED_EXPRS) {
                cli_error(cmd, "at most %d --seed-expr", ORCH_MAX_SEED_EXPRS);
                return CLI_EXIT_USAGE;
            }
            act_expr *e = NULL;
            if (cli_parse_expr(cmd, optarg, &e) != 0)
                return CLI_EXIT_USAGE;
            act_expr_free(e);
            o->seed_exprs[o->n_seed_exprs++] = optarg;
            break;
        }
        case 'h':
            search_usage(stdout);
            return -1;
        default:
            return CLI_EXIT_USAGE;
        }
        if (bad)
            return CLI_EXIT_USAGE;
    }
    if (resume) {
        if (optind != argc - 1 || o->journal) {
            cli_error(cmd, "usage: actlab search resume FILE [OPTIONS] (see --help)");
            return CLI_EXIT_USAGE;
        }
        o->journal = argv[optind];
    } else if (optind != argc) {
        cli_error(cmd, "unexpected argument '%s' (see --help)", argv[optind]);
        return CLI_EXIT_USAGE;
    } else if (!o->journal) {
        cli_error(cmd, "--journal FILE is required");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Applies the command line's keys to c: the strategy first (it resets its hyper-parameters),
 * then the rest in order. */
static int apply_keys(const char *cmd, const run_opts *o, orch_search_config *c)
{
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < o->n_keys; i++) {
            if ((pass == 0) != (strcmp(o->keys[i], "strategy") == 0))
                continue;
            int st = orch_search_config_set(c, o->keys[i], o->vals[i]);
            if (st == ACT_ENOTFOUND) {
                cli_error(cmd, "unknown configuration key '%s' (see docs/search.md, "
                          "\"Configuration\")", o->keys[i]);
                return CLI_EXIT_USAGE;
            }
            if (st != ACT_OK) {
                if (!strcmp(o->keys[i], "strategy"))
                    cli_error(cmd, "unknown strategy '%s' (valid: exhaustive, random, "
                              "evolution, ppo)", o->vals[i]);
                else
                    cli_error(cmd, "bad value for %s: '%s'", o->keys[i], o->vals[i]);
                return CLI_EXIT_USAGE;
            }
        }
    if (o->n_seed_exprs) {
        c->n_seed_exprs = o->n_seed_exprs;
        for (int i = 0; i < o->n_seed_exprs; i++)
            c->seed_exprs[i] = o->seed_exprs[i];
    }
    act_diag d;
    if (orch_search_config_check(c, &d) != ACT_OK) {
        cli_error(cmd, "%s", d.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

typedef struct progress_ctx {
    int     tty, quiet;
    int64_t budget;
    int     line_len;
    int     plan;       /* finalize */
} progress_ctx;

static void fmt_hms(double s, char *buf, size_t cap)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, cap, "?");
        return;
    }
    long t = (long)(s + 0.5);
    snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static void on_progress(void *user, const orch_progress *p)
{
    progress_ctx *pc = user;
    const int64_t *t = p->trials;
    if (p->finished && !pc->quiet && !pc->tty) {
        /* finalize's table is its output: its trial lines go to stderr */
        FILE *f = pc->plan ? stderr : stdout;
        fprintf(f, "trial %" PRId64 " %s", p->trial, orch_trial_state_name(p->state));
        if (p->state == ORCH_TRIAL_DONE)
            fprintf(f, " val %.4f", p->val_acc);
        fprintf(f, " %.1fs %s%s%s\n", isfinite(p->wall_s) ? p->wall_s : 0.0, p->expr,
               p->error[0] ? " -- " : "", p->error);
        fflush(f);
    }
    if (!pc->tty)
        return;
    double rate = p->elapsed_s > 0 ? 3600.0 * (double)p->this_run_done / p->elapsed_s : 0;
    int64_t all = 0;
    for (int k = 0; k < ORCH_TRIAL_COUNT; k++)
        all += t[k];
    char eta[32] = "-";
    if (pc->budget > 0 && rate > 0) {
        int64_t left = pc->budget - (all - t[ORCH_TRIAL_QUEUED] - t[ORCH_TRIAL_LEASED]);
        fmt_hms(3600.0 * (double)(left > 0 ? left : 0) / rate, eta, sizeof eta);
    }
    char line[400];
    int n = snprintf(line, sizeof line, "done %" PRId64 " failed %" PRId64 " | running %"
                     PRId64 " queued %" PRId64 " | rejected %" PRId64 " dup %" PRId64
                     " | best %.4f %.40s | %.0f/h | ETA %s",
                     t[ORCH_TRIAL_DONE], t[ORCH_TRIAL_FAILED_CANDIDATE] +
                     t[ORCH_TRIAL_FAILED_INFRA], t[ORCH_TRIAL_LEASED], t[ORCH_TRIAL_QUEUED],
                     p->rejected, p->duplicates, isnan(p->best_val) ? 0.0 : p->best_val,
                     p->best_expr[0] ? p->best_expr : "-", rate, eta);
    fprintf(stderr, "\r%s%*s", line, pc->line_len > n ? pc->line_len - n : 0, "");
    pc->line_len = n;
    fflush(stderr);
}

static int run_any(const char *cmd, orch_journal *j, const orch_search_config *cfg,
                   const orch_trial_plan *plan, const run_opts *o)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        cli_error(cmd, "cannot find this program's path (/proc/self/exe): %s", strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    self[n] = 0;
    char ms[16], th[16], lease[32];
    snprintf(ms, sizeof ms, "%d", o->synthetic_ms);
    snprintf(th, sizeof th, "%d", o->threads);
    snprintf(lease, sizeof lease, "%.17g", 2 * cfg->lease_s + 10);
    char ddir[4096], cdir[4200];
    snprintf(ddir, sizeof ddir, "%s", o->data_dir ? o->data_dir : "");
    /* ASHA: a candidate's run is checkpointed between rungs beside the journal */
    snprintf(cdir, sizeof cdir, "%s.ckpt", o->journal);
    if (cfg->asha && mkdir(cdir, 0777) != 0 && errno != EEXIST) {
        cli_error(cmd, "cannot create the checkpoint directory '%s': %s", cdir,
                  strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    char *argv[16] = { self, "search", "worker", "--synthetic-ms", ms, "--threads", th,
                       "--silence", lease };
    int ac = 9;
    if (o->data_dir) {
        argv[ac++] = "--data-dir";
        argv[ac++] = ddir;
    }
    if (cfg->asha) {
        argv[ac++] = "--ckpt-dir";
        argv[ac++] = cdir;
    }
    argv[ac] = NULL;
    orch_pool *pool = NULL;
    orch_mpi *mp = NULL;
    act_diag d;
    orch_transport t;
    if (o->mpi) {   /* the workers are the other ranks: they get the worker's options */
        if (orch_mpi_new(&mp, &d) != ACT_OK ||
            orch_mpi_send_setup(ac - 2, argv + 2, &d) != ACT_OK) {
            cli_error(cmd, "cannot start the MPI workers: %s", d.msg);
            orch_mpi_free(mp, 0);
            return CLI_EXIT_FAILURE;
        }
        g_mpi.setup_sent = 1;
        t = orch_mpi_transport(mp);
    } else {
        if (orch_pool_new(o->workers, argv, &pool, &d) != ACT_OK) {
            cli_error(cmd, "cannot start the workers: %s", d.msg);
            return CLI_EXIT_FAILURE;
        }
        t = orch_pool_transport(pool);
    }
    progress_ctx pc = { isatty(STDERR_FILENO), o->quiet,
                        plan ? (int64_t)plan->n_exprs * plan->n_seeds : cfg->budget, 0,
                        plan != NULL };
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    orch_coord_opts co = { .transport = &t, .stop = &g_stop, .progress = on_progress,
                           .user = &pc, .tick_s = pc.tty ? 0.5 : 3600 };
    orch_coord_summary s;
    int st = plan ? orch_coord_run_plan(j, cfg, plan, &co, &s, &d)
                  : orch_coord_run(j, cfg, &co, &s, &d);
    orch_pool_free(pool, 2.0);
    orch_mpi_free(mp, 2.0);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (pc.tty && pc.line_len)
        fputc('\n', stderr);
    if (st != ACT_OK) {
        cli_error(cmd, "%s%s%s", act_strerror(st), d.msg[0] ? ": " : "", d.msg);
        return CLI_EXIT_FAILURE;
    }
    fprintf(stderr, "actlab %s: %s after %" PRId64 " trials in %.1f s (%" PRId64
            " re-queued, %" PRId64 " workers replaced)%s\n", cmd,
            plan && s.reason == ORCH_STOP_BUDGET ? "all trials finished"
                                                 : orch_stop_name(s.reason),
            s.trials_done, s.elapsed_s, s.requeued, s.workers_replaced,
            s.reason == ORCH_STOP_INTERRUPTED ? ": `actlab search resume` continues" : "");
    return s.reason == ORCH_STOP_INTERRUPTED ? SEARCH_EXIT_INTERRUPTED
         : s.reason == ORCH_STOP_MAX_FAILED ? SEARCH_EXIT_MAX_FAILED : CLI_EXIT_OK;
}

static int run_search(const char *cmd, orch_journal *j, const orch_search_config *cfg,
                      const run_opts *o)
{
    return run_any(cmd, j, cfg, NULL, o);
}

static int run_plan(const char *cmd, orch_journal *j, const orch_search_config *cfg,
                    const orch_trial_plan *plan, const run_opts *o)
{
    return run_any(cmd, j, cfg, plan, o);
}

static int search_run(int argc, char **argv)
{
    const char *cmd = "search run";
    run_opts o;
    int rc = parse_run_opts(cmd, argc, argv, 0, &o);
    if (rc != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (mpi_enter(cmd, &o, &rc))
        return rc;
    struct stat sb;
    if (stat(o.journal, &sb) == 0) {
        cli_error(cmd, "'%s' exists: to continue that search, `actlab search resume %s`; to "
                  "start another, give a new --journal", o.journal, o.journal);
        return CLI_EXIT_USAGE;
    }
    orch_search_config cfg = orch_search_config_default();
    if ((rc = apply_keys(cmd, &o, &cfg)) != CLI_EXIT_OK)
        return rc;
    char *text = NULL;
    if (orch_search_config_write(&cfg, &text) != ACT_OK) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    orch_journal *j = NULL;
    act_diag d;
    int st = orch_journal_create(o.journal, text, orch_search_config_hash(text), &j, &d);
    free(text);
    if (st != ACT_OK) {
        cli_error(cmd, "--journal '%s': %s", o.journal, d.msg);
        return st == ACT_EIO || st == ACT_ENOTFOUND ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    rc = run_search(cmd, j, &cfg, &o);
    orch_journal_close(j);
    return rc;
}

static int search_resume(int argc, char **argv)
{
    const char *cmd = "search resume";
    run_opts o;
    int rc = parse_run_opts(cmd, argc, argv, 1, &o);
    if (rc != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (mpi_enter(cmd, &o, &rc))
        return rc;
    orch_journal *j = NULL;
    act_diag d;
    int st = orch_journal_open(o.journal, 1, &j, &d);
    if (st != ACT_OK) {
        cli_error(cmd, "'%s': %s", o.journal, d.msg);
        return st == ACT_EIO ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
    }
    const char *stored = orch_journal_config_text(j);
    orch_search_config cfg;
    char *strings = NULL, *text = NULL;
    st = orch_search_config_read(stored, &cfg, &strings, &d);
    if (st != ACT_OK) {
        cli_error(cmd, "'%s': the stored search configuration does not read back: %s",
                  o.journal, d.msg);
        orch_journal_close(j);
        return CLI_EXIT_USAGE;
    }
    rc = apply_keys(cmd, &o, &cfg);
    if (rc == CLI_EXIT_OK && orch_search_config_write(&cfg, &text) != ACT_OK)
        rc = CLI_EXIT_FAILURE;
    if (rc == CLI_EXIT_OK && orch_search_config_hash(text) != orch_journal_config_hash(j)) {
        char diff[1024];
        orch_search_config_diff(stored, text, diff, sizeof diff);
        if (strstr(diff, "fidelity.def"))   /* the build's fidelity table changed */
            cli_error(cmd, "'%s': its fidelity '%s' is defined differently in this build: "
                      "%s (stored vs this build). Its results would not compare with new "
                      "ones: start a new journal, or resume with the actlab that made it",
                      o.journal, cfg.fidelity, diff);
        else
            cli_error(cmd, "'%s' holds another search: %s (stored vs given). Resume without "
                      "those options, or start a new journal", o.journal, diff);
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK)
        rc = run_search(cmd, j, &cfg, &o);
    free(text);
    free(strings);
    orch_journal_close(j);
    return rc;
}

// ----------------------------------------------------------------------------
// reading a journal: status, top, export

static int open_ro(const char *cmd, const char *path, orch_journal **j, orch_search_config *cfg,
                   char **strings)
{
    act_diag d;
    int st = orch_journal_open(path, 0, j, &d);
    if (st != ACT_OK) {
        cli_error(cmd, "'%s': %s", path, d.msg);
        return st == ACT_EIO ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
    }
    if (orch_search_config_read(orch_journal_config_text(*j), cfg, strings, &d) != ACT_OK) {
        cli_error(cmd, "'%s': the stored search configuration does not read back: %s", path,
                  d.msg);
        orch_journal_close(*j);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

typedef struct top_ctx {
    int         format;      /* 0 table, 1 csv, 2 json */
    const char *fidelity;
    int         rank;
    int         want;        /* export: the rank wanted; its canon copied into found */
    char        found[ORCH_EXPR_MAX];
    double      found_val;
} top_ctx;

static void csv_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void search_csv_header(FILE *f)
{
    fprintf(f, "rank,expr,fidelity,val_acc,val_min,val_max,trials\n");
}

void search_csv_row(FILE *f, int rank, const orch_top_row *r, const char *fidelity)
{
    fprintf(f, "%d,", rank);
    csv_str(f, r->canon);
    fprintf(f, ",%s,%.6f,%.6f,%.6f,%" PRId64 "\n", fidelity, r->val_acc, r->val_min, r->val_max,
            r->n_trials);
}

static int top_row(void *u, const orch_top_row *r)
{
    top_ctx *t = u;
    t->rank++;
    if (t->want) {
        if (t->rank == t->want) {
            snprintf(t->found, sizeof t->found, "%s", r->canon);
            t->found_val = r->val_acc;
        }
        return 0;
    }
    switch (t->format) {
    case 0:
        printf("%4d  %.4f  [%.4f, %.4f]  %3" PRId64 "  %s\n", t->rank, r->val_acc, r->val_min,
               r->val_max, r->n_trials, r->canon);
        break;
    case 1:
        search_csv_row(stdout, t->rank, r, t->fidelity);
        break;
    default:
        printf("%s\n    {\"rank\": %d, \"expr\": ", t->rank > 1 ? "," : "", t->rank);
        json_str(stdout, r->canon);
        printf(", \"fidelity\": ");
        json_str(stdout, t->fidelity);
        printf(", \"val_acc\": ");
        json_num(stdout, r->val_acc);
        printf(", \"val_min\": ");
        json_num(stdout, r->val_min);
        printf(", \"val_max\": ");
        json_num(stdout, r->val_max);
        printf(", \"trials\": %" PRId64 "}", r->n_trials);
        break;
    }
    return 0;
}

static int search_top(int argc, char **argv)
{
    const char *cmd = "search top";
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "fidelity", required_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long k = 20;
    top_ctx t = { 0 };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (cli_parse_long(optarg, &k) != 0 || k < 1) {
                cli_error(cmd, "-k must be >= 1, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'f':
            if (!strcmp(optarg, "table"))
                t.format = 0;
            else if (!strcmp(optarg, "csv"))
                t.format = 1;
            else if (!strcmp(optarg, "json"))
                t.format = 2;
            else {
                cli_error(cmd, "unknown --format '%s' (valid: table, csv, json)", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'F':
            t.fidelity = optarg;
            break;
        case 'h':
            search_usage(stdout);
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error(cmd, "usage: actlab search top FILE [-k N] [--format table|csv|json]");
        return CLI_EXIT_USAGE;
    }
    orch_journal *j;
    orch_search_config cfg;
    char *strings = NULL;
    int rc = open_ro(cmd, argv[optind], &j, &cfg, &strings);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!t.fidelity)
        t.fidelity = cfg.fidelity;
    if (t.format == 0)
        printf("rank  val_acc  [min, max] over seeds  trials  function  (fidelity %s%s)\n",
               t.fidelity, orch_fidelity_lookup(t.fidelity) &&
               orch_fidelity_lookup(t.fidelity)->synthetic ? ": SYNTHETIC, no training" : "");
    else if (t.format == 1)
        search_csv_header(stdout);
    else
        printf("[");
    int st = orch_top(j, t.fidelity, (size_t)k, top_row, &t);
    if (t.format == 2)
        printf("%s]\n", t.rank ? "\n" : "");
    if (st != ACT_OK) {
        cli_error(cmd, "reading the journal: %s", orch_journal_error(j));
        rc = CLI_EXIT_FAILURE;
    }
    orch_journal_close(j);
    free(strings);
    return rc;
}

static int search_export(int argc, char **argv)
{
    const char *cmd = "search export";
    static const struct option opts[] = {
        { "rank", required_argument, NULL, 'r' },
        { "as", required_argument, NULL, 'a' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long rank = 1;
    act_expr_format fmt = ACT_EXPR_TEXT;
    const char *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (cli_parse_long(optarg, &rank) != 0 || rank < 1 || rank > 1000000) {
                cli_error(cmd, "--rank must be >= 1, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'a':
            if (!strcmp(optarg, "expr"))
                fmt = ACT_EXPR_TEXT;
            else if (!strcmp(optarg, "torch"))
                fmt = ACT_EXPR_TORCH;
            else if (!strcmp(optarg, "c"))
                fmt = ACT_EXPR_C;
            else if (!strcmp(optarg, "latex"))
                fmt = ACT_EXPR_LATEX;
            else {
                cli_error(cmd, "unknown --as '%s' (valid: expr, torch, c, latex)", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            search_usage(stdout);
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error(cmd, "usage: actlab search export FILE [--rank N] [--as expr|torch|c|latex]");
        return CLI_EXIT_USAGE;
    }
    if (out && cli_check_output(cmd, "-o", out, 0) != CLI_EXIT_OK)
        return CLI_EXIT_USAGE;
    orch_journal *j;
    orch_search_config cfg;
    char *strings = NULL;
    int rc = open_ro(cmd, argv[optind], &j, &cfg, &strings);
    if (rc != CLI_EXIT_OK)
        return rc;
    top_ctx t = { 0 };
    t.fidelity = cfg.fidelity;
    t.want = (int)rank;
    int st = orch_top(j, cfg.fidelity, (size_t)rank, top_row, &t);
    orch_journal_close(j);
    if (st != ACT_OK || !t.found[0]) {
        if (st != ACT_OK)
            cli_error(cmd, "reading the journal failed");
        else
            cli_error(cmd, "no rank %ld: the journal has %d finished candidates at fidelity %s",
                      rank, t.rank, cfg.fidelity);
        free(strings);   /* cfg's strings: after their last use */
        return st != ACT_OK ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
    }
    free(strings);
    act_expr *e = NULL;
    if (act_expr_parse(t.found, &e, NULL) != ACT_OK) {
        cli_error(cmd, "the stored expression '%s' does not parse", t.found);
        return CLI_EXIT_FAILURE;
    }
    char *s = NULL;
    st = act_expr_print(e, fmt, &s);
    act_expr_free(e);
    if (st != ACT_OK) {
        cli_error(cmd, "printing failed: %s", act_strerror(st));
        return CLI_EXIT_FAILURE;
    }
    size_t n = strlen(s);
    int nl = n == 0 || s[n - 1] != '\n';
    rc = CLI_EXIT_OK;
    if (out) {
        char err[1024];
        char *t2 = realloc(s, n + 2);
        if (t2) {
            s = t2;
            if (nl)
                strcpy(s + n++, "\n");
        }
        if (!t2 || cli_write_atomic(out, s, n, err, sizeof err) != 0) {
            cli_error(cmd, "%s", t2 ? err : "out of memory");
            rc = CLI_EXIT_FAILURE;
        }
    } else
        printf("%s%s", s, nl ? "\n" : "");
    free(s);
    return rc;
}

/* ASHA's rungs, lowest first, with their trial counts (text lines, or JSON objects). */
static void print_rungs(orch_journal *j, const orch_search_config *cfg, int json)
{
    int ep[ORCH_MAX_RUNGS], n = 0;
    const orch_fidelity *f = orch_fidelity_lookup(cfg->fidelity);
    if (!f || orch_search_rungs(cfg, ep, &n, NULL) != ACT_OK)
        return;
    for (int r = 0; r < n; r++) {
        char name[48];
        int64_t c[ORCH_TRIAL_COUNT];
        if (orch_fidelity_rung_name(f, ep[r], name, sizeof name) != ACT_OK ||
            orch_trial_counts(j, name, c) != ACT_OK)
            return;
        if (json) {
            printf("%s{\"fidelity\": \"%s\", \"epochs\": %d", r ? ", " : "", name, ep[r]);
            for (int k = 0; k < ORCH_TRIAL_COUNT; k++)
                printf(", \"%s\": %" PRId64, orch_trial_state_name(k), c[k]);
            printf("}");
        } else {
            printf("rung %d    %s (%d epoch%s):", r, name, ep[r], ep[r] == 1 ? "" : "s");
            for (int k = 0; k < ORCH_TRIAL_COUNT; k++)
                printf(" %s %" PRId64, orch_trial_state_name(k), c[k]);
            printf("\n");
        }
    }
}

static int search_status(int argc, char **argv)
{
    const char *cmd = "search status";
    int json = 0;
    if (argc == 3 && !strcmp(argv[2], "--json"))
        json = 1;
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        search_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc != 2 + json) {
        cli_error(cmd, "usage: actlab search status FILE [--json]");
        return CLI_EXIT_USAGE;
    }
    orch_journal *j;
    orch_search_config cfg;
    char *strings = NULL;
    int rc = open_ro(cmd, argv[1], &j, &cfg, &strings);
    if (rc != CLI_EXIT_OK)
        return rc;
    int64_t n[ORCH_TRIAL_COUNT], n0[ORCH_TRIAL_COUNT];
    orch_trial_times_t tt;
    top_ctx best = { 0 };
    best.want = 1;
    best.fidelity = cfg.fidelity;
    /* the budget counts trials at the first rung (the fidelity itself without ASHA): the
     * speed and ETA are those of that rung */
    char rung0[48];
    int ep[ORCH_MAX_RUNGS], n_rungs = 0;
    snprintf(rung0, sizeof rung0, "%s", cfg.fidelity);
    if (cfg.asha && orch_search_rungs(&cfg, ep, &n_rungs, NULL) == ACT_OK &&
        orch_fidelity_rung_name(orch_fidelity_lookup(cfg.fidelity), ep[0], rung0,
                                sizeof rung0) != ACT_OK)
        snprintf(rung0, sizeof rung0, "%s", cfg.fidelity);
    int st = orch_trial_counts(j, cfg.fidelity, n);
    if (st == ACT_OK)
        st = orch_trial_counts(j, rung0, n0);
    if (st == ACT_OK)
        st = orch_trial_times(j, rung0, &tt);
    if (st == ACT_OK)
        st = orch_top(j, cfg.fidelity, 1, top_row, &best);
    if (st != ACT_OK) {
        cli_error(cmd, "reading the journal: %s", orch_journal_error(j));
        orch_journal_close(j);
        free(strings);
        return CLI_EXIT_FAILURE;
    }
    int64_t total = 0;
    for (int k = 0; k < ORCH_TRIAL_COUNT; k++)
        total += n[k];
    double span = tt.last_finished - tt.first_started;
    double per_hour = tt.n > 0 && span > 0 ? 3600.0 * (double)tt.n / span : NAN;
    double eta = NAN;
    int64_t finished = tt.n + n0[ORCH_TRIAL_FAILED_INFRA];
    if (cfg.budget > 0 && per_hour > 0)
        eta = 3600.0 * (double)(cfg.budget > finished ? cfg.budget - finished : 0) / per_hour;
    const orch_fidelity *fid = orch_fidelity_lookup(cfg.fidelity);
    if (json) {
        printf("{\n  \"journal\": ");
        json_str(stdout, argv[1]);
        printf(",\n  \"fidelity\": ");
        json_str(stdout, cfg.fidelity);
        printf(",\n  \"synthetic\": %s,\n  \"trials\": {", fid && fid->synthetic ? "true"
                                                                                 : "false");
        for (int k = 0; k < ORCH_TRIAL_COUNT; k++)
            printf("%s\"%s\": %" PRId64, k ? ", " : "", orch_trial_state_name(k), n[k]);
        printf("},\n  \"best_val_acc\": ");
        json_num(stdout, best.found[0] ? best.found_val : NAN);
        printf(",\n  \"best_expr\": ");
        if (best.found[0])
            json_str(stdout, best.found);
        else
            printf("null");
        printf(",\n  \"trials_per_hour\": ");
        json_num(stdout, per_hour);
        printf(",\n  \"eta_s\": ");
        json_num(stdout, eta);
        printf(",\n  \"rungs\": [");
        print_rungs(j, &cfg, 1);
        printf("],\n  \"config\": ");
        json_str(stdout, orch_journal_config_text(j));
        printf("\n}\n");
    } else {
        printf("journal   %s\nfidelity  %s%s\ntrials    %" PRId64 ":", argv[1], cfg.fidelity,
               fid && fid->synthetic ? " (SYNTHETIC: an analytic score, no training)" : "",
               total);
        for (int k = 0; k < ORCH_TRIAL_COUNT; k++)
            printf(" %s %" PRId64, orch_trial_state_name(k), n[k]);
        if (best.found[0])
            printf("\nbest      %.4f  %s\n", best.found_val, best.found);
        else
            printf("\nbest      -\n");
        if (cfg.asha)
            print_rungs(j, &cfg, 0);
        char e[32];
        fmt_hms(eta, e, sizeof e);
        printf("speed     %.0f trials/hour at %s (finished trials over the time they span)\n"
               "ETA       %s%s\nconfig:\n", isfinite(per_hour) ? per_hour : 0.0, rung0,
               cfg.budget > 0 ? e : "-", cfg.budget > 0 ? " (to the budget)" : " (no budget)");
        const char *p = orch_journal_config_text(j);
        while (*p) {
            const char *end = strchr(p, '\n');
            int len = end ? (int)(end - p) : (int)strlen(p);
            printf("  %.*s\n", len, p);
            p += len + (end != NULL);
        }
    }
    orch_journal_close(j);
    free(strings);
    return CLI_EXIT_OK;
}

// ----------------------------------------------------------------------------
// finalize: the top k again at a higher fidelity, several seeds, beside relu and swish

/* t_{0.975, dof}: the two-sided 95% quantile of Student's t (dof >= 1; 1.96 past 30). */
static double t975(int64_t dof)
{
    static const double t[] = { 0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110,
                                2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
                                2.052, 2.048, 2.045, 2.042 };
    return dof < 1 ? NAN : dof <= 30 ? t[dof] : 1.96;
}

typedef struct fin_ctx {
    const int64_t *ids;
    const char   **exprs;      /* as given (a baseline may be trained as an equal function) */
    const char   **labels;
    int            n;
    int            format;   /* 0 table, 1 csv */
    int            rank;
    const char    *fidelity;
} fin_ctx;

static int fin_row(void *u, const orch_top_row *r)
{
    fin_ctx *f = u;
    int k = -1, both = 0;
    for (int i = 0; i < f->n; i++)
        if (f->ids[i] == r->candidate_id) {
            both |= k >= 0 && strcmp(f->labels[k], f->labels[i]) != 0;
            if (k < 0)
                k = i;   /* a found function first: its canonical text */
        }
    if (k < 0)
        return 0;
    const char *label = both ? "both" : f->labels[k];   /* found and a baseline */
    f->rank++;
    double vci = t975(r->n_trials - 1) * r->val_sd / sqrt((double)r->n_trials);
    double tci = t975(r->n_test - 1) * r->test_sd / sqrt((double)r->n_test);
    if (f->format == 1) {
        printf("%d,", f->rank);
        csv_str(stdout, f->exprs[k]);
        printf(",%s,%s,%" PRId64 ",%.6f,%.6f,%.6f,%.6f\n", label, f->fidelity,
               r->n_trials, r->val_acc, isfinite(vci) ? vci : NAN, r->test_acc,
               isfinite(tci) ? tci : NAN);
    } else
        printf("%4d  %.4f ± %.4f  %.4f ± %.4f  %5" PRId64 "  %-9s %s\n", f->rank, r->val_acc,
               isfinite(vci) ? vci : 0.0, r->test_acc, isfinite(tci) ? tci : 0.0, r->n_trials,
               label, f->exprs[k]);
    if (f->format == 0 && strcmp(f->exprs[k], r->canon) != 0)
        printf("%*s(trained as the equal function %s)\n", 58, "", r->canon);
    return 0;
}

static int search_finalize(int argc, char **argv)
{
    const char *cmd = "search finalize";
    static const struct option opts[] = {
        { "seeds", required_argument, NULL, 'n' },
        { "fidelity", required_argument, NULL, 'f' },
        { "baseline", required_argument, NULL, 'b' },
        { "format", required_argument, NULL, 'F' },
        { "workers", required_argument, NULL, 'w' },
        { "transport", required_argument, NULL, 'M' },
        { "threads", required_argument, NULL, 't' },
        { "synthetic-ms", required_argument, NULL, 's' },
        { "data-dir", required_argument, NULL, 'd' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long k = 8, seeds = 3;
    const char *fid = NULL;
    const char *base[16];
    int n_base = 0, format = 0;
    run_opts o;
    machine_defaults(&o);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        int m = machine_opt(cmd, c, optarg, &o);
        if (m < 0)
            return CLI_EXIT_USAGE;
        if (m > 0)
            continue;
        switch (c) {
        case 'k':
            if (cli_parse_long(optarg, &k) != 0 || k < 1 || k > 1000) {
                cli_error(cmd, "-k must be 1..1000, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'n':
            if (cli_parse_long(optarg, &seeds) != 0 || seeds < 1 || seeds > 100) {
                cli_error(cmd, "--seeds must be 1..100, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'f':
            if (!orch_fidelity_lookup(optarg)) {
                cli_error(cmd, "unknown fidelity '%s' (valid: %s)", optarg,
                          orch_fidelity_names());
                return CLI_EXIT_USAGE;
            }
            fid = optarg;
            break;
        case 'b': {
            act_expr *e = NULL;
            if (n_base == 16) {
                cli_error(cmd, "at most 16 --baseline");
                return CLI_EXIT_USAGE;
            }
            if (cli_parse_expr(cmd, optarg, &e) != 0)
                return CLI_EXIT_USAGE;
            act_expr_free(e);
            base[n_base++] = optarg;
            break;
        }
        case 'F':
            if (strcmp(optarg, "table") && strcmp(optarg, "csv")) {
                cli_error(cmd, "unknown --format '%s' (valid: table, csv)", optarg);
                return CLI_EXIT_USAGE;
            }
            format = !strcmp(optarg, "csv");
            break;
        case 'h':
            printf("usage: actlab search finalize FILE [-k 8] [--seeds 3] [--fidelity F]\n"
                   "       [--baseline EXPR ...] [--format table|csv] [--workers N] "
                   "[--threads N]\n       [--transport local|mpi]\n\n"
                   "Trains the top k functions of the search again at fidelity F (default: the "
                   "one above\nthe search's: mlp, cnn, proxy -> resnet1 -> paper) with seeds "
                   "1..N, beside the\nbaselines (default: relu max(x, 0) and swish "
                   "x*sigmoid(beta*x)), and prints the\nmean and 95%% confidence interval "
                   "(Student's t) of validation and test accuracy.\nThe trials go into the "
                   "journal: an interrupted finalize resumes.\n");
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error(cmd, "usage: actlab search finalize FILE [-k 8] [--seeds 3] (see --help)");
        return CLI_EXIT_USAGE;
    }
    o.journal = argv[optind];
    int wrc;
    if (mpi_enter(cmd, &o, &wrc))
        return wrc;
    orch_journal *j = NULL;
    act_diag d;
    int st = orch_journal_open(o.journal, 1, &j, &d);
    if (st != ACT_OK) {
        cli_error(cmd, "'%s': %s", o.journal, d.msg);
        return st == ACT_EIO ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
    }
    orch_search_config cfg;
    char *strings = NULL;
    if (orch_search_config_read(orch_journal_config_text(j), &cfg, &strings, &d) != ACT_OK) {
        cli_error(cmd, "'%s': the stored search configuration does not read back: %s",
                  o.journal, d.msg);
        orch_journal_close(j);
        return CLI_EXIT_USAGE;
    }
    if (!fid)
        fid = orch_fidelity_lookup(cfg.fidelity)->higher;
    if (n_base == 0) {
        base[n_base++] = "max(x, 0)";
        base[n_base++] = "x*sigmoid(beta*x)";
    }
    /* the top k at the search's fidelity, then the baselines */
    int n = 0;
    const char **exprs = calloc((size_t)k + (size_t)n_base, sizeof *exprs);
    const char **labels = calloc((size_t)k + (size_t)n_base, sizeof *labels);
    int64_t *ids = calloc((size_t)k + (size_t)n_base, sizeof *ids);
    char (*found)[ORCH_EXPR_MAX] = calloc((size_t)k, sizeof *found);
    int rc = CLI_EXIT_OK;
    if (!exprs || !labels || !ids || !found) {
        cli_error(cmd, "out of memory");
        rc = CLI_EXIT_FAILURE;
    }
    for (long r = 1; rc == CLI_EXIT_OK && r <= k; r++) {
        top_ctx t = { 0 };
        t.want = (int)r;
        if (orch_top(j, cfg.fidelity, (size_t)r, top_row, &t) != ACT_OK) {
            cli_error(cmd, "reading the journal: %s", orch_journal_error(j));
            rc = CLI_EXIT_FAILURE;
        } else if (t.found[0]) {
            memcpy(found[n], t.found, sizeof t.found);
            exprs[n] = found[n];
            labels[n++] = "found";
        }
    }
    for (int i = 0; rc == CLI_EXIT_OK && i < n_base; i++) {
        exprs[n] = base[i];
        labels[n++] = "baseline";
    }
    if (rc == CLI_EXIT_OK) {
        orch_trial_plan plan = { fid, exprs, n, (int)seeds, ids };
        rc = run_plan(cmd, j, &cfg, &plan, &o);
    }
    if (rc == CLI_EXIT_OK) {
        const orch_fidelity *f = orch_fidelity_lookup(fid);
        if (format == 0)
            printf("finalize: %d functions at fidelity %s%s, seeds 1..%ld; mean ± 95%% CI "
                   "(Student's t)\nrank  val_acc           test_acc          seeds  kind      "
                   "function\n", n, fid, f->synthetic ? " (SYNTHETIC: no training)" : "",
                   seeds);
        else
            printf("rank,expr,kind,fidelity,seeds,val_acc,val_ci95,test_acc,test_ci95\n");
        fin_ctx fc = { ids, exprs, labels, n, format, 0, fid };
        if (orch_top(j, fid, (size_t)-1, fin_row, &fc) != ACT_OK) {
            cli_error(cmd, "reading the journal: %s", orch_journal_error(j));
            rc = CLI_EXIT_FAILURE;
        }
    }
    free(exprs);
    free(labels);
    free(ids);
    free(found);
    free(strings);
    orch_journal_close(j);
    return rc;
}

int cmd_search(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        search_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    static const struct { const char *name; int (*fn)(int, char **); } actions[] = {
        { "run", search_run },       { "resume", search_resume }, { "worker", search_worker },
        { "status", search_status }, { "top", search_top },       { "export", search_export },
        { "report", search_report }, { "finalize", search_finalize },
    };
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (!strcmp(argv[1], actions[i].name)) {
            int rc = actions[i].fn(argc - 1, argv + 1);
            mpi_leave();
            return rc;
        }
    cli_error("search", "unknown action '%s' (valid: run, resume, status, top, export, report, "
              "finalize, worker)",
              argv[1]);
    return CLI_EXIT_USAGE;
}
