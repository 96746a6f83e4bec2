/* cmd_study.c -- `actlab study run STUDY`: the command line of the study runner. Reads the
 * study's configuration and trains its units through the orchestration component (orch/study.h:
 * the configuration, the units and their names, the runner with --jobs and resume); here are the
 * options, the directory lock, study.conf, the data, the progress line on a terminal, the
 * printed lines and the exit codes. `study report` is cmd_study_report.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "actlab/file.h"
#include "actlab/nn.h"
#include "cli.h"
#include "commands.h"
#include "orch/study.h"

int study_report(int argc, char **argv);

// ----------------------------------------------------------------------------
// progress: the callbacks of orch_study_run, called one at a time (under the runner's lock)

/* One of the units trained at once (--jobs): its label and how far it is. */
typedef struct run_job {
    int    active;
    double frac;                      /* of the unit, 0..1 */
    int    epoch, epochs, pct;
    char   label[512];
} run_job;

typedef struct progress {
    const char *cmd, *out;
    int         threads, epochs, tty, n_jobs;
    int         total, done, trained;   /* units: all, finished, trained this time */
    double      t0, trained_s;          /* start; seconds spent on trained units */
    double      last_draw;
    run_job     job[ORCH_STUDY_MAX_JOBS];
} progress;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void fmt_eta(double s, char *buf, size_t len)
{
    if (!(s >= 0.0) || !isfinite(s))
        snprintf(buf, len, "--");
    else if (s < 60)
        snprintf(buf, len, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

/* The ETA: the mean time of the units trained so far times the units left (less the parts of
 * the running ones done), over the jobs that train at once. */
static double eta_s(const progress *pg)
{
    if (pg->trained == 0)
        return NAN;
    double per = pg->trained_s / pg->trained, left = (double)(pg->total - pg->done);
    for (int j = 0; j < pg->n_jobs; j++)
        left -= pg->job[j].active ? pg->job[j].frac : 0.0;
    int par = pg->n_jobs < pg->total - pg->done ? pg->n_jobs : pg->total - pg->done;
    return per * left / (par > 1 ? par : 1);
}

/* The progress line (a terminal only): units done, ETA, the first running unit and its epoch,
 * and how many more run beside it. */
static void draw(progress *pg)
{
    const run_job *first = NULL;
    int more = 0;
    for (int j = 0; j < pg->n_jobs; j++)
        if (pg->job[j].active) {
            more += first != NULL;
            first = first ? first : &pg->job[j];
        }
    if (!first)
        return;
    char eta[32], extra[32] = "";
    fmt_eta(eta_s(pg), eta, sizeof eta);
    if (more)
        snprintf(extra, sizeof extra, " (+%d running)", more);
    fprintf(stderr, "\r\033[K[%d/%d units] ETA %s | %.200s | epoch %d/%d %3d%%%s", pg->done,
            pg->total, eta, first->label, first->epoch, first->epochs, first->pct, extra);
    fflush(stderr);
}

static void on_start(void *user, int done, int total, int jobs)
{
    progress *pg = user;
    pg->done = done;
    pg->total = total;
    pg->n_jobs = jobs;
    printf("%s: %d of %d units already done; %d at once, %d thread%s each\n", pg->out, done,
           total, jobs, pg->threads, pg->threads == 1 ? "" : "s");
    fflush(stdout);
}

static void on_unit(void *user, const orch_study_event *ev)
{
    progress *pg = user;
    run_job *j = &pg->job[ev->job];
    snprintf(j->label, sizeof j->label, "%s", ev->label);
    j->active = 1;
    j->frac = 0.0;
    j->epoch = j->pct = 0;
    j->epochs = pg->epochs;
}

static void on_batch(void *user, int job, const act_train_progress *p)
{
    progress *pg = user;
    run_job *j = &pg->job[job];
    double t = now_s();
    /* the study's epochs: a unit trains epochs 1..E-1, then E with the test set */
    j->frac = ((double)(p->epoch - 1) + (double)p->batch / (double)p->n_batches) /
              (double)pg->epochs;
    j->epoch = p->epoch;
    j->epochs = pg->epochs;
    j->pct = (int)(100 * p->batch / p->n_batches);
    if (t - pg->last_draw >= 0.25 || p->batch == p->n_batches) {
        pg->last_draw = t;
        draw(pg);
    }
}

/* "[3/12] relu mlp:16x1 he lr 0.05 seed 1: ok, val ..., test ..., 1.2 s (ETA 10s)"; a failed
 * unit's message. Stops the run when stdout fails. */
static int on_unit_done(void *user, const orch_study_event *ev)
{
    progress *pg = user;
    pg->job[ev->job].active = 0;
    if (pg->tty)
        fprintf(stderr, "\r\033[K");
    if (ev->status != ACT_OK) {
        if (ev->text[0])
            cli_error(pg->cmd, "%s", ev->text);
        return 1;
    }
    pg->trained++;
    pg->done++;
    pg->trained_s += ev->seconds;
    char eta[32];
    fmt_eta(eta_s(pg), eta, sizeof eta);
    printf("[%d/%d] %s: %s (ETA %s)\n", pg->done, pg->total, ev->label, ev->text, eta);
    fflush(stdout);
    if (ferror(stdout))
        return 1;
    if (pg->tty)
        draw(pg);
    return 0;
}

static void on_warning(void *user, const char *msg)
{
    progress *pg = user;
    cli_error(pg->cmd, "%s", msg);
}

// ----------------------------------------------------------------------------
// study run

/* Takes DIR/.actlab.lock (flock: released by the kernel when the process dies, so a kill -9
 * leaves no stale lock). Returns the descriptor, or -1 after printing why. */
static int claim_dir(const char *cmd, const char *dir)
{
    char path[4600];
    snprintf(path, sizeof path, "%s/.actlab.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        cli_error(cmd, "--out %s: cannot write there: %s", dir, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        cli_error(cmd, "--out %s is in use by another actlab run; wait for it or choose another "
                  "directory", dir);
        close(fd);
        return -1;
    }
    return fd;
}

/* studies/NAME.conf for a bare NAME; a path (with '/' or ending in .conf) as given. The study's
 * name (the file's base name without .conf) into name. */
static void study_path(const char *study, char *path, size_t len, char *name, size_t nlen)
{
    size_t n = strlen(study);
    int is_path = strchr(study, '/') || (n > 5 && !strcmp(study + n - 5, ".conf"));
    if (is_path)
        snprintf(path, len, "%s", study);
    else
        snprintf(path, len, "studies/%s.conf", study);
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t bl = strlen(b);
    if (bl > 5 && !strcmp(b + bl - 5, ".conf"))
        bl -= 5;
    snprintf(name, nlen, "%.*s", (int)bl, b);
}

static void run_usage(FILE *f)
{
    fputs("usage: actlab study run STUDY [--out DIR] [--quick] [--threads N] [--jobs N]\n"
          "                              [--data-dir D] [--dry-run]\n"
          "Runs study STUDY (studies/STUDY.conf, or a path to a .conf file; docs/study.md):\n"
          "every unit (activation x model x bn x init x lr x seed) trained once, its summary\n"
          "written to DIR/units/; finished units are never trained again, so the same command\n"
          "continues an interrupted study.\n"
          "      --out DIR      (out/study/STUDY, or out/study/STUDY-quick)\n"
          "      --quick        the file's [quick] section over its main one (CI-sized)\n"
          "      --threads N    threads per unit (the file's `threads`, default 1)\n"
          "      --jobs N       units trained at once (default: the cores over --threads);\n"
          "                     the summaries do not depend on it\n"
          "      --data-dir D   where the data files are\n"
          "      --dry-run      check the file and print the units; train nothing\n", f);
}

static int study_run(int argc, char **argv)
{
    const char *cmd = "study run";
    static const struct option lo[] = {
        { "out", required_argument, NULL, 'o' },   { "quick", no_argument, NULL, 'q' },
        { "threads", required_argument, NULL, 't' }, { "data-dir", required_argument, NULL, 'D' },
        { "dry-run", no_argument, NULL, 'n' },     { "help", no_argument, NULL, 'h' },
        { "jobs", required_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *out = NULL, *data_dir = NULL;
    int quick = 0, dry = 0, ch;
    long threads = 0, jobs = 0;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'q': quick = 1; break;
        case 'n': dry = 1; break;
        case 'D': data_dir = optarg; break;
        case 't':
            if (cli_parse_long(optarg, &threads) != 0 || threads < 1 || threads > 256) {
                cli_error(cmd, "--threads wants an integer in [1, 256], got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'j':
            if (cli_parse_long(optarg, &jobs) != 0 || jobs < 1 || jobs > ORCH_STUDY_MAX_JOBS) {
                cli_error(cmd, "--jobs wants an integer in [1, %d], got '%s'", ORCH_STUDY_MAX_JOBS,
                          optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h': run_usage(stdout); return CLI_EXIT_OK;
        default:
            cli_error(cmd, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        run_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    char path[4096], name[256], outbuf[4400];
    study_path(argv[optind], path, sizeof path, name, sizeof name);
    if (access(path, R_OK) != 0) {
        cli_error(cmd, "no study '%s': %s: %s (studies are studies/NAME.conf; docs/study.md)",
                  argv[optind], path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    study_config c;
    char msg[8192];
    int st = study_config_read(path, quick, &c, msg, sizeof msg);
    if (st != ACT_OK) {
        cli_error(cmd, "%s", msg);
        study_config_free(&c);
        return st == ACT_EFORMAT ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    int ec;
    if (threads)
        c.threads = (int)threads;
    study_unit *units = NULL;
    int n_units = study_units(&c, &units);
    if (n_units < 0) {
        cli_error(cmd, "out of memory");
        study_config_free(&c);
        return CLI_EXIT_FAILURE;
    }
    if (!out) {
        snprintf(outbuf, sizeof outbuf, "out/study/%s%s", name, quick ? "-quick" : "");
        out = outbuf;
    }
    printf("study %s (%s): %d units, %d epoch%s on %ld training images each (0: all); "
           "budget: %s\n", name, c.variant, n_units, c.epochs, c.epochs == 1 ? "" : "s",
           c.train_images, c.budget);
    if (dry) {
        for (int i = 0; i < n_units; i++) {
            char label[512];
            study_unit_label(&c, &units[i], label, sizeof label);
            printf("  %s\n", label);
        }
        free(units);
        study_config_free(&c);
        return CLI_EXIT_OK;
    }
    ec = CLI_EXIT_FAILURE;
    int lock = -1, data = 0;
    act_dataset train = { 0 }, test = { 0 };
    char *text = study_config_text(&c), err[1024], p2[5200];
    if (!text) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    if ((ec = cli_check_output(cmd, "--out", out, 1)) != CLI_EXIT_OK)
        goto done;
    ec = CLI_EXIT_FAILURE;
    if ((lock = claim_dir(cmd, out)) < 0)
        goto done;
    snprintf(p2, sizeof p2, "%s/units", out);
    if (cli_out_dir(p2, err, sizeof err) != 0) {
        cli_error(cmd, "%s", err);
        goto done;
    }
    snprintf(p2, sizeof p2, "%s/work", out);
    if (cli_out_dir(p2, err, sizeof err) != 0) {
        cli_error(cmd, "%s", err);
        goto done;
    }
    snprintf(p2, sizeof p2, "%s/study.conf", out);
    char *old = NULL;
    ACT_IGNORE(act_file_read(p2, &old, NULL, NULL));   /* none: a new study */
    if (old && !study_config_same_runs(old, text)) {
        cli_error(cmd, "--out %s holds a study with another configuration (%s differs from "
                  "what %s%s resolves to): choose another --out, or delete the directory", out,
                  p2, path, quick ? " --quick" : "");
        free(old);
        ec = CLI_EXIT_USAGE;
        goto done;
    }
    free(old);
    if (cli_write_atomic(p2, text, strlen(text), err, sizeof err) != 0) {
        cli_error(cmd, "%s", err);
        goto done;
    }
    act_diag d;
    st = act_data_open(c.data, data_dir, &train, &test, &d);
    if (st != ACT_OK) {
        cli_error(cmd, "%s", d.msg[0] ? d.msg : act_strerror(st));
        ec = st == ACT_ENOTFOUND ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
        goto done;
    }
    data = 1;
    if ((size_t)c.val_images >= train.n) {
        cli_error(cmd, "%s: val_images %ld leaves no training images (the set has %zu)", path,
                  c.val_images, train.n);
        ec = CLI_EXIT_USAGE;
        goto done;
    }
    // every (model, act) pair builds, before any training
    if ((st = study_config_check_build(&c, &train, msg, sizeof msg)) != ACT_OK) {
        cli_error(cmd, "%s", msg);
        ec = st == ACT_ENOMEM ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
        goto done;
    }
    if (jobs == 0) {   /* the cores, over the threads each unit uses */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cores > c.threads ? cores / c.threads : 1;
    }
    progress *pg = calloc(1, sizeof *pg);
    if (!pg) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    *pg = (progress){ .cmd = cmd, .out = out, .threads = c.threads, .epochs = c.epochs,
                      .tty = isatty(2), .t0 = now_s() };
    orch_study_callbacks cb = { .user = pg, .on_start = on_start, .on_unit = on_unit,
                                .on_batch = pg->tty ? on_batch : NULL,
                                .on_unit_done = on_unit_done, .on_warning = on_warning };
    orch_study_stats s;
    st = orch_study_run(&c, out, jobs < ORCH_STUDY_MAX_JOBS ? (int)jobs : ORCH_STUDY_MAX_JOBS,
                        &train, &test, &cb, &s);
    double t_start = pg->t0;
    free(pg);
    if (st == ACT_ENOMEM && s.total == 0)
        cli_error(cmd, "out of memory");
    ec = st == ACT_OK || st == ACT_ECANCELED ? CLI_EXIT_OK
       : st == ACT_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    if (ec == CLI_EXIT_OK) {
        char el[32];
        fmt_eta(now_s() - t_start, el, sizeof el);
        printf("study %s: %d of %d units done (%d trained now in %s, %d of them diverged); "
               "report: actlab study report %s -o REPORT_DIR\n", name, s.done, n_units,
               s.trained, el, s.diverged, out);
    }
done:
    if (data) {
        act_data_free(&train);
        act_data_free(&test);
    }
    if (lock >= 0)
        close(lock);
    free(text);
    free(units);
    study_config_free(&c);
    return ec;
}

int cmd_study(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "run"))
        return study_run(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "report"))
        return study_report(argc - 1, argv + 1);
    FILE *f = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout
                                                                                   : stderr;
    fputs("usage: actlab study run STUDY [--out DIR] [--quick] [--threads N] [--data-dir D]\n"
          "       actlab study report DIR -o OUT\n"
          "Studies of activation functions with statistics (docs/study.md): `run` trains a\n"
          "study's units (resumable), `report` writes OUT/index.html (self-contained) and\n"
          "OUT/summary.md. Studies: studies/*.conf.\n", f);
    if (f == stdout)
        return CLI_EXIT_OK;
    if (argc >= 2)
        cli_error("study", "unknown subcommand '%s' (valid: run, report)", argv[1]);
    return CLI_EXIT_USAGE;
}
