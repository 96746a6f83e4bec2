/* study.h -- a study (docs/study.md): its configuration (studies/NAME.conf), its units (one
 * training run each: activation x model x batch-norm variant x init x lr x seed), their names and
 * summary files, and the runner that trains the units not yet done, N at once, each into
 * DIR/units/UNIT.json (written atomically; DIR/work/ holds the checkpoints of unfinished units),
 * so an interrupted study resumes where it stopped. `actlab study run` and `study report`
 * (tools/actlab/) are its callers: they parse arguments, load the data, print, and choose exit
 * codes. Nothing here prints or exits; messages go into caller buffers or callbacks.
 */
#ifndef ACTLAB_ORCH_STUDY_H
#define ACTLAB_ORCH_STUDY_H

#include <stddef.h>
#include <stdint.h>
#include "actlab/nn.h"
#include "actlab/status.h"

#define STUDY_MAX_ITEMS  32     /* entries of one list (acts, models, lr_sweep, ...) */
#define STUDY_MAX_LRS    (STUDY_MAX_ITEMS + 1)

/* A list value: items point into the owning study_config's strings. */
typedef struct study_list {
    int         n;
    const char *v[STUDY_MAX_ITEMS];
} study_list;

typedef struct study_config {
    const char *path;                /* the file read (borrowed) */
    const char *title, *claim, *budget, *variant, *data, *baseline, *opt, *sched;
    study_list  acts, models, bn, init;
    study_list  model_acts[STUDY_MAX_ITEMS];   /* acts[MODEL]: n == 0 means `acts` */
    int         seeds, epochs, threads, keep_stem, dump_params;
    long        batch, train_images, val_images, test_images;
    double      lr;                  /* the shared learning rate */
    int         n_lrs;               /* lrs[0] is lr; then lr_sweep's other values */
    double      lrs[STUDY_MAX_LRS];
    double      momentum, wd;        /* wd < 0: the optimiser's default */
    int         acts_line, models_line;          /* where they were set, for messages */
    int         model_acts_line[STUDY_MAX_ITEMS];
    char       *strings;             /* owned: every string above points in here */
    size_t      n_strings, cap_strings;
} study_config;

/* Reads the study file path (borrowed: c->path keeps it); quick applies the file's [quick]
 * section over the main one. ACT_OK, or: ACT_EIO for a missing or unreadable file, ACT_ENOMEM,
 * ACT_EFORMAT for anything wrong in it; then err (errlen bytes, always terminated) holds
 * "PATH:LINE: what", with a second line "  valid keys: ..." where a key is unknown. c is
 * initialised either way; release it with study_config_free. */
ACT_NODISCARD int study_config_read(const char *path, int quick, study_config *c, char *err,
                                    size_t errlen);
/* Releases c's strings; c may be released twice. */
void study_config_free(study_config *c);

/* Checks that every (model, activation, bn) pair of c builds into a network for data shaped
 * like `like`, before any training. ACT_OK, or the engine's status with err holding
 * "PATH:LINE: activation 'A': why" (and a second line listing what is valid) or
 * "PATH:LINE: model 'M' with 'A': why". */
ACT_NODISCARD int study_config_check_build(const study_config *c, const act_dataset *like,
                                           char *err, size_t errlen);

/* The effective configuration as a study file (no [quick] section: its values applied), the copy
 * `study run` keeps as DIR/study.conf. Returns a malloc'ed string the caller frees, or NULL when
 * out of memory. */
char *study_config_text(const study_config *c);

/* Whether two study_config_text() texts describe the same runs: equal but for the `threads`,
 * `budget` and `seeds` lines, which change no unit's result (a study may resume on a machine
 * with more cores, with its cost estimate revised, or grow by whole seeds where its differences
 * turned out smaller than its seed-to-seed spread). */
int study_config_same_runs(const char *a, const char *b);

/* The activations of model m (acts[MODEL] or acts); borrowed from c. */
const study_list *study_acts_of(const study_config *c, int m);

/* One unit: indices into the configuration's lists. */
typedef struct study_unit {
    int    act;       /* index into study_acts_of(c, model) */
    int    model, bn, init, lr, seed;   /* seed: 1..seeds */
} study_unit;

/* Every unit of c in run order (the shared lr first, seed by seed, so an interrupted study has
 * complete seeds across activations; then each other lr of lr_sweep the same way), into *out
 * (malloc'ed, the caller frees it). Returns the count, or -1 when out of memory. */
int study_units(const study_config *c, study_unit **out);

/* Names of a unit's parts; strings borrowed from c. */
const char *study_unit_act(const study_config *c, const study_unit *u);
int study_bn_on(const study_config *c, const study_unit *u);
/* "mlp:128x10,bn" for model mlp:128x10 with bn on, into buf. */
void study_unit_spec(const study_config *c, const study_unit *u, char *buf, size_t len);
/* The unit's file name without directory, into buf:
 * "relu__mlp-128x10__bnon__he__lr0.02__s1.json". */
void study_unit_file(const study_config *c, const study_unit *u, char *buf, size_t len);
/* "relu mlp:128x10,bn he lr 0.02 seed 1" for progress lines, into buf. */
void study_unit_label(const study_config *c, const study_unit *u, char *buf, size_t len);

/* Depth D of "mlp:WxD" (also with options), or -1 for other models; W into *width if set. */
int study_mlp_depth(const char *model, int *width);


/* ---------------------------------------------------------------------------------------------
 * The runner */

#define ORCH_STUDY_MAX_JOBS 64

/* What a callback is told; strings borrowed for the call only. */
typedef struct orch_study_event {
    int         job;       /* 0..jobs-1: which of the units trained at once */
    int         unit;      /* index in study_units order */
    const char *label;     /* study_unit_label */
    int         status;    /* on_unit_done: ACT_OK when the unit is recorded (diverged too);
                              else the error that stops the run */
    int         diverged;  /* on_unit_done, ACT_OK: the run diverged (recorded as such) */
    const char *text;      /* on_unit_done: the result line ("ok, val 0.8123, test 0.8011,
                              3.2 s" or "diverged in epoch 2 of 5"), or the error message */
    double      seconds;   /* on_unit_done: the unit's wall time */
} orch_study_event;

/* The caller's side of a run. Every callback may be NULL, and every one is called with the
 * runner's lock held: never two at once, and none may call into the runner. */
typedef struct orch_study_callbacks {
    void *user;
    /* Before any training: units found done (their summaries complete), all units, jobs. */
    void (*on_start)(void *user, int done, int total, int jobs);
    /* A job takes a unit (ev: job, unit, label). */
    void (*on_unit)(void *user, const orch_study_event *ev);
    /* A batch of a job's unit trained; NULL also spares the runner a lock per batch. */
    void (*on_batch)(void *user, int job, const act_train_progress *p);
    /* A job's unit ended (ev: all fields). Nonzero stops the run: the other jobs finish their
     * unit, no unit is started, and orch_study_run returns ACT_ECANCELED. */
    int (*on_unit_done)(void *user, const orch_study_event *ev);
    /* A problem that does not stop the run (a checkpoint that cannot be removed). */
    void (*on_warning)(void *user, const char *msg);
} orch_study_callbacks;

typedef struct orch_study_stats {
    int total;       /* units of the study */
    int done;        /* units with a summary, found or written by this run */
    int trained;     /* units trained by this run */
    int diverged;    /* of them, how many diverged */
} orch_study_stats;

/* Trains the units of c (checked, e.g. by study_config_check_build) that have no complete
 * summary in dir/units/ yet, at most `jobs` at once (1..ORCH_STUDY_MAX_JOBS, fewer when fewer
 * are left), each with c->threads threads, on train (validation split of it) and test (borrowed,
 * read-only). dir/units/ and dir/work/ must exist. Each unit trains epochs 1..E-1 without the
 * test set, checkpointed in dir/work/, then epoch E with it, so the test set is evaluated once;
 * an interrupted unit continues from its checkpoint. Its summary goes to dir/units/FILE
 * (study_unit_file) atomically, then the checkpoint is removed. Units are independent runs with
 * their own seeds: the summaries do not depend on jobs. Returns ACT_OK when every unit is done;
 * the status of the first unit that failed (an error other than divergence; the others finish
 * their unit and stop); ACT_ECANCELED when on_unit_done asked to stop; ACT_EINVAL for bad
 * arguments; ACT_ENOMEM. stats (may be NULL) is filled either way. */
ACT_NODISCARD int orch_study_run(const study_config *c, const char *dir, int jobs,
                                 const act_dataset *train, const act_dataset *test,
                                 const orch_study_callbacks *cb, orch_study_stats *stats);

#endif
