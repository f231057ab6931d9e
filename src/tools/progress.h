/* Progress of nas search and nas train on stderr: a bar redrawn in place on a terminal, plain log lines otherwise. */
#ifndef NAS_PROGRESS_H
#define NAS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pthread.h>
#include <sys/types.h>

#include <libnas/nas.h>

/* The budget of a search as the progress sees it; 0 means no limit of that kind. */
typedef struct progress_budget {
    uint64_t max_trials;
    double max_seconds;   /* wall-clock */
    double max_cost;      /* sum of trial costs */
} progress_budget_t;

/* Which state the bar shows (kept for the clock's redraws and for a skipped last redraw). */
enum { PROGRESS_NONE, PROGRESS_SEARCH, PROGRESS_TRAIN };

/* State of one progress display. Fill it with progress_init(), pass it as the callback's user_data. */
typedef struct progress {
    FILE *f;
    bool bar;                  /* redraw one line in place (a terminal) */
    bool lines;                /* a plain line per finished trial, epoch and report */
    bool verbose;              /* lines also carry the architecture */
    bool drawn;                /* the bar is on screen */
    double last_draw;          /* elapsed seconds at the last redraw */
    int width;                 /* 0: ask the terminal at each redraw */
    int kind;                  /* PROGRESS_*: what `last` or `prev` holds */
    bool pending;              /* a later state than the one drawn (the redraw was skipped) */
    double tick;               /* seconds since the state's call, added by the clock's redraws */
    /* The clock: a thread that redraws the bar every second between calls, so that the time moves
     * during a long trial. `lock` (recursive) guards everything above and the writes to f. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t clock;
    bool clock_running, clock_stop;
    double call_time;          /* monotonic seconds at the last call */
    pid_t owner;               /* the process that drew; a forked trial process leaves the screen alone */
    /* nas search */
    const char *objective;     /* first objective: the metric shown */
    const nas_run_t *run;      /* for the finished trial's value and message; NULL: not shown */
    progress_budget_t budget;
    uint64_t seen;             /* trials_done at the last call: a call that adds none is a nas_run_report() */
    char note[512];            /* the last report, shown on the bar until the next trial finishes */
    nas_progress_t last;       /* the last call (last_arch NULL), for PROGRESS_SEARCH */
    /* nas train: sums over the epoch in progress, fed one step at a time */
    uint32_t epoch;
    uint64_t last_step, ep_steps;
    double ep_loss, ep_acc;
    nas_train_progress_t prev; /* the previous call: the last step of an epoch that the next call shows ended */
} progress_t;

/* Whether stderr-like `f` is a terminal that understands "\r" and "\033[K" (TERM is not "dumb"). */
bool progress_is_terminal(FILE *f);

/*
 * Set up a display on f: verbosity -1 shows nothing; 0 a bar on a terminal, else plain lines;
 * 1 both on a terminal (the lines scroll above the bar), lines with the architecture otherwise.
 */
void progress_init(progress_t *p, FILE *f, int verbosity, bool terminal);
/* Start the clock (only when drawing a bar); progress_end() stops it. */
void progress_start_clock(progress_t *p);
/* For nas search: the run (after nas_run_create) whose trials the lines describe, and its budget. */
void progress_attach_run(progress_t *p, const nas_run_t *run, const progress_budget_t *budget,
                         const char *objective);

/* The callbacks: nas_progress_fn for nas_run_opts_t, nas_train_progress_fn for nas_train_opts_t. */
void progress_search_cb(void *user_data, const nas_progress_t *np);
/* Needs progress_every = 1 (exact per-epoch sums); redraws are limited to about ten a second. */
void progress_train_cb(void *user_data, const nas_train_progress_t *tp);

/* Stop the clock and take the bar off the screen: cleared after a normal end, ended with a newline
 * after Ctrl-C (the terminal echoed "^C" on it, and the last state stays readable). */
void progress_end(progress_t *p, bool interrupted);
/* Erase the bar of the display in use (if any) before another line goes to stderr; it comes back on the next call. */
void progress_suspend(void);

/* The pieces, for tests. */
/* "7s", "59s", "3m05s", "1h02m", "3d04h"; "--" for a negative or non-finite duration. */
void progress_duration(char *buf, size_t cap, double seconds);
/* Part of the budget spent, in [0, 1]: the largest of trials, seconds and cost; NaN if nothing bounds the run. */
double progress_fraction(const progress_budget_t *b, const nas_progress_t *np);
/* Seconds left: the mean time per trial times the trials left, the time left, or the cost left at the
 * rate so far, whichever ends first; NaN if none is known (no trial yet and no time budget). */
double progress_eta(const progress_budget_t *b, const nas_progress_t *np);
/* The bar line of a search for a terminal `width` columns wide (never more than width - 1), in out[cap]. */
void progress_search_line(const progress_t *p, const nas_progress_t *np, int width, char *out, size_t cap);

#endif /* NAS_PROGRESS_H */
