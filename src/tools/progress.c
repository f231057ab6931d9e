/* Progress of nas search and nas train on stderr: a bar redrawn in place on a terminal, plain log lines otherwise. */
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1 /* TIOCGWINSZ and struct winsize */
#endif
#if !defined(_XOPEN_SOURCE) || _XOPEN_SOURCE < 700
#undef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* PTHREAD_MUTEX_RECURSIVE */
#endif
#include "progress.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* How long a drawn line stays before the next redraw: about ten redraws a second at most. */
#define REDRAW_SECONDS 0.1
/* Between calls the clock redraws the bar this often, so that elapsed and eta move during a long trial. */
#define CLOCK_SECONDS 1.0
/* Bar widths in characters between the brackets: narrower than MIN is not worth showing. */
#define BAR_MIN 10
#define BAR_MAX 30

/* The display in use, for progress_suspend() (log lines of the library arrive through another path). */
static progress_t *active;

/* Monotonic seconds, for the clock's redraws. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------------- */
/* Text                                                                    */

/* Append to buf[cap] at *len; output that does not fit is cut (buf stays NUL-terminated). */
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

/* Copy src into dst[cap] with control characters as spaces: the line must not move the cursor. */
static void clean(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)(src ? src : ""); *s && n + 1 < cap; s++)
        dst[n++] = (char)(*s < 0x20 || *s == 0x7f ? ' ' : *s);
    dst[n] = '\0';
}

/* Columns of a UTF-8 string, counting each character as one. */
static size_t columns(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* Cut s to at most cols columns, on a character boundary. */
static void cut(char *s, size_t cols)
{
    size_t n = 0;
    for (char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80 && n++ == cols) {
            *p = '\0';
            return;
        }
    }
}

void progress_duration(char *buf, size_t cap, double seconds)
{
    if (!isfinite(seconds) || seconds < 0) {
        snprintf(buf, cap, "--");
        return;
    }
    if (seconds > 1e12)
        seconds = 1e12;   /* keeps the conversion defined; nobody reads a 30000-year estimate closely */
    uint64_t s = (uint64_t)llround(seconds);
    if (s < 60)
        snprintf(buf, cap, "%" PRIu64 "s", s);
    else if (s < 3600)
        snprintf(buf, cap, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, cap, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, cap, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
}

/* A metric for people: integers in full (parameter counts), other values to 6 significant digits. */
static void format_value(char *buf, size_t cap, double v)
{
    if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.6g", v);
}

/* ---------------------------------------------------------------------- */
/* Budget arithmetic                                                       */

double progress_fraction(const progress_budget_t *b, const nas_progress_t *np)
{
    double f = NAN;
    if (b->max_trials)
        f = (double)np->trials_done / (double)b->max_trials;
    if (b->max_seconds > 0)
        f = fmax(isnan(f) ? 0.0 : f, np->elapsed_seconds / b->max_seconds);
    if (b->max_cost > 0)
        f = fmax(isnan(f) ? 0.0 : f, np->cost_seconds / b->max_cost);
    return isnan(f) ? f : fmin(fmax(f, 0.0), 1.0);
}

double progress_eta(const progress_budget_t *b, const nas_progress_t *np)
{
    double eta = INFINITY, t = np->elapsed_seconds;
    if (b->max_trials && np->trials_done > 0) {
        uint64_t left = np->trials_done >= b->max_trials ? 0 : b->max_trials - np->trials_done;
        eta = fmin(eta, t / (double)np->trials_done * (double)left);
    }
    if (b->max_seconds > 0)
        eta = fmin(eta, fmax(b->max_seconds - t, 0.0));
    if (b->max_cost > 0 && np->cost_seconds > 0)   /* wall-clock per unit of cost, as so far */
        eta = fmin(eta, fmax(b->max_cost - np->cost_seconds, 0.0) * t / np->cost_seconds);
    return isinf(eta) ? NAN : eta;
}

/* ---------------------------------------------------------------------- */
/* The terminal line                                                       */

static int terminal_width(const progress_t *p)
{
    if (p->width > 0)
        return p->width;
    struct winsize ws;
    if (ioctl(fileno(p->f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *env = getenv("COLUMNS");
    long c = env ? strtol(env, NULL, 10) : 0;
    return c > 0 && c < 10000 ? (int)c : 80;
}

/*
 * Lay out "[####----]  42% HEAD | MID | TIME | NOTE" in at most width - 1 columns (the last column
 * would make some terminals wrap). mids[] are the middle part from the longest to the shortest
 * (each may be ""). What gives way, in order: the note, the middle part's length, the bar's width,
 * the bar; a line still too long is cut. frac NaN: no bar.
 */
static void layout(char *out, size_t cap, int width, double frac, const char *head, const char *const *mids,
                   int nmids, const char *time, const char *note)
{
    size_t limit = width > 1 ? (size_t)width - 1 : 0, len = 0;
    /* The bar's width depends on the terminal only, so that it does not jump as the text grows. */
    size_t wide = limit / 5 < BAR_MIN ? BAR_MIN : limit / 5 > BAR_MAX ? BAR_MAX : limit / 5;
    size_t bars[3] = { isnan(frac) ? 0 : wide, isnan(frac) ? 0 : BAR_MIN, 0 };
    char core[512];
    size_t bw = 0;
    bool fits = false;
    for (int b = 0; b < 3 && !fits; b++) {
        for (int i = 0; i < nmids && !fits; i++) {
            snprintf(core, sizeof core, "%s%s%s | %s", head, *mids[i] ? " | " : "", mids[i], time);
            bw = bars[b];
            fits = columns(core) + (bw ? bw + 8 : 0) <= limit;   /* "[" "] " "100%" " " around the bar */
        }
    }
    out[0] = '\0';
    if (bw) {
        size_t full = (size_t)floor(frac * (double)bw + 1e-9);
        append(out, cap, &len, "[");
        for (size_t k = 0; k < bw; k++)
            append(out, cap, &len, "%c", k < full ? '#' : '-');
        append(out, cap, &len, "] %3d%% ", (int)floor(frac * 100.0 + 1e-9));
    }
    append(out, cap, &len, "%s", core);
    if (note && *note && columns(out) + 3 + BAR_MIN <= limit)
        append(out, cap, &len, " | %s", note);
    cut(out, limit);
}

/* An estimate made `tick` seconds ago, as it stands now (unknown stays unknown). */
static double count_down(double eta, double tick)
{
    return isnan(eta) ? eta : fmax(eta - tick, 0.0);
}

void progress_search_line(const progress_t *p, const nas_progress_t *np, int width, char *out, size_t cap)
{
    char head[96], best[3][256] = { "", "", "" }, t[64], e[32], v[48];
    int n = snprintf(head, sizeof head, "trial %" PRIu64, np->trials_done);
    if (p->budget.max_trials)
        n += snprintf(head + n, sizeof head - (size_t)n, "/%" PRIu64, p->budget.max_trials);
    if (np->trials_failed)
        snprintf(head + n, sizeof head - (size_t)n, " (%" PRIu64 " failed)", np->trials_failed);
    if (!isnan(np->best_score)) {
        format_value(v, sizeof v, np->best_score);
        const char *obj = p->objective ? p->objective : "";
        snprintf(best[0], sizeof best[0], "best %s%s%s (trial %" PRIu64 ")", obj, *obj ? " " : "", v,
                 np->best_trial);
        snprintf(best[1], sizeof best[1], "best %s (trial %" PRIu64 ")", v, np->best_trial);
        snprintf(best[2], sizeof best[2], "best %s", v);
    }
    const char *const mids[3] = { best[0], best[1], best[2] };
    nas_progress_t now_np = *np;   /* the time budget moves on between calls too */
    now_np.elapsed_seconds += p->tick;
    progress_duration(t, sizeof t, now_np.elapsed_seconds);
    progress_duration(e, sizeof e, count_down(progress_eta(&p->budget, np), p->tick));
    snprintf(t + strlen(t), sizeof t - strlen(t), ", eta %s", e);
    layout(out, cap, width, progress_fraction(&p->budget, &now_np), head, mids, 3, t, p->note);
}

/* Put `line` on the terminal in place of the previous one. */
static void draw(progress_t *p, const char *line, double elapsed)
{
    fprintf(p->f, "\r\033[K%s", line);
    fflush(p->f);
    p->drawn = true;
    p->last_draw = elapsed;
}

/* Whether a redraw is due: ten a second at most, but always the first and the last. */
static bool due(const progress_t *p, double elapsed, bool last)
{
    return !p->drawn || last || elapsed - p->last_draw >= REDRAW_SECONDS || elapsed < p->last_draw;
}

static void erase(progress_t *p)
{
    if (p->drawn) {
        fputs("\r\033[K", p->f);
        p->drawn = false;
    }
}

/* One plain line (the bar, if drawn, is erased first and comes back at the next redraw). */
static void emit(progress_t *p, const char *line)
{
    erase(p);
    fprintf(p->f, "%s\n", line);
    fflush(p->f);
}

/* ---------------------------------------------------------------------- */
/* Setup                                                                   */

bool progress_is_terminal(FILE *f)
{
    const char *term = getenv("TERM");
    return isatty(fileno(f)) && !(term && strcmp(term, "dumb") == 0);
}

void progress_init(progress_t *p, FILE *f, int verbosity, bool terminal)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    p->bar = verbosity >= 0 && terminal;
    p->lines = verbosity > 0 || (verbosity == 0 && !terminal);
    p->verbose = verbosity > 0;
    p->objective = "";
    p->owner = getpid();
    /* Recursive: a log line (progress_suspend) may come from inside a callback. */
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&p->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    active = p;
}

void progress_attach_run(progress_t *p, const nas_run_t *run, const progress_budget_t *budget,
                         const char *objective)
{
    p->run = run;
    p->seen = run ? nas_run_num_trials(run) : 0;
    if (budget)
        p->budget = *budget;
    p->objective = objective ? objective : "";
}

/* ---------------------------------------------------------------------- */
/* nas search                                                              */

/* "[  12.3s] trial 5/20 ok test_acc 88.12 | best 89.01 (trial 3) | eta 1m40s" */
static void trial_line(progress_t *p, const nas_progress_t *np)
{
    char line[8192], v[48], e[32];
    size_t len = 0;
    append(line, sizeof line, &len, "[%6.1fs] trial %" PRIu64, np->elapsed_seconds, np->trials_done);
    if (p->budget.max_trials)
        append(line, sizeof line, &len, "/%" PRIu64, p->budget.max_trials);
    const nas_result_t *res = NULL;
    const char *arch = np->last_arch;
    uint64_t n = p->run ? nas_run_num_trials(p->run) : 0, id;
    if (n == 0 || nas_run_trial(p->run, n - 1, &id, &arch, &res) != NAS_OK)
        res = NULL;
    nas_status_t st = res ? nas_result_status(res) : np->last_status;
    double value;
    if (st != NAS_OK) {
        char msg[2048];
        clean(msg, sizeof msg, res ? nas_result_message(res) : "");
        append(line, sizeof line, &len, " %s%s%s", nas_status_name(st), *msg ? ": " : "", msg);
    } else {
        append(line, sizeof line, &len, " ok");
        if (res && *p->objective && nas_result_get_metric(res, p->objective, &value) == NAS_OK) {
            format_value(v, sizeof v, value);
            append(line, sizeof line, &len, " %s %s", p->objective, v);
        }
    }
    if (!isnan(np->best_score)) {
        format_value(v, sizeof v, np->best_score);
        append(line, sizeof line, &len, " | best %s (trial %" PRIu64 ")", v, np->best_trial);
    }
    progress_duration(e, sizeof e, progress_eta(&p->budget, np));
    append(line, sizeof line, &len, " | eta %s", e);
    if (p->verbose && arch && *arch) {
        char a[4096];
        clean(a, sizeof a, arch);
        append(line, sizeof line, &len, " | arch %s", a);
    }
    emit(p, line);
}

void progress_search_cb(void *user_data, const nas_progress_t *np)
{
    progress_t *p = user_data;
    if (!p || !np || np->struct_size < sizeof *np)
        return;
    pthread_mutex_lock(&p->lock);
    p->call_time = now();
    bool trial = np->trials_done != p->seen;
    p->seen = np->trials_done;
    if (trial)
        p->note[0] = '\0';
    else
        clean(p->note, sizeof p->note, np->last_arch);
    if (p->lines && trial) {
        trial_line(p, np);
    } else if (p->lines && p->note[0]) {
        char line[sizeof p->note + 32];
        snprintf(line, sizeof line, "[%6.1fs] %s", np->elapsed_seconds, p->note);
        emit(p, line);
    }
    p->last = *np;
    p->last.last_arch = NULL;   /* valid during the call only; the note has it */
    p->kind = PROGRESS_SEARCH;
    bool last = p->budget.max_trials && np->trials_done >= p->budget.max_trials;
    p->pending = p->bar && !due(p, np->elapsed_seconds, last);
    if (p->bar && !p->pending) {
        char line[1024];
        progress_search_line(p, np, terminal_width(p), line, sizeof line);
        draw(p, line, np->elapsed_seconds);
    }
    pthread_mutex_unlock(&p->lock);
}

/* ---------------------------------------------------------------------- */
/* nas train                                                               */

static double train_eta(const nas_train_progress_t *tp)
{
    if (tp->step == 0 || tp->total_steps == 0)
        return NAN;
    uint64_t left = tp->step >= tp->total_steps ? 0 : tp->total_steps - tp->step;
    return tp->elapsed_seconds / (double)tp->step * (double)left;
}

/* "[  12.3s] epoch 2/5 loss 0.4123 accuracy 85.12% lr 0.0412 | eta 20s", for the epoch that `at` ends. */
static void epoch_line(progress_t *p, const nas_train_progress_t *at)
{
    if (!p->ep_steps)
        return;
    double steps = (double)p->ep_steps;
    char e[32], line[256];
    progress_duration(e, sizeof e, train_eta(at));
    snprintf(line, sizeof line, "[%6.1fs] epoch %u/%u loss %.4f accuracy %.2f%% lr %.4g | eta %s", at->elapsed_seconds,
             (unsigned)p->epoch + 1, (unsigned)at->epochs, p->ep_loss / steps, p->ep_acc / steps, at->lr, e);
    if (p->lines)
        emit(p, line);
    p->ep_loss = p->ep_acc = 0.0;
    p->ep_steps = 0;
}

/* The bar of nas train at `tp`, with the mean loss and accuracy of the epoch so far. */
static void train_bar_line(const progress_t *p, const nas_train_progress_t *tp, char *out, size_t cap)
{
    char head[96], mid_long[96], mid_short[48], t[64], e[32];
    double steps = p->ep_steps ? (double)p->ep_steps : 1.0;
    snprintf(head, sizeof head, "epoch %u/%u step %" PRIu64 "/%" PRIu64, (unsigned)tp->epoch + 1,
             (unsigned)tp->epochs, tp->step, tp->total_steps);
    snprintf(mid_long, sizeof mid_long, "loss %.4f accuracy %.2f%%", p->ep_loss / steps, p->ep_acc / steps);
    snprintf(mid_short, sizeof mid_short, "loss %.4f", p->ep_loss / steps);
    const char *const mids[3] = { mid_long, mid_short, "" };
    progress_duration(t, sizeof t, tp->elapsed_seconds + p->tick);
    progress_duration(e, sizeof e, count_down(train_eta(tp), p->tick));
    snprintf(t + strlen(t), sizeof t - strlen(t), ", eta %s", e);
    double frac = tp->total_steps ? fmin((double)tp->step / (double)tp->total_steps, 1.0) : NAN;
    layout(out, cap, terminal_width(p), frac, head, mids, 3, t, "");
}

void progress_train_cb(void *user_data, const nas_train_progress_t *tp)
{
    progress_t *p = user_data;
    if (!p || !tp || tp->struct_size < sizeof *tp)
        return;
    pthread_mutex_lock(&p->lock);
    p->call_time = now();
    if (tp->epoch != p->epoch && p->ep_steps)
        epoch_line(p, &p->prev);
    p->epoch = tp->epoch;
    /* Each report covers the steps since the previous one; with one step per report the sums are exact. */
    uint64_t n = tp->step > p->last_step ? tp->step - p->last_step : 1;
    p->last_step = tp->step;
    p->ep_loss += tp->loss * (double)n;
    p->ep_acc += tp->accuracy * (double)n;
    p->ep_steps += n;
    p->prev = *tp;
    p->kind = PROGRESS_TRAIN;
    bool last = tp->step >= tp->total_steps;
    p->pending = p->bar && !due(p, tp->elapsed_seconds, last);
    char line[512] = "";
    if (p->bar && !p->pending)
        train_bar_line(p, tp, line, sizeof line);   /* before the last epoch's line resets the sums */
    if (last) {
        epoch_line(p, tp);
        p->kind = PROGRESS_NONE;   /* the sums are gone: nothing for the clock to redraw */
    }
    if (line[0])
        draw(p, line, tp->elapsed_seconds);
    pthread_mutex_unlock(&p->lock);
}

/* ---------------------------------------------------------------------- */
/* The clock                                                               */

/* Redraw the state of the last call as it stands `tick` seconds later; p->lock held. */
static void redraw(progress_t *p, double tick)
{
    char line[1024];
    p->tick = tick;
    if (p->kind == PROGRESS_SEARCH)
        progress_search_line(p, &p->last, terminal_width(p), line, sizeof line);
    else
        train_bar_line(p, &p->prev, line, sizeof line);
    p->tick = 0.0;
    draw(p, line, p->last_draw);
}

static void *clock_main(void *arg)
{
    progress_t *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->clock_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)CLOCK_SECONDS;
        pthread_cond_timedwait(&p->wake, &p->lock, &ts);
        double since = now() - p->call_time;
        /* Only a bar on screen (not one erased for a log line) and only between calls. */
        if (!p->clock_stop && p->drawn && p->kind != PROGRESS_NONE && since >= CLOCK_SECONDS)
            redraw(p, since);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

void progress_start_clock(progress_t *p)
{
    if (!p->bar || p->clock_running)
        return;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return;
    bool ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&p->wake, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok)
        return;   /* no clock: the bar still moves at each call */
    /* Signals go to the main thread, whose handler the commands rely on. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    p->clock_stop = false;
    p->clock_running = pthread_create(&p->clock, NULL, clock_main, p) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!p->clock_running)
        pthread_cond_destroy(&p->wake);
}

static void stop_clock(progress_t *p)
{
    if (!p->clock_running)
        return;
    pthread_mutex_lock(&p->lock);
    p->clock_stop = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->clock, NULL);
    pthread_cond_destroy(&p->wake);
    p->clock_running = false;
}

/* ---------------------------------------------------------------------- */
/* The end                                                                 */

void progress_end(progress_t *p, bool interrupted)
{
    stop_clock(p);
    if (interrupted && p->pending && p->kind != PROGRESS_NONE)   /* the state it stopped in, not the last drawn */
        redraw(p, 0.0);
    if (p->drawn) {
        fputs(interrupted ? "\n" : "\r\033[K", p->f);
        fflush(p->f);
    }
    p->drawn = false;
    if (active == p)
        active = NULL;
    pthread_mutex_destroy(&p->lock);
}

void progress_suspend(void)
{
    progress_t *p = active;
    if (!p || p->owner != getpid())   /* a forked trial process: the lock may be a copy held by the clock */
        return;
    pthread_mutex_lock(&p->lock);
    erase(p);
    pthread_mutex_unlock(&p->lock);
}
