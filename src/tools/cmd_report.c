/* nas report: summary, top architectures, failures and Pareto front of a search, and its plot. */
#include "report.h"
#include "svg.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TOP 10
#define MAX_COLUMNS 8
#define PANEL_W 640.0
#define PANEL_H 420.0

void cli_help_report(FILE *f)
{
    fputs("usage: nas report OUT_DIR [--top N] [--plot FILE.svg | --no-plot] [--json]\n"
          "\n"
          "Summarize the search whose results 'nas search' wrote into OUT_DIR: read journal.jsonl\n"
          "(the run after its last header line; a torn last line left by a crash is ignored) and\n"
          "summary.json when there is one, and print\n"
          "  - the run: space, searcher, evaluator, objectives, constraints, seed, trials, failures,\n"
          "    cost, elapsed time and why it stopped\n"
          "  - the top N architectures by the first objective, with their metrics\n"
          "  - the failed trials counted by status (and the infeasible ones, with constraints)\n"
          "  - with two or more objectives, the Pareto front over all of them (successful trials\n"
          "    within the constraints only), as nas_run_pareto() computes it\n"
          "and draw OUT_DIR/report.svg: the best first objective so far against the trial number\n"
          "with every trial as a dot and, with two or more objectives, a second panel of\n"
          "objective 1 against objective 2 with the front highlighted.\n"
          "\n"
          "  -n, --top N        architectures to list (default 10; 0: none)\n"
          "  -p, --plot FILE    write the plot to FILE instead of OUT_DIR/report.svg\n"
          "      --no-plot      write no plot\n"
          "      --json         print the report as one JSON object instead of text\n",
          f);
}

static const char *header_str(const report_t *r, const char *key)
{
    const char *s = jr_str(r->header, key);
    return s ? s : "";
}

/* Elapsed seconds and stop reason: the summary's when it describes this run. */
static double run_elapsed(const report_t *r)
{
    double v;
    return r->summary_matches && jr_num(r->summary, "elapsed_seconds", &v) ? v : r->elapsed;
}

static const char *stop_reason(const report_t *r)
{
    const char *s = r->summary_matches ? jr_str(r->summary, "stop_reason") : NULL;
    if (s && *s)
        return s;
    return r->summary ? "unknown (summary.json describes another run)" : "unknown (no summary.json: not finished)";
}

static double header_seed(const report_t *r)
{
    double seed = NAN;
    jr_num(r->header, "seed", &seed);
    return seed;
}

/* ---------------------------------------------------------------------- */
/* Text                                                                    */

static void fmt_value(char *buf, size_t cap, double v)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.6g", v);
}

static void print_run(const report_t *r)
{
    printf("report: %s\n", r->dir);
    printf("  space        %s\n", header_str(r, "space"));
    printf("  searcher     %s\n", header_str(r, "searcher"));
    printf("  evaluator    %s\n", header_str(r, "evaluator"));
    printf("  objectives   %s\n", header_str(r, "objectives"));
    printf("  constraints  %s\n", *header_str(r, "constraints") ? header_str(r, "constraints") : "none");
    printf("  seed         %.0f\n", header_seed(r));
    printf("  trials       %" PRIu32 " (%" PRIu64 " failed", r->n, r->failed);
    if (r->num_con)
        printf(", %" PRIu64 " infeasible", r->infeasible);
    printf(")\n  cost         %.6g s\n", r->cost);
    printf("  elapsed      %.3f s\n", run_elapsed(r));
    printf("  stop reason  %s\n", stop_reason(r));
    printf("  journal      run %" PRIu32 " of %" PRIu32 " (from line %zu)%s\n", r->runs, r->runs, r->header_line,
           r->torn ? ", torn last line ignored" : "");
    double st;
    if (r->summary_matches && jr_num(r->summary, "resumed", &st) && st > 0)
        printf("  resumed      %.0f trials taken back from the journal by a resume\n", st);
    if (r->summary_matches && jr_num(r->summary, "trials", &st) && st != (double)r->n)
        printf("  note         summary.json counts %.0f trials, the journal %" PRIu32 "\n", st, r->n);
}

/* Metric names of the listed trials: the objectives first, then others in first-seen order. */
static uint32_t columns(const report_t *r, const uint32_t *idx, uint32_t n, const char **col)
{
    uint32_t nc = 0;
    for (uint32_t i = 0; i < r->num_obj && nc < MAX_COLUMNS; i++)
        col[nc++] = r->obj[i].name;
    for (uint32_t i = 0; i < n; i++) {
        const jr_t *m = r->t[idx[i]].metrics;
        for (uint32_t j = 0; j < m->n && nc < MAX_COLUMNS; j++) {
            bool seen = false;
            for (uint32_t c = 0; c < nc && !seen; c++)
                seen = strcmp(col[c], m->keys[j]) == 0;
            if (!seen)
                col[nc++] = m->keys[j];
        }
    }
    return nc;
}

/* A table of trials idx[0..n): rank (when ranked), trial id, metric columns, arch. */
static void print_trials(const report_t *r, const uint32_t *idx, uint32_t n, bool ranked)
{
    const char *col[MAX_COLUMNS];
    uint32_t nc = columns(r, idx, n, col);
    int w[MAX_COLUMNS];
    char buf[64];
    for (uint32_t c = 0; c < nc; c++) {
        w[c] = (int)strlen(col[c]);
        for (uint32_t i = 0; i < n; i++) {
            fmt_value(buf, sizeof buf, report_metric(&r->t[idx[i]], col[c]));
            w[c] = (int)strlen(buf) > w[c] ? (int)strlen(buf) : w[c];
        }
    }
    printf("  %s%7s", ranked ? "rank " : "", "trial");
    for (uint32_t c = 0; c < nc; c++)
        printf("  %-*s", w[c], col[c]);
    printf("  arch\n");
    for (uint32_t i = 0; i < n; i++) {
        const rep_trial_t *t = &r->t[idx[i]];
        if (ranked)
            printf("  %4" PRIu32 " ", i + 1);
        else
            printf("  ");
        printf("%7" PRIu64, t->id);
        for (uint32_t c = 0; c < nc; c++) {
            fmt_value(buf, sizeof buf, report_metric(t, col[c]));
            printf("  %-*s", w[c], buf);
        }
        printf("  %s\n", t->arch);
    }
}

/* Failed trials by status, in order of first appearance; *n distinct statuses. NULL when none
 * failed or out of memory. */
typedef struct status_count {
    const char *status;
    uint64_t count;
    uint32_t first;        /* index of its first trial */
} status_count_t;

static status_count_t *count_statuses(const report_t *r, uint32_t *n)
{
    *n = 0;
    status_count_t *sc = r->failed ? malloc((size_t)r->n * sizeof *sc) : NULL;
    for (uint32_t i = 0; sc && i < r->n; i++) {
        const rep_trial_t *t = &r->t[i];
        if (t->ok)
            continue;
        uint32_t j = 0;
        while (j < *n && strcmp(sc[j].status, t->status) != 0)
            j++;
        if (j == *n)
            sc[(*n)++] = (status_count_t){ t->status, 0, i };
        sc[j].count++;
    }
    return sc;
}

/* At most about max bytes of s on one line: control characters become spaces, and a UTF-8
 * sequence is never cut. */
static void print_clean(const char *s, size_t max)
{
    size_t i = 0;
    for (; s[i] && (i < max || ((unsigned char)s[i] & 0xc0) == 0x80); i++)
        putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i]);
    if (s[i])
        fputs("...", stdout);
}

static void print_failures(const report_t *r)
{
    uint32_t n;
    status_count_t *sc = count_statuses(r, &n);
    if (!r->failed)
        printf("\nfailures: none\n");
    else
        printf("\nfailures: %" PRIu64 " of %" PRIu32 " trials\n", r->failed, r->n);
    for (uint32_t i = 0; i < n; i++) {
        const rep_trial_t *t = &r->t[sc[i].first];
        printf("  %-12s %6" PRIu64 "   e.g. trial %" PRIu64 ": ", sc[i].status, sc[i].count, t->id);
        print_clean(*t->message ? t->message : "(no message)", 100);
        putchar('\n');
    }
    free(sc);
    if (r->num_con)
        printf("infeasible: %" PRIu64 " successful trials break a constraint (%s)\n", r->infeasible,
               header_str(r, "constraints"));
}

static void print_text(const report_t *r, uint64_t top, const char *plot)
{
    print_run(r);
    const rep_objective_t *o = &r->obj[0];
    if (r->num_ranked == 0) {
        printf("\nbest: none (no successful%s trial reported %s)\n", r->num_con ? ", feasible" : "", o->name);
    } else if (top > 0) {
        uint32_t n = top < r->num_ranked ? (uint32_t)top : r->num_ranked;
        printf("\ntop %" PRIu32 " by %s (%s):\n", n, o->name, o->maximize ? "max" : "min");
        print_trials(r, r->ranked, n, true);
    }
    print_failures(r);
    if (r->num_obj >= 2) {
        printf("\nPareto front over %s: %" PRIu32 " of %" PRIu32 " trials%s\n", header_str(r, "objectives"),
               r->num_front, r->n, r->num_con ? " (feasible ones only)" : "");
        uint32_t *byfirst = malloc(((size_t)r->num_front + 1) * sizeof *byfirst), k = 0;
        for (uint32_t i = 0; byfirst && i < r->num_ranked; i++)   /* the front, best first objective first */
            if (r->t[r->ranked[i]].on_front)
                byfirst[k++] = r->ranked[i];
        print_trials(r, byfirst ? byfirst : r->front, r->num_front, false);
        free(byfirst);
    }
    if (plot)
        printf("\nplot: %s\n", plot);
}

/* ---------------------------------------------------------------------- */
/* JSON                                                                    */

static void json_metrics(const jr_t *m)
{
    fputc('{', stdout);
    for (uint32_t i = 0; i < m->n; i++) {
        fputs(i ? ", " : "", stdout);
        cli_json_string(stdout, m->keys[i]);
        fputs(": ", stdout);
        cli_json_number(stdout, m->items[i].type == JR_NUM ? m->items[i].num : NAN);
    }
    fputc('}', stdout);
}

static void json_trial(const report_t *r, uint32_t i, uint64_t rank)
{
    const rep_trial_t *t = &r->t[i];
    fputs("{", stdout);
    if (rank)
        printf("\"rank\": %" PRIu64 ", ", rank);
    printf("\"index\": %" PRIu32 ", \"trial\": %" PRIu64 ", \"arch\": ", i, t->id);
    cli_json_string(stdout, t->arch);
    fputs(", \"metrics\": ", stdout);
    json_metrics(t->metrics);
    fputs(", \"cost\": ", stdout);
    cli_json_number(stdout, t->cost);
    fputs("}", stdout);
}

static void json_field(const char *key, const char *value)
{
    printf(",\n  \"%s\": ", key);
    cli_json_string(stdout, value);
}

static void print_json(const report_t *r, uint64_t top, const char *plot)
{
    fputs("{\n  \"dir\": ", stdout);
    cli_json_string(stdout, r->dir);
    json_field("space", header_str(r, "space"));
    json_field("searcher", header_str(r, "searcher"));
    json_field("evaluator", header_str(r, "evaluator"));
    json_field("objectives", header_str(r, "objectives"));
    json_field("constraints", header_str(r, "constraints"));
    fputs(",\n  \"seed\": ", stdout);
    cli_json_number(stdout, header_seed(r));
    printf(",\n  \"trials\": %" PRIu32 ",\n  \"failed\": %" PRIu64 ",\n  \"infeasible\": %" PRIu64
           ",\n  \"cost_seconds\": ", r->n, r->failed, r->infeasible);
    cli_json_number(stdout, r->cost);
    fputs(",\n  \"elapsed_seconds\": ", stdout);
    cli_json_number(stdout, run_elapsed(r));
    json_field("stop_reason", stop_reason(r));
    printf(",\n  \"journal\": {\"runs\": %" PRIu32 ", \"header_line\": %zu, \"torn_last_line\": %s, "
           "\"summary\": %s}", r->runs, r->header_line, r->torn ? "true" : "false",
           r->summary_matches ? "\"matches\"" : r->summary ? "\"another run\"" : "null");
    fputs(",\n  \"best\": ", stdout);
    if (r->num_ranked)
        json_trial(r, r->ranked[0], 0);
    else
        fputs("null", stdout);
    fputs(",\n  \"top\": [", stdout);
    for (uint32_t i = 0; i < r->num_ranked && i < top; i++) {
        fputs(i ? ",\n    " : "\n    ", stdout);
        json_trial(r, r->ranked[i], i + 1);
    }
    fputs(r->num_ranked && top ? "\n  ]" : "]", stdout);
    fputs(",\n  \"failures\": {", stdout);
    uint32_t ns;
    status_count_t *sc = count_statuses(r, &ns);
    for (uint32_t i = 0; i < ns; i++) {
        fputs(i ? ", " : "", stdout);
        cli_json_string(stdout, sc[i].status);
        printf(": %" PRIu64, sc[i].count);
    }
    free(sc);
    fputs("}", stdout);
    if (r->num_obj >= 2) {
        fputs(",\n  \"pareto\": [", stdout);
        for (uint32_t i = 0; i < r->num_front; i++) {
            fputs(i ? ",\n    " : "\n    ", stdout);
            json_trial(r, r->front[i], 0);
        }
        fputs(r->num_front ? "\n  ]" : "]", stdout);
    }
    fputs(",\n  \"plot\": ", stdout);
    if (plot)
        cli_json_string(stdout, plot);
    else
        fputs("null", stdout);
    fputs("\n}\n", stdout);
}

/* ---------------------------------------------------------------------- */
/* Plot                                                                    */

static bool plot_anytime(const report_t *r, svg_fig_t *fig, double *x, double *y, double *y2)
{
    const rep_objective_t *o = &r->obj[0];
    char title[256], ylabel[160];
    snprintf(title, sizeof title, "%s: best so far (%s)", o->name, o->maximize ? "max" : "min");
    snprintf(ylabel, sizeof ylabel, "%s", o->name);
    for (uint32_t i = 0; i < r->n; i++) {
        const rep_trial_t *t = &r->t[i];
        double v = t->ok ? report_metric(t, o->name) : NAN;
        x[i] = i + 1.0;
        y[i] = t->feasible ? v : NAN;    /* feasible trials */
        y2[i] = t->feasible ? NAN : v;   /* successful but infeasible ones */
    }
    bool ok = svg_panel_labels(fig, 0, title, "trial", ylabel) &&
              svg_panel_add(fig, 0, SVG_DOTS, x, y, r->n, "#7f7f7f", "trial") &&
              (!r->infeasible || svg_panel_add(fig, 0, SVG_DOTS, x, y2, r->n, "#ff9896", "infeasible"));
    double best = NAN;
    for (uint32_t i = 0; i < r->n; i++) {
        double v = y[i];
        if (!isnan(v) && (isnan(best) || (o->maximize ? v > best : v < best)))
            best = v;
        y[i] = best;
    }
    svg_panel_legend(fig, 0, o->maximize ? SVG_BOTTOM_RIGHT : SVG_TOP_RIGHT);
    return ok && svg_panel_add(fig, 0, SVG_STEP, x, y, r->n, "#1f77b4", "best so far");
}

static bool plot_pareto(const report_t *r, svg_fig_t *fig, double *x, double *y, double *y2)
{
    const rep_objective_t *a = &r->obj[0], *b = &r->obj[1];
    char title[256], xl[160], yl[160];
    if (r->num_obj == 2)
        snprintf(title, sizeof title, "Pareto front: %" PRIu32 " of %" PRIu32 " trials", r->num_front, r->n);
    else
        snprintf(title, sizeof title, "front over all %" PRIu32 " objectives: %" PRIu32 " trials", r->num_obj,
                 r->num_front);
    snprintf(xl, sizeof xl, "%s (%s)", a->name, a->maximize ? "max" : "min");
    snprintf(yl, sizeof yl, "%s (%s)", b->name, b->maximize ? "max" : "min");
    for (uint32_t i = 0; i < r->n; i++) {
        const rep_trial_t *t = &r->t[i];
        x[i] = t->ok ? report_metric(t, a->name) : NAN;
        double v = t->ok ? report_metric(t, b->name) : NAN;
        y[i] = t->feasible ? v : NAN;
        y2[i] = t->feasible ? NAN : v;
    }
    bool ok = svg_panel_labels(fig, 1, title, xl, yl) &&
              svg_panel_add(fig, 1, SVG_DOTS, x, y, r->n, "#7f7f7f", "trial") &&
              (!r->infeasible || svg_panel_add(fig, 1, SVG_DOTS, x, y2, r->n, "#ff9896", "infeasible"));
    /* The front joined in order of objective 1 (r->ranked holds every front member). */
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->num_ranked; i++)
        if (r->t[r->ranked[i]].on_front) {
            x[k] = report_metric(&r->t[r->ranked[i]], a->name);
            y[k++] = report_metric(&r->t[r->ranked[i]], b->name);
        }
    /* The legend goes to the corner away from the front's good corner. */
    svg_panel_legend(fig, 1, a->maximize ? (b->maximize ? SVG_BOTTOM_LEFT : SVG_TOP_LEFT)
                                         : (b->maximize ? SVG_BOTTOM_RIGHT : SVG_TOP_RIGHT));
    return ok && svg_panel_add(fig, 1, SVG_LINE, x, y, k, "#d62728", NULL) &&
           svg_panel_add(fig, 1, SVG_MARKS, x, y, k, "#d62728", "Pareto front");
}

static int write_plot(const report_t *r, const char *path)
{
    svg_fig_t *fig = svg_fig_create(r->num_obj >= 2 ? 2 : 1, PANEL_W, PANEL_H);
    size_t n = (size_t)r->n + 1;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *y2 = malloc(n * sizeof *y2);
    bool ok = fig && x && y && y2 && plot_anytime(r, fig, x, y, y2) &&
              (r->num_obj < 2 || plot_pareto(r, fig, x, y, y2));
    char err[512] = "out of memory";
    ok = ok && svg_fig_save(fig, path, err, sizeof err);
    free(x);
    free(y);
    free(y2);
    svg_fig_destroy(fig);
    if (!ok) {
        cli_error("report: cannot write the plot: %s", err);
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_cmd_report(int argc, char **argv)
{
    cli_opt_t opts[] = {
        { "help", 'h', false, NULL, false },  { "top", 'n', true, NULL, false },
        { "plot", 'p', true, NULL, false },   { "no-plot", 0, false, NULL, false },
        { "json", 0, false, NULL, false },
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    int rc = cli_parse("report", argc, argv, opts, nopts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli_opt(opts, nopts, "help")->seen) {
        cli_help_report(stdout);
        return CLI_OK;
    }
    if (npos != 1) {
        cli_error("report: expected the output folder of a search (see 'nas help report')");
        return CLI_USAGE;
    }
    uint64_t top = DEFAULT_TOP;
    cli_opt_t *o = cli_opt(opts, nopts, "top");
    if (o->seen && (rc = cli_parse_u64(o->value, "report: --top", 0, 1000000, &top)) != CLI_OK)
        return rc;
    const cli_opt_t *plot_opt = cli_opt(opts, nopts, "plot");
    bool no_plot = cli_opt(opts, nopts, "no-plot")->seen;
    if (no_plot && plot_opt->seen) {
        cli_error("report: --plot and --no-plot exclude each other");
        return CLI_USAGE;
    }
    if (plot_opt->seen && !*plot_opt->value) {
        cli_error("report: --plot needs a file name");
        return CLI_USAGE;
    }
    report_t r;
    rc = report_load(&r, pos[0]);
    char *plot = NULL;
    if (rc == CLI_OK && !no_plot) {
        plot = plot_opt->seen ? cli_join("", plot_opt->value) : cli_join(pos[0], "report.svg");
        if (!plot) {
            cli_error("out of memory");
            rc = CLI_FAIL;
        } else {
            rc = write_plot(&r, plot);
        }
    }
    if (rc == CLI_OK) {
        if (cli_opt(opts, nopts, "json")->seen)
            print_json(&r, top, plot);
        else
            print_text(&r, top, plot);
        if (fflush(stdout) != 0) {
            cli_error("report: cannot write the report to stdout");
            rc = CLI_FAIL;
        }
    }
    free(plot);
    report_free(&r);
    return rc;
}
