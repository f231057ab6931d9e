/*
 * Trials in a child process. The child (fork) evaluates the candidate and writes the outcome to a
 * pipe, then leaves with _exit so that nothing of the parent's (stdio buffers, atexit handlers) runs
 * twice. The parent reads with poll() in 0.1 s slices, watching the time limit and the cancel
 * callback; a child that dies of a signal or exits without a complete message is a crashed trial.
 *
 * Message: u64 evaluate status, u64 result status, str message, f64 cost, u64 n, n x (str, f64).
 */
#include "run/run_internal.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_MESSAGE (16u << 20)
#define SLICE_MS 100

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void child(nas_run_t *run, const nas_candidate_t *cand, nas_result_t *res, int fd)
{
    /* A crash must end this process, whatever handlers the host installed (they belong to the parent). */
    static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP };
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], SIG_DFL);
    nas_status_t st = nas_evaluator_evaluate(run->ev, cand, res);
    nas_state_writer_t w;
    nas__sb_init(&w.sb, run->ctx);
    nas_state_write_u64(&w, (uint64_t)st);
    nas_state_write_u64(&w, (uint64_t)nas_result_status(res));
    nas_state_write_str(&w, st == NAS_OK ? nas_result_message(res) : nas_evaluator_errmsg(run->ev));
    nas_state_write_f64(&w, nas_result_cost(res));
    uint32_t n = nas_result_num_metrics(res);
    nas_state_write_u64(&w, n);
    for (uint32_t i = 0; i < n; i++) {
        const char *name = "";
        double v = NAN;
        nas_result_metric_at(res, i, &name, &v);
        nas_state_write_str(&w, name);
        nas_state_write_f64(&w, v);
    }
    if (!w.sb.failed)
        write_all(fd, w.sb.data, w.sb.len);
    close(fd);
    _exit(w.sb.failed ? 3 : 0);
}

/* Decode the child's message into res; false when it is incomplete. */
static bool decode(nas_run_t *run, const char *data, size_t len, nas_result_t *res, nas_status_t *eval_st)
{
    nas_state_reader_t r = { (const uint8_t *)data, len, 0 };
    uint64_t est, rst, n;
    const char *msg;
    double cost;
    if (nas_state_read_u64(&r, &est) != NAS_OK || nas_state_read_u64(&r, &rst) != NAS_OK ||
        nas_state_read_str(&r, &msg) != NAS_OK || nas_state_read_f64(&r, &cost) != NAS_OK ||
        nas_state_read_count(&r, len / 9, &n) != NAS_OK || est > 0xffff || rst > 0xffff)
        return false;
    *eval_st = (nas_status_t)est;
    if (*eval_st != NAS_OK) {
        nas__fail(run->errmsg, *eval_st, "%s", msg);   /* an evaluator failure that stops the run */
        return true;
    }
    nas_result_clear(res);
    nas_result_set_status(res, (nas_status_t)rst, msg);
    if (isfinite(cost) && cost >= 0.0)
        nas_result_set_cost(res, cost);
    for (uint64_t i = 0; i < n; i++) {
        const char *name;
        double v;
        if (nas_state_read_str(&r, &name) != NAS_OK || nas_state_read_f64(&r, &v) != NAS_OK)
            return false;
        nas_result_set_metric(res, name, v);
    }
    return r.off == r.len;
}

static void failed_trial(nas_result_t *res, nas_status_t status, double seconds, const char *msg)
{
    nas_result_clear(res);
    nas_result_set_status(res, status, msg);
    nas_result_set_cost(res, seconds);
}

nas_status_t nas__run_isolated(nas_run_t *run, const nas_candidate_t *cand, nas_result_t *res)
{
    int fds[2];
    if (pipe(fds) != 0)
        return nas__fail(run->errmsg, NAS_E_IO, "cannot make a pipe for the trial's process: %s", strerror(errno));
    fflush(NULL);   /* nothing buffered may be written twice */
    double t0 = nas__now();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return nas__fail(run->errmsg, NAS_E_IO, "cannot start the trial's process: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        child(run, cand, res, fds[1]);
    }
    close(fds[1]);
    nas__sb_t buf;
    nas__sb_init(&buf, run->ctx);
    bool timed_out = false, cancelled = false, too_big = false;
    for (;;) {
        struct pollfd p = { fds[0], POLLIN, 0 };
        int k = poll(&p, 1, SLICE_MS);
        if (k > 0) {
            char chunk[65536];
            ssize_t got = read(fds[0], chunk, sizeof chunk);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                break;
            nas__sb_append(&buf, chunk, (size_t)got);
            if (buf.len > MAX_MESSAGE) {
                too_big = true;
                break;
            }
            continue;
        }
        if (k < 0 && errno != EINTR)
            break;
        if (run->o.trial_timeout > 0.0 && nas__now() - t0 >= run->o.trial_timeout) {
            timed_out = true;
            break;
        }
        if (run->o.cancel && run->o.cancel(run->o.cancel_user_data)) {
            cancelled = true;
            break;
        }
    }
    close(fds[0]);
    if (timed_out || cancelled || too_big)
        kill(pid, SIGKILL);
    int wst = 0;
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
        ;
    double seconds = nas__now() - t0;
    nas_status_t st = NAS_OK;
    if (cancelled) {
        st = nas__fail(run->errmsg, NAS_E_ABORTED, "cancelled during trial %llu (not recorded; a resume runs it "
                       "again)", (unsigned long long)cand->trial_id);
    } else if (timed_out) {
        char msg[160];
        snprintf(msg, sizeof msg, "the trial took longer than its limit of %g s and was stopped",
                 run->o.trial_timeout);
        failed_trial(res, NAS_E_TIMEOUT, seconds, msg);
    } else if (buf.failed) {
        st = nas__fail(run->errmsg, NAS_E_NOMEM, "out of memory reading the trial's result");
    } else if (WIFSIGNALED(wst)) {
        char msg[160];
        snprintf(msg, sizeof msg, "the trial's process died of signal %d (%s)", WTERMSIG(wst), strsignal(WTERMSIG(wst)));
        failed_trial(res, NAS_E_CRASHED, seconds, msg);
    } else if (too_big || !WIFEXITED(wst) || WEXITSTATUS(wst) != 0 || !decode(run, buf.data, buf.len, res, &st)) {
        char msg[160];
        snprintf(msg, sizeof msg, "the trial's process exited with status %d before reporting a result",
                 WIFEXITED(wst) ? WEXITSTATUS(wst) : -1);
        failed_trial(res, NAS_E_CRASHED, seconds, msg);
        st = NAS_OK;
    }
    nas__sb_free(&buf);
    return st;
}
