/* nas search: its outputs: best.json, the text summary, and summary.json read back into best.json. */
#include "search.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

uint64_t search_count_failed(const nas_run_t *run)
{
    uint64_t n = nas_run_num_trials(run), failed = 0;
    for (uint64_t i = 0; i < n; i++) {
        const char *arch;
        const nas_result_t *res;
        uint64_t id;
        if (nas_run_trial(run, i, &id, &arch, &res) == NAS_OK && nas_result_status(res) != NAS_OK)
            failed++;
    }
    return failed;
}

static void write_metrics(FILE *f, const nas_result_t *res)
{
    fputc('{', f);
    for (uint32_t i = 0; i < nas_result_num_metrics(res); i++) {
        const char *name;
        double v;
        if (nas_result_metric_at(res, i, &name, &v) != NAS_OK)
            continue;
        fputs(i ? ", " : "", f);
        cli_json_string(f, name);
        fputs(": ", f);
        cli_json_number(f, v);
    }
    fputc('}', f);
}

static void write_best_json(FILE *f, const search_info_t *si)
{
    const nas_run_t *run = si->run;
    uint64_t best_index;
    fputs("{\n  \"experiment\": ", f);
    cli_json_string(f, nas_experiment_name(si->exp));
    fputs(",\n  \"experiment_file\": ", f);
    cli_json_string(f, si->experiment_path);
    fputs(",\n  \"space\": ", f);
    cli_json_string(f, nas_space_name(nas_experiment_space(si->exp)));
    fputs(",\n  \"searcher\": ", f);
    cli_json_string(f, nas_experiment_searcher(si->exp));
    fputs(",\n  \"evaluator\": ", f);
    cli_json_string(f, nas_experiment_evaluator(si->exp));
    fputs(",\n  \"objectives\": ", f);
    cli_json_string(f, nas_experiment_objectives(si->exp));
    fputs(",\n  \"best\": ", f);
    const char *arch;
    const nas_result_t *res;
    uint64_t id;
    if (nas_run_best(run, &best_index) == NAS_OK && nas_run_trial(run, best_index, &id, &arch, &res) == NAS_OK) {
        fprintf(f, "{\"trial\": %" PRIu64 ", \"arch\": ", id);
        cli_json_string(f, arch);
        fputs(", \"metrics\": ", f);
        write_metrics(f, res);
        fputs(", \"cost\": ", f);
        cli_json_number(f, nas_result_cost(res));
        fputc('}', f);
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\n  \"trials\": %" PRIu64 ",\n  \"failed\": %" PRIu64 ",\n  \"stop_reason\": ",
            nas_run_num_trials(run), search_count_failed(run));
    cli_json_string(f, nas_run_stop_reason(run));
    fputs(",\n  \"elapsed_seconds\": ", f);
    cli_json_number(f, nas_run_elapsed(run));
    fputs(",\n  \"journal\": \"journal.jsonl\"", f);
    if (si->summary_json) {
        fputs(",\n  \"summary\": ", f);
        fputs(si->summary_json, f);
    }
    fputs("\n}\n", f);
}

static bool best_json_cb(FILE *f, const void *si)
{
    write_best_json(f, si);
    return true;
}

/* summary.json as the library wrote it, trimmed, if it looks like one JSON object. */
static char *read_summary(const char *path)
{
    size_t len;
    char *s = cli_read_file(path, 1u << 20, &len);
    if (!s)
        return NULL;
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
        s[--len] = '\0';
    if (len < 2 || s[0] != '{' || s[len - 1] != '}') {
        free(s);
        return NULL;
    }
    return s;
}

static void print_text_summary(const search_info_t *si, const char *out_dir)
{
    const nas_run_t *run = si->run;
    uint64_t n = nas_run_num_trials(run);
    printf("experiment: %s (%s over %s, evaluator %s)\n", nas_experiment_name(si->exp),
           nas_experiment_searcher(si->exp), nas_space_name(nas_experiment_space(si->exp)),
           nas_experiment_evaluator(si->exp));
    uint64_t failed = search_count_failed(run);
    printf("trials: %" PRIu64 " (%" PRIu64 " failed), stopped: %s, elapsed: %.2f s\n", n, failed,
           nas_run_stop_reason(run), nas_run_elapsed(run));
    uint64_t best_index, id;
    const char *arch;
    const nas_result_t *res;
    if (nas_run_best(run, &best_index) == NAS_OK && nas_run_trial(run, best_index, &id, &arch, &res) == NAS_OK) {
        printf("best: trial %" PRIu64 " %s\n", id, arch);
        for (uint32_t i = 0; i < nas_result_num_metrics(res); i++) {
            const char *name;
            double v;
            char buf[64];
            if (nas_result_metric_at(res, i, &name, &v) != NAS_OK)
                continue;
            cli_format_double(buf, sizeof buf, v);
            printf("  %s: %s\n", name, buf);
        }
    } else if (n == 0 || failed == n) {
        printf("best: none (no successful trial)\n");
    } else {
        printf("best: none (no trial reported a value for the objectives '%s')\n", nas_experiment_objectives(si->exp));
    }
    printf("results: %s (journal.jsonl, summary.json, best.json)\n", out_dir);
}

/* Write summary.json and best.json and print the outcome. */
int search_report(const search_args_t *a, search_info_t *si, const char *dir)
{
    int rc = CLI_OK;
    char *summary_path = cli_join(dir, "summary.json"), *best_path = cli_join(dir, "best.json");
    if (!summary_path || !best_path) {
        cli_error("out of memory");
        rc = CLI_FAIL;
        goto out_free;
    }
    nas_status_t st = nas_run_write_summary(si->run, summary_path);
    char *summary = NULL;
    if (st == NAS_OK)
        summary = read_summary(summary_path);
    else
        cli_lib_error(st, nas_run_errmsg(si->run), "cannot write summary.json");
    si->summary_json = summary;
    rc = cli_write_file_atomic(best_path, best_json_cb, si);
    if (st != NAS_OK)
        rc = CLI_FAIL;
    if (rc == CLI_OK && a->json) {
        write_best_json(stdout, si);
    } else if (rc == CLI_OK && a->verbosity >= 0) {
        print_text_summary(si, dir);
    }
    si->summary_json = NULL;
    free(summary);
out_free:
    free(best_path);
    free(summary_path);
    return rc;
}

