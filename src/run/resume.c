/*
 * Resuming a run from its journal (and checkpoint).
 *
 * The journal is the record of truth: a trial line is fsync'd before the searcher is told, so
 * every finished trial is in it. A crash can leave one torn last line (no newline, or not valid
 * JSON), which is cut off; damage anywhere else is an error, never silently skipped. The trials
 * after the last header are taken back into the history. The searcher is brought back to where it
 * was by loading the checkpoint (which covers the first k trials; it is written after the journal
 * line, so k never exceeds the journal) and then replaying trials k.. through ask and tell: each
 * replayed ask must propose exactly the journaled trial (id, architecture, fidelity), which holds
 * for any strategy whose asks depend only on its seed and what it was told. The trial that was
 * running at the crash is not in the journal; the resumed run asks it again, with the same id, so
 * an evaluator seeded from the trial id gives it the same result.
 */
#include "run/run_internal.h"
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_JOURNAL_BYTES ((size_t)1 << 31)
#define MAX_CHECKPOINT_BYTES ((size_t)1 << 30)

typedef struct jline {
    size_t line;          /* 1-based line number */
    nas__json_t *v;
} jline_t;

typedef struct resume {
    nas_run_t *run;
    char *text;
    size_t len;
    jline_t *lines;       /* parsed lines after the last header (header included) */
    uint32_t num, cap;
    size_t good_len;      /* bytes up to the end of the last complete line */
    bool torn;
    bool ended;           /* an "end" line follows the last trial */
} resume_t;

static void free_lines(resume_t *r)
{
    for (uint32_t i = 0; i < r->num; i++)
        nas__json_free(r->run->ctx, r->lines[i].v);
    r->num = 0;
}

static bool is_header(const nas__json_t *v)
{
    const char *type = nas__json_str(v, "type");
    return type && strcmp(type, "header") == 0;
}

/* Split and parse; keep the last header and what follows it. */
static nas_status_t parse_journal(resume_t *r, const char *path)
{
    nas_run_t *run = r->run;
    size_t pos = 0, lineno = 0;
    while (pos < r->len) {
        const char *nl = memchr(r->text + pos, '\n', r->len - pos);
        lineno++;
        if (!nl) {   /* a last line without its newline: torn by a crash */
            r->torn = true;
            break;
        }
        size_t n = (size_t)(nl - (r->text + pos));
        nas__json_t *v = NULL;
        char why[NAS_ERRMSG_CAP];
        nas_status_t st = nas__json_parse(run->ctx, r->text + pos, n, &v, why);
        if (st == NAS_E_NOMEM)
            return nas__fail(run->errmsg, st, "out of memory reading the journal %s", path);
        if (st != NAS_OK || v->type != NAS__J_OBJ) {
            nas__json_free(run->ctx, v);
            if ((size_t)(nl - r->text) + 1 == r->len) {   /* the last line: torn */
                r->torn = true;
                break;
            }
            return nas__fail(run->errmsg, NAS_E_CORRUPT, "%s:%zu: damaged journal line (%s); only the last line "
                             "may be torn by a crash", path, lineno, st != NAS_OK ? why : "not an object");
        }
        const char *type = nas__json_str(v, "type");
        bool end = type && strcmp(type, "end") == 0;
        if (end || (type && strcmp(type, "front") == 0)) {   /* nothing to take back */
            nas__json_free(run->ctx, v);
            pos += n + 1;
            r->good_len = pos;
            r->ended = r->ended || end;
            continue;
        }
        r->ended = false;   /* a trial (or a header) after an end line: that run went on */
        if (is_header(v))
            free_lines(r);
        if (!nas__grow(run->ctx, (void **)&r->lines, &r->cap, r->num + 1, sizeof *r->lines)) {
            nas__json_free(run->ctx, v);
            return nas__fail(run->errmsg, NAS_E_NOMEM, "out of memory reading the journal %s", path);
        }
        r->lines[r->num++] = (jline_t){ lineno, v };
        pos += n + 1;
        r->good_len = pos;
    }
    if (r->num && !is_header(r->lines[0].v))
        return nas__fail(run->errmsg, NAS_E_CORRUPT, "%s: trial lines before any header line", path);
    return NAS_OK;
}

/* The header must describe this run. */
static nas_status_t check_header(resume_t *r, const char *path)
{
    nas_run_t *run = r->run;
    const nas__json_t *h = r->lines[0].v;
    const nas_searcher_t *s = run->searcher;
    nas__sb_t obj, con;
    nas__sb_init(&obj, run->ctx);
    nas__sb_init(&con, run->ctx);
    nas__searcher_objectives_string(s, &obj);
    nas__searcher_constraints_string(s, &con);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)nas__searcher_seed(s));
    double jseed = NAN;
    nas__json_num(h, "seed", &jseed);
    char jseed_s[32];
    snprintf(jseed_s, sizeof jseed_s, "%.0f", jseed);
    const char *jcon = nas__json_str(h, "constraints");
    struct {
        const char *what, *journal, *ours;
    } f[] = {
        { "space", nas__json_str(h, "space"), nas_space_name(nas_searcher_space(s)) },
        { "searcher", nas__json_str(h, "searcher"), nas_searcher_name(s) },
        { "evaluator", nas__json_str(h, "evaluator"), nas_evaluator_name(run->ev) },
        { "objectives", nas__json_str(h, "objectives"), obj.data ? obj.data : "" },
        { "constraints", jcon ? jcon : "", con.data ? con.data : "" },
        { "seed", jseed_s, seed },
    };
    nas_status_t st = obj.failed || con.failed ? nas__fail(run->errmsg, NAS_E_NOMEM, "out of memory") : NAS_OK;
    /* Seeds past 2^53 do not survive a JSON number: compare those through the journal's text. */
    for (size_t i = 0; st == NAS_OK && i < sizeof f / sizeof f[0]; i++) {
        if (i == 5 && jseed > 9007199254740992.0)
            continue;
        if (!f[i].journal || strcmp(f[i].journal, f[i].ours) != 0)
            st = nas__fail(run->errmsg, NAS_E_INVAL, "cannot resume from %s:%zu: it records %s '%s', this run has "
                           "'%s'", path, r->lines[0].line, f[i].what, f[i].journal ? f[i].journal : "(none)",
                           f[i].ours);
    }
    nas__sb_free(&obj);
    nas__sb_free(&con);
    return st;
}

static bool status_from_name(const char *name, nas_status_t *out)
{
    for (int v = 0; v < 64; v++) {
        const char *n = nas_status_name((nas_status_t)v);
        if (n && strcmp(n, name) == 0 && strcmp(n, "unknown") != 0) {
            *out = (nas_status_t)v;
            return true;
        }
    }
    return false;
}

/* A trial line into id, arch, fidelity and result. */
static nas_status_t read_trial(resume_t *r, const jline_t *l, const char *path, uint64_t *id, const char **arch,
                               double *fidelity, double *elapsed, nas_result_t *res)
{
    nas_run_t *run = r->run;
    const nas__json_t *v = l->v;
    const char *type = nas__json_str(v, "type"), *status = nas__json_str(v, "status");
    const char *msg = nas__json_str(v, "message");
    const nas__json_t *metrics = nas__json_get(v, "metrics"), *cost = nas__json_get(v, "cost");
    double tid;
    nas_status_t code;
    *arch = nas__json_str(v, "arch");
    *elapsed = 0.0;
    nas__json_num(v, "elapsed", elapsed);
    if (!type || strcmp(type, "trial") != 0 || !*arch || !nas__json_num(v, "trial", &tid) || tid < 0 ||
        tid != floor(tid) || tid > 9007199254740992.0 || !nas__json_num(v, "fidelity", fidelity) || !status ||
        !status_from_name(status, &code) || !metrics || metrics->type != NAS__J_OBJ || !cost ||
        (cost->type != NAS__J_NUM && cost->type != NAS__J_NULL))
        return nas__fail(run->errmsg, NAS_E_CORRUPT, "%s:%zu: not a valid trial line", path, l->line);
    *id = (uint64_t)tid;
    nas_result_clear(res);
    nas_status_t st = nas_result_set_status(res, code, msg ? msg : "");
    for (uint32_t i = 0; st == NAS_OK && i < metrics->n; i++) {
        const nas__json_t *m = &metrics->items[i];
        if (m->type != NAS__J_NUM && m->type != NAS__J_NULL)
            return nas__fail(run->errmsg, NAS_E_CORRUPT, "%s:%zu: metric '%s' is not a number", path, l->line,
                             metrics->keys[i]);
        st = nas_result_set_metric(res, metrics->keys[i], m->type == NAS__J_NUM ? m->num : NAN);
    }
    if (st == NAS_OK && cost->type == NAS__J_NUM)
        st = nas_result_set_cost(res, cost->num);
    if (st != NAS_OK)
        return nas__fail(run->errmsg, st, "%s:%zu: cannot take the trial back (%s)", path, l->line,
                         nas_status_str(st));
    return NAS_OK;
}

/* Load the checkpoint if there is a usable one: the number of trials it covers, else 0. */
static nas_status_t load_checkpoint(resume_t *r, uint64_t journaled, uint64_t *covered)
{
    nas_run_t *run = r->run;
    *covered = 0;
    if (!run->checkpoint_path || !nas_searcher_can_save(run->searcher))
        return NAS_OK;
    char *data;
    size_t len;
    char why[NAS_ERRMSG_CAP];
    nas_status_t st = nas__read_file(run->ctx, run->checkpoint_path, MAX_CHECKPOINT_BYTES, &data, &len, why);
    if (st == NAS_E_NOT_FOUND)
        return NAS_OK;
    if (st != NAS_OK) {
        nas__logf(run->ctx, NAS_LOG_WARN, "ignoring the checkpoint: %s; replaying the whole journal", why);
        return st == NAS_E_NOMEM ? nas__fail(run->errmsg, st, "%s", why) : NAS_OK;
    }
    st = nas_searcher_load(run->searcher, data, len);
    nas__free(run->ctx, data);
    if (st == NAS_E_CORRUPT || st == NAS_E_INVAL) {
        /* Checked before the strategy saw it (checksum, setup), so the searcher is untouched. */
        if (nas_searcher_num_asked(run->searcher) == 0 && !strstr(nas_searcher_errmsg(run->searcher), "unusable")) {
            nas__logf(run->ctx, NAS_LOG_WARN, "ignoring the checkpoint %s: %s; replaying the whole journal",
                      run->checkpoint_path, nas_searcher_errmsg(run->searcher));
            return NAS_OK;
        }
    }
    if (st != NAS_OK)
        return nas__fail(run->errmsg, st, "checkpoint %s: %s", run->checkpoint_path,
                         nas_searcher_errmsg(run->searcher));
    *covered = nas_searcher_num_asked(run->searcher);
    if (*covered > journaled)
        return nas__fail(run->errmsg, NAS_E_CORRUPT, "checkpoint %s covers %llu trials but the journal has only "
                         "%llu: they do not belong together", run->checkpoint_path,
                         (unsigned long long)*covered, (unsigned long long)journaled);
    return NAS_OK;
}

/* Ask again for a journaled trial and check the searcher proposes exactly it, then tell its result. */
static nas_status_t replay(resume_t *r, const jline_t *l, const char *path, uint64_t id, const char *arch,
                           double fidelity, const nas_result_t *res)
{
    nas_run_t *run = r->run;
    nas_candidate_t cand = NAS_CANDIDATE_INIT;
    cand.arch = run->arch;
    nas_status_t st = nas_searcher_ask(run->searcher, &cand);
    if (st != NAS_OK)
        return nas__fail(run->errmsg, st, "resuming at %s:%zu: the searcher did not propose trial %llu again: %s",
                         path, l->line, (unsigned long long)id, nas_searcher_errmsg(run->searcher));
    if ((st = nas__run_arch_string(run)) != NAS_OK)   /* cand.arch is run->arch */
        return st;
    if (cand.trial_id != id || strcmp(run->str, arch) != 0 || cand.fidelity != fidelity)
        return nas__fail(run->errmsg, NAS_E_STATE, "cannot resume at %s:%zu: the searcher now proposes trial %llu "
                         "%s (fidelity %g) where the journal has trial %llu %s (fidelity %g); is strategy '%s' "
                         "deterministic given its seed?", path, l->line, (unsigned long long)cand.trial_id,
                         run->str, cand.fidelity, (unsigned long long)id, arch, fidelity,
                         nas_searcher_name(run->searcher));
    if ((st = nas_searcher_tell(run->searcher, &cand, res)) != NAS_OK)
        return nas__fail(run->errmsg, st, "resuming at %s:%zu: %s", path, l->line,
                         nas_searcher_errmsg(run->searcher));
    return NAS_OK;
}

static nas_status_t take_back(resume_t *r, const char *path)
{
    nas_run_t *run = r->run;
    uint64_t journaled = r->num - 1, covered;
    nas_status_t st = load_checkpoint(r, journaled, &covered);
    if (st != NAS_OK)
        return st;
    for (uint32_t i = 1; i < r->num && st == NAS_OK; i++) {
        uint64_t id = 0;
        const char *arch = NULL;
        double fidelity = 0.0, elapsed = 0.0;
        if ((st = read_trial(r, &r->lines[i], path, &id, &arch, &fidelity, &elapsed, run->res)) != NAS_OK)
            break;
        if (id != i - 1)
            return nas__fail(run->errmsg, NAS_E_CORRUPT, "%s:%zu: trial %llu where trial %u was expected", path,
                             r->lines[i].line, (unsigned long long)id, (unsigned)(i - 1));
        /* A one-shot strategy's trial is the retrain of its answer: nothing to ask again. */
        if (id >= covered && !nas__searcher_has_run(run->searcher) &&
            (st = replay(r, &r->lines[i], path, id, arch, fidelity, run->res)) != NAS_OK)
            break;
        st = nas__run_record(run, id, arch, fidelity, run->res);
        if (isfinite(elapsed) && elapsed > 0.0)
            run->elapsed += elapsed;
    }
    run->num_resumed = run->num_trials;
    run->ckpt_trials = covered;
    if (nas__searcher_has_run(run->searcher))   /* not replayed: its trial ids go on after the journal's */
        nas__searcher_skip_ids(run->searcher, run->num_trials);
    /* Format 1 journals have no end line: there a hook run with a trial is finished (the built-in
     * one-shot strategies end with their one trial). */
    double format = 1.0;
    nas__json_num(r->lines[0].v, "format", &format);
    run->hook_done = r->ended || (format < 2.0 && run->num_trials > 0);
    return st;
}

nas_status_t nas__run_resume(nas_run_t *run, const char *path, bool *has_header)
{
    *has_header = false;

    resume_t r;
    memset(&r, 0, sizeof r);
    r.run = run;
    nas_status_t st = nas__read_file(run->ctx, path, MAX_JOURNAL_BYTES, &r.text, &r.len, run->errmsg);
    if (st == NAS_E_NOT_FOUND)
        return NAS_OK;   /* killed before the journal was created: nothing to take back */
    if (st != NAS_OK)
        return st;
    if ((st = parse_journal(&r, path)) != NAS_OK)
        goto out;
    if (r.torn) {
        nas__logf(run->ctx, NAS_LOG_INFO, "%s: cutting off a torn last line (%zu bytes) left by a crash", path,
                  r.len - r.good_len);
        if (truncate(path, (off_t)r.good_len) != 0) {
            st = nas__fail(run->errmsg, NAS_E_IO, "%s: cannot cut off the torn last line: %s", path, strerror(errno));
            goto out;
        }
    }
    if (r.num == 0)
        goto out;   /* no header yet: the run starts from scratch */
    *has_header = true;
    if ((st = check_header(&r, path)) == NAS_OK)
        st = take_back(&r, path);
out:
    free_lines(&r);
    nas__free(run->ctx, r.lines);
    nas__free(run->ctx, r.text);
    return st;
}
