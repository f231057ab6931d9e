/*
 * nas report: reading a search's output folder.
 *
 * The journal is read the way a resume reads it (src/run/resume.c): only the last line may be
 * torn by a crash (no newline, or not valid JSON) and is then ignored; damage anywhere else is an
 * error. Each header line starts a run; the trials after the last header are the run reported
 * (a resumed run writes no new header, so its trials continue the run they resume). Scores,
 * feasibility, the best trial and the Pareto front follow the library's rules (nas_searcher_scores,
 * nas_searcher_violation, nas_run_best, nas_run_pareto), so the report agrees with summary.json.
 */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void free_trials(report_t *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        jr_free(r->t[i].line);
    r->n = 0;
}

void report_free(report_t *r)
{
    free_trials(r);
    free(r->t);
    jr_free(r->header);
    jr_free(r->summary);
    for (uint32_t i = 0; i < r->num_obj; i++)
        free(r->obj[i].name);
    for (uint32_t i = 0; i < r->num_con; i++)
        free(r->con[i].metric);
    free(r->score);
    free(r->ranked);
    free(r->front);
    free(r->dir);
    free(r->journal_path);
    free(r->summary_path);
    memset(r, 0, sizeof *r);
}

double report_metric(const rep_trial_t *t, const char *name)
{
    double v;
    return jr_num(t->metrics, name, &v) ? v : NAN;
}

/* ---------------------------------------------------------------------- */
/* Header: objectives and constraints                                      */

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Trim blanks of s[0..*n). */
static const char *trim(const char *s, size_t *n)
{
    while (*n && (*s == ' ' || *s == '\t')) {
        s++;
        (*n)--;
    }
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
        (*n)--;
    return s;
}

/* "m:max,m2:min" as written by the library. */
static int parse_objectives(report_t *r, const char *text)
{
    for (const char *p = text; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *colon = NULL;
        for (size_t i = 0; i < n; i++)
            if (p[i] == ':')
                colon = p + i;
        size_t nlen = colon ? (size_t)(colon - p) : 0, dlen = colon ? n - nlen - 1 : 0;
        const char *name = trim(p, &nlen), *dir = colon ? trim(colon + 1, &dlen) : "";
        bool max = dlen == 3 && memcmp(dir, "max", 3) == 0, min = dlen == 3 && memcmp(dir, "min", 3) == 0;
        if (!nlen || (!max && !min) || r->num_obj >= REPORT_MAX_OBJECTIVES) {
            cli_error("report: %s:%zu: objectives '%s' are not METRIC:max|min,...", r->journal_path, r->header_line,
                      text);
            return CLI_FAIL;
        }
        rep_objective_t *o = &r->obj[r->num_obj];
        if (!(o->name = dup_range(name, nlen))) {
            cli_error("out of memory");
            return CLI_FAIL;
        }
        o->maximize = max;
        r->num_obj++;
        p += n + (end ? 1 : 0);
    }
    if (r->num_obj == 0) {
        cli_error("report: %s:%zu: the header has no objectives", r->journal_path, r->header_line);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* "m<=X,m>=Y" as written by the library ("" or absent: none). */
static int parse_constraints(report_t *r, const char *text)
{
    for (const char *p = text; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *op = NULL;
        for (size_t i = 0; i + 1 < n && !op; i++)
            if ((p[i] == '<' || p[i] == '>') && p[i + 1] == '=')
                op = p + i;
        size_t nlen = op ? (size_t)(op - p) : 0, blen = op ? n - nlen - 2 : 0;
        const char *name = trim(p, &nlen);
        char num[64] = "";
        if (op && blen < sizeof num) {
            memcpy(num, op + 2, blen);
            num[blen] = '\0';
        }
        char *stop = NULL;
        double bound = strtod(num, &stop);
        while (stop && (*stop == ' ' || *stop == '\t'))
            stop++;
        if (!op || !nlen || !*num || *stop || !isfinite(bound) || r->num_con >= REPORT_MAX_OBJECTIVES) {
            cli_error("report: %s:%zu: constraints '%s' are not METRIC<=X|METRIC>=X,...", r->journal_path,
                      r->header_line, text);
            return CLI_FAIL;
        }
        rep_constraint_t *c = &r->con[r->num_con];
        if (!(c->metric = dup_range(name, nlen))) {
            cli_error("out of memory");
            return CLI_FAIL;
        }
        c->le = *op == '<';
        c->bound = bound;
        r->num_con++;
        p += n + (end ? 1 : 0);
    }
    return CLI_OK;
}

/* ---------------------------------------------------------------------- */
/* Journal                                                                 */

/* A trial line into r->t (takes v). */
static int add_trial(report_t *r, jr_t *v, size_t lineno)
{
    rep_trial_t t = { v, lineno, 0, jr_str(v, "arch"), jr_str(v, "status"), jr_str(v, "message"),
                      jr_get(v, "metrics"), 0.0, 0.0, 0.0, false, false, false };
    const jr_t *cost = jr_get(v, "cost");
    double id = -1.0;
    bool good = t.arch && t.status && jr_num(v, "trial", &id) && id >= 0 && id == floor(id) &&
                id <= 9007199254740992.0 && jr_num(v, "fidelity", &t.fidelity) && t.metrics &&
                t.metrics->type == JR_OBJ && cost && (cost->type == JR_NUM || cost->type == JR_NULL);
    for (uint32_t i = 0; good && i < t.metrics->n; i++)
        good = t.metrics->items[i].type == JR_NUM || t.metrics->items[i].type == JR_NULL;
    if (!good) {
        jr_free(v);
        cli_error("report: %s:%zu: not a valid trial line", r->journal_path, lineno);
        return CLI_FAIL;
    }
    t.id = (uint64_t)id;
    t.cost = cost->type == JR_NUM ? cost->num : NAN;
    t.elapsed = NAN;
    jr_num(v, "elapsed", &t.elapsed);
    if (!t.message)
        t.message = "";
    if (r->n == r->cap) {
        uint32_t cap = r->cap ? r->cap * 2 : 256;
        rep_trial_t *nt = cap > r->cap ? realloc(r->t, (size_t)cap * sizeof *nt) : NULL;
        if (!nt) {
            jr_free(v);
            cli_error("out of memory reading %s", r->journal_path);
            return CLI_FAIL;
        }
        r->t = nt;
        r->cap = cap;
    }
    r->t[r->n++] = t;
    return CLI_OK;
}

/* One complete line that parsed as an object: a header or a trial (takes v). */
static int add_line(report_t *r, jr_t *v, size_t lineno)
{
    const char *type = jr_str(v, "type");
    if (type && strcmp(type, "header") == 0) {
        free_trials(r);
        jr_free(r->header);
        r->header = v;
        r->header_line = lineno;
        r->runs++;
        return CLI_OK;
    }
    if (type && (strcmp(type, "front") == 0 || strcmp(type, "end") == 0)) {
        /* the library's front (the report computes its own), or a run hook's end of search */
        jr_free(v);
        return CLI_OK;
    }
    if (!type || strcmp(type, "trial") != 0) {
        jr_free(v);
        cli_error("report: %s:%zu: neither a header nor a trial line", r->journal_path, lineno);
        return CLI_FAIL;
    }
    if (!r->header) {
        jr_free(v);
        cli_error("report: %s:%zu: a trial line before any header line", r->journal_path, lineno);
        return CLI_FAIL;
    }
    return add_trial(r, v, lineno);
}

static int read_journal(report_t *r)
{
    FILE *f = fopen(r->journal_path, "rb");
    if (!f) {
        cli_error("report: cannot open %s: %s", r->journal_path, strerror(errno));
        return CLI_FAIL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || (long long)sb.st_size > REPORT_MAX_JOURNAL_BYTES) {
        cli_error("report: %s is not a regular file of at most 2 GiB", r->journal_path);
        fclose(f);
        return CLI_FAIL;
    }
    char *line = NULL, why[160] = "";
    size_t cap = 0, lineno = 0, bad = 0;
    ssize_t len;
    int rc = CLI_OK;
    while (rc == CLI_OK && (errno = 0, len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (bad) {
            cli_error("report: %s:%zu: damaged journal line (%s); only the last line may be torn by a crash",
                      r->journal_path, bad, why);
            rc = CLI_FAIL;
            break;
        }
        if (len == 0 || line[len - 1] != '\n') {   /* a last line without its newline: torn */
            r->torn = true;
            break;
        }
        jr_t *v = jr_parse(line, (size_t)len - 1, why, sizeof why);
        if (!v && strcmp(why, "out of memory") == 0) {
            cli_error("out of memory reading %s", r->journal_path);
            rc = CLI_FAIL;
        } else if (!v || v->type != JR_OBJ) {
            if (v)
                snprintf(why, sizeof why, "not a JSON object");
            jr_free(v);
            bad = lineno;   /* an error unless it is the last line */
        } else {
            rc = add_line(r, v, lineno);
        }
    }
    if (rc == CLI_OK && (ferror(f) || errno == ENOMEM)) {
        cli_error("report: cannot read %s: %s", r->journal_path, strerror(errno));
        rc = CLI_FAIL;
    }
    if (bad)
        r->torn = true;
    free(line);
    fclose(f);
    if (rc == CLI_OK && !r->header) {
        if (bad)
            cli_error("report: %s:%zu: not a journal line (%s), and no header line before it", r->journal_path,
                      bad, why);
        else
            cli_error("report: %s has no header line%s", r->journal_path,
                      lineno ? " (is it a journal written by 'nas search'?)" : " (it is empty)");
        rc = CLI_FAIL;
    }
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Scores, ranking and the front                                           */

static bool feasible(const report_t *r, const rep_trial_t *t)
{
    if (!t->ok)
        return false;
    for (uint32_t i = 0; i < r->num_con; i++) {
        double v = report_metric(t, r->con[i].metric);
        if (isnan(v) || (r->con[i].le ? v > r->con[i].bound : v < r->con[i].bound))
            return false;
    }
    return true;
}

static const report_t *sort_report;   /* qsort has no user data */

/* Larger scores first, lexicographically over the objectives; ties in history order. */
static int by_scores(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb, k = sort_report->num_obj;
    const double *sa = &sort_report->score[(size_t)a * k], *sb = &sort_report->score[(size_t)b * k];
    for (uint32_t i = 0; i < k; i++)
        if (sa[i] != sb[i])
            return sa[i] > sb[i] ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int by_first_score(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb, k = sort_report->num_obj;
    double sa = sort_report->score[(size_t)a * k], sb = sort_report->score[(size_t)b * k];
    if (sa != sb)
        return sa > sb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int by_index(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

static bool dominates(const double *a, const double *b, uint32_t k)
{
    bool better = false;
    for (uint32_t i = 0; i < k; i++) {
        if (a[i] < b[i])
            return false;
        better |= a[i] > b[i];
    }
    return better;
}

/*
 * The front: candidates in decreasing lexicographic order, each kept unless a kept one dominates
 * or equals it. Whatever dominates a trial sorts before it, and is kept or dominated by a kept
 * one, so comparing with the kept ones is enough; among equal score vectors the earliest is kept.
 */
static void pareto(report_t *r, uint32_t *cand, uint32_t m)
{
    uint32_t k = r->num_obj;
    sort_report = r;
    qsort(cand, m, sizeof *cand, by_scores);
    for (uint32_t i = 0; i < m; i++) {
        const double *s = &r->score[(size_t)cand[i] * k];
        bool out = false;
        for (uint32_t j = 0; j < r->num_front && !out; j++) {
            const double *f = &r->score[(size_t)r->front[j] * k];
            out = dominates(f, s, k) || memcmp(f, s, k * sizeof *s) == 0;
        }
        if (!out) {
            r->front[r->num_front++] = cand[i];
            r->t[cand[i]].on_front = true;
        }
    }
    qsort(r->front, r->num_front, sizeof *r->front, by_index);
}

static int analyse(report_t *r)
{
    uint32_t k = r->num_obj;
    r->score = malloc(((size_t)r->n * k + 1) * sizeof *r->score);
    r->ranked = malloc(((size_t)r->n + 1) * sizeof *r->ranked);
    r->front = malloc(((size_t)r->n + 1) * sizeof *r->front);
    uint32_t *cand = malloc(((size_t)r->n + 1) * sizeof *cand), m = 0;
    if (!r->score || !r->ranked || !r->front || !cand) {
        free(cand);
        cli_error("out of memory");
        return CLI_FAIL;
    }
    for (uint32_t i = 0; i < r->n; i++) {
        rep_trial_t *t = &r->t[i];
        t->ok = strcmp(t->status, "ok") == 0;
        t->feasible = feasible(r, t);
        r->failed += !t->ok;
        r->infeasible += t->ok && !t->feasible;
        if (isfinite(t->cost))
            r->cost += t->cost;
        if (isfinite(t->elapsed))
            r->elapsed += t->elapsed;
        bool finite = true;
        for (uint32_t j = 0; j < k; j++) {
            double v = t->feasible ? report_metric(t, r->obj[j].name) : NAN;
            v = isnan(v) ? -INFINITY : r->obj[j].maximize ? v : -v;
            r->score[(size_t)i * k + j] = v;
            finite &= isfinite(v) != 0;
        }
        if (isfinite(r->score[(size_t)i * k]))
            r->ranked[r->num_ranked++] = i;
        if (finite)
            cand[m++] = i;
    }
    sort_report = r;
    qsort(r->ranked, r->num_ranked, sizeof *r->ranked, by_first_score);
    pareto(r, cand, m);
    free(cand);
    return CLI_OK;
}

/* ---------------------------------------------------------------------- */
/* Summary                                                                 */

static bool same_str(const jr_t *a, const jr_t *b, const char *key)
{
    const char *x = jr_str(a, key), *y = jr_str(b, key);
    return x && y && strcmp(x, y) == 0;
}

static int read_summary(report_t *r)
{
    struct stat sb;
    if (stat(r->summary_path, &sb) != 0)
        return CLI_OK;   /* none: the search did not finish (or is running) */
    if (!S_ISREG(sb.st_mode) || (size_t)sb.st_size > REPORT_MAX_SUMMARY_BYTES) {
        cli_error("report: %s is not a regular file of at most 256 MiB", r->summary_path);
        return CLI_FAIL;
    }
    size_t len;
    char *text = cli_read_file(r->summary_path, (size_t)sb.st_size, &len);
    if (!text) {
        cli_error("report: cannot read %s", r->summary_path);
        return CLI_FAIL;
    }
    char why[160];
    r->summary = jr_parse(text, len, why, sizeof why);
    free(text);
    if (!r->summary || r->summary->type != JR_OBJ) {
        cli_error("report: %s: malformed summary (%s)", r->summary_path, r->summary ? "not a JSON object" : why);
        return CLI_FAIL;
    }
    double a, b;
    r->summary_matches = same_str(r->summary, r->header, "space") && same_str(r->summary, r->header, "searcher") &&
                         same_str(r->summary, r->header, "evaluator") &&
                         same_str(r->summary, r->header, "objectives") && jr_num(r->summary, "seed", &a) &&
                         jr_num(r->header, "seed", &b) && a == b;
    return CLI_OK;
}

int report_load(report_t *r, const char *dir)
{
    memset(r, 0, sizeof *r);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        cli_error("report: %s: %s", dir, stat(dir, &sb) != 0 ? "no such folder" : "not a folder");
        return CLI_FAIL;
    }
    r->dir = dup_range(dir, strlen(dir));
    r->journal_path = cli_join(dir, "journal.jsonl");
    r->summary_path = cli_join(dir, "summary.json");
    if (!r->dir || !r->journal_path || !r->summary_path) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    if (!cli_exists(r->journal_path)) {
        cli_error("report: %s has no journal.jsonl (is it the output folder of 'nas search'?)", dir);
        return CLI_FAIL;
    }
    int rc = read_journal(r);
    const char *objectives = r->header ? jr_str(r->header, "objectives") : NULL;
    const char *constraints = r->header ? jr_str(r->header, "constraints") : NULL;
    if (rc == CLI_OK && !objectives) {
        cli_error("report: %s:%zu: the header has no objectives", r->journal_path, r->header_line);
        rc = CLI_FAIL;
    }
    if (rc == CLI_OK)
        rc = parse_objectives(r, objectives);
    if (rc == CLI_OK)
        rc = parse_constraints(r, constraints ? constraints : "");
    if (rc == CLI_OK)
        rc = analyse(r);
    if (rc == CLI_OK)
        rc = read_summary(r);
    return rc;
}
