/* The run journal: append-only JSON lines, each written with one write() and made durable with fsync(). */
#include "run/run_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

nas_status_t nas__journal_open(nas__journal_t *j, nas_context_t *ctx, const char *path, char *errbuf)
{
    j->ctx = ctx;
    j->fd = -1;
    j->path = nas__strdup(ctx, path);
    if (!j->path)
        return nas__fail(errbuf, NAS_E_NOMEM, "out of memory opening the journal");
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return nas__fail(errbuf, NAS_E_IO, "%s: cannot open the journal: %s", path, strerror(errno));
    j->fd = fd;
    nas__fsync_folder(ctx, path);   /* so that a newly created journal survives a crash */
    return NAS_OK;
}

void nas__journal_close(nas__journal_t *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    nas__free(j->ctx, j->path);
    j->path = NULL;
}

/* One line, one write() (continued only if the kernel took part of it), then fsync(). */
static nas_status_t write_line(nas__journal_t *j, nas__sb_t *sb, char *errbuf)
{
    nas__sb_putc(sb, '\n');
    if (sb->failed)
        return nas__fail(errbuf, NAS_E_NOMEM, "out of memory writing the journal");
    size_t done = 0;
    while (done < sb->len) {
        ssize_t n = write(j->fd, sb->data + done, sb->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return nas__fail(errbuf, NAS_E_IO, "%s: cannot write the journal: %s", j->path,
                             n < 0 ? strerror(errno) : "no progress");
        done += (size_t)n;
    }
    /* EINVAL: a pipe or a character device, which has nothing to make durable. */
    if (fsync(j->fd) != 0 && errno != EINVAL)
        return nas__fail(errbuf, NAS_E_IO, "%s: cannot fsync the journal: %s", j->path, strerror(errno));
    return NAS_OK;
}

void nas__json_metrics(nas__sb_t *sb, const nas_result_t *res)
{
    nas__sb_putc(sb, '{');
    for (uint32_t i = 0; i < nas_result_num_metrics(res); i++) {
        const char *name;
        double v;
        if (nas_result_metric_at(res, i, &name, &v) != NAS_OK)
            continue;
        if (i)
            nas__sb_putc(sb, ',');
        nas__sb_json_str(sb, name);
        nas__sb_putc(sb, ':');
        nas__sb_json_num(sb, v);
    }
    nas__sb_putc(sb, '}');
}

void nas__json_budget(nas__sb_t *sb, const nas_run_opts_t *o)
{
    nas__sb_printf(sb, "{\"max_trials\":%llu,\"max_seconds\":", (unsigned long long)o->max_trials);
    nas__sb_json_num(sb, o->max_seconds);
    nas__sb_puts(sb, ",\"max_cost\":");
    nas__sb_json_num(sb, o->max_cost);
    nas__sb_putc(sb, '}');
}

nas_status_t nas__journal_header(nas__journal_t *j, const nas_searcher_t *s, const nas_evaluator_t *ev,
                                 const nas_run_opts_t *opts, char *errbuf)
{
    nas__sb_t sb, obj;
    nas__sb_init(&sb, j->ctx);
    nas__sb_init(&obj, j->ctx);
    nas__searcher_objectives_string(s, &obj);
    nas__sb_puts(&sb, "{\"type\":\"header\",\"format\":2,\"libnas\":");
    nas__sb_json_str(&sb, nas_version_string());
    nas__sb_puts(&sb, ",\"space\":");
    nas__sb_json_str(&sb, nas_space_name(nas_searcher_space(s)));
    nas__sb_puts(&sb, ",\"searcher\":");
    nas__sb_json_str(&sb, nas_searcher_name(s));
    nas__sb_puts(&sb, ",\"evaluator\":");
    nas__sb_json_str(&sb, nas_evaluator_name(ev));
    nas__sb_puts(&sb, ",\"objectives\":");
    nas__sb_json_str(&sb, obj.failed ? "" : obj.data);
    nas__sb_puts(&sb, ",\"constraints\":");
    nas__sb_free(&obj);
    nas__sb_init(&obj, j->ctx);
    nas__searcher_constraints_string(s, &obj);
    nas__sb_json_str(&sb, obj.failed || !obj.data ? "" : obj.data);
    nas__sb_printf(&sb, ",\"seed\":%llu,\"budget\":", (unsigned long long)nas__searcher_seed(s));
    nas__json_budget(&sb, opts);
    nas__sb_printf(&sb, ",\"time\":%lld}", (long long)time(NULL));
    nas_status_t st = obj.failed ? nas__fail(errbuf, NAS_E_NOMEM, "out of memory writing the journal")
                                 : write_line(j, &sb, errbuf);
    nas__sb_free(&obj);
    nas__sb_free(&sb);
    return st;
}

nas_status_t nas__journal_trial(nas__journal_t *j, const nas_candidate_t *cand, const char *arch,
                                const nas_result_t *res, double elapsed, char *errbuf)
{
    nas__sb_t sb;
    nas__sb_init(&sb, j->ctx);
    nas__sb_printf(&sb, "{\"type\":\"trial\",\"trial\":%llu,\"arch\":", (unsigned long long)cand->trial_id);
    nas__sb_json_str(&sb, arch);
    nas__sb_puts(&sb, ",\"fidelity\":");
    nas__sb_json_num(&sb, cand->fidelity);
    nas__sb_puts(&sb, ",\"status\":");
    nas__sb_json_str(&sb, nas_status_name(nas_result_status(res)));
    nas__sb_puts(&sb, ",\"message\":");
    nas__sb_json_str(&sb, nas_result_message(res));
    nas__sb_puts(&sb, ",\"metrics\":");
    nas__json_metrics(&sb, res);
    nas__sb_puts(&sb, ",\"cost\":");
    nas__sb_json_num(&sb, nas_result_cost(res));
    nas__sb_puts(&sb, ",\"elapsed\":");
    nas__sb_json_num(&sb, elapsed);
    nas__sb_putc(&sb, '}');
    nas_status_t st = write_line(j, &sb, errbuf);
    nas__sb_free(&sb);
    return st;
}

nas_status_t nas__journal_front(nas__journal_t *j, const uint64_t *ids, uint64_t n, char *errbuf)
{
    nas__sb_t sb;
    nas__sb_init(&sb, j->ctx);
    nas__sb_puts(&sb, "{\"type\":\"front\",\"trials\":[");
    for (uint64_t i = 0; i < n; i++)
        nas__sb_printf(&sb, "%s%llu", i ? "," : "", (unsigned long long)ids[i]);
    nas__sb_puts(&sb, "]}");
    nas_status_t st = write_line(j, &sb, errbuf);
    nas__sb_free(&sb);
    return st;
}

nas_status_t nas__journal_end(nas__journal_t *j, const char *reason, char *errbuf)
{
    nas__sb_t sb;
    nas__sb_init(&sb, j->ctx);
    nas__sb_puts(&sb, "{\"type\":\"end\",\"reason\":");
    nas__sb_json_str(&sb, reason);
    nas__sb_putc(&sb, '}');
    nas_status_t st = write_line(j, &sb, errbuf);
    nas__sb_free(&sb);
    return st;
}
