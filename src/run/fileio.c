/* Durable file writes: fsync of a folder, and atomic replacement (temporary file, fsync, rename). */
#include "run/run_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void nas__fsync_folder(nas_context_t *ctx, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? nas__strndup(ctx, path, slash == path ? 1 : (size_t)(slash - path)) : nas__strdup(ctx, ".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    nas__free(ctx, dir);
}

nas_status_t nas__write_file_atomic(nas_context_t *ctx, const char *path, const char *data, size_t len, char *errbuf)
{
    size_t n = strlen(path);
    char *tmp = nas__malloc(ctx, n + 8);
    if (!tmp)
        return nas__fail(errbuf, NAS_E_NOMEM, "out of memory writing '%s'", path);
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".XXXXXX", 8);
    nas_status_t st = NAS_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = nas__fail(errbuf, NAS_E_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        goto out_free;
    }
    (void)fchmod(fd, 0644);   /* mkstemp makes 0600; a summary is meant to be read */
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            st = nas__fail(errbuf, NAS_E_IO, "%s: cannot write: %s", tmp, w < 0 ? strerror(errno) : "no progress");
            goto out_close;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) {
        st = nas__fail(errbuf, NAS_E_IO, "%s: cannot fsync: %s", tmp, strerror(errno));
        goto out_close;
    }
    if (close(fd) != 0) {
        fd = -1;
        st = nas__fail(errbuf, NAS_E_IO, "%s: cannot close: %s", tmp, strerror(errno));
        goto out_unlink;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = nas__fail(errbuf, NAS_E_IO, "%s: cannot rename the temporary file over it: %s", path, strerror(errno));
        goto out_unlink;
    }
    nas__fsync_folder(ctx, path);
    goto out_free;

out_close:
    close(fd);
out_unlink:
    unlink(tmp);
out_free:
    nas__free(ctx, tmp);
    return st;
}
