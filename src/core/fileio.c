/* Durable file writes (fsync of a folder, atomic replacement: temporary file, fsync, rename) and whole-file reads. */
#include "core/internal.h"

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

nas_status_t nas__read_file(nas_context_t *ctx, const char *path, size_t max, char **data, size_t *len, char *errbuf)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nas__fail(errbuf, errno == ENOENT ? NAS_E_NOT_FOUND : NAS_E_IO, "%s: cannot open: %s", path,
                         strerror(errno));
    nas_status_t st = NAS_OK;
    struct stat sb;
    char *buf = NULL;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        st = nas__fail(errbuf, NAS_E_IO, "%s: is a folder, not a file", path);
        goto out_close;
    }
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > max) {
        st = nas__fail(errbuf, NAS_E_RANGE, "%s: the file has %lld bytes, over the limit of %zu", path,
                       (long long)sb.st_size, max);
        goto out_close;
    }
    /* Read at most max + 1 bytes, so a pipe or a growing file cannot get past the limit either. */
    size_t cap = S_ISREG(sb.st_mode) && sb.st_size > 0 ? (size_t)sb.st_size + 2 : 4096, n = 0;
    if (cap > max + 2)
        cap = max + 2;
    if (!(buf = nas__malloc(ctx, cap))) {
        st = nas__fail(errbuf, NAS_E_NOMEM, "%s: out of memory reading the file", path);
        goto out_close;
    }
    for (;;) {
        if (n + 1 >= cap) {
            size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
            char *p = nas__realloc(ctx, buf, ncap);
            if (!p) {
                st = nas__fail(errbuf, NAS_E_NOMEM, "%s: out of memory reading the file", path);
                goto out_close;
            }
            buf = p;
            cap = ncap;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            st = nas__fail(errbuf, NAS_E_IO, "%s: read error: %s", path, strerror(errno));
            goto out_close;
        }
        n += (size_t)got;
        if (n > max) {
            st = nas__fail(errbuf, NAS_E_RANGE, "%s: the file is over the limit of %zu bytes", path, max);
            goto out_close;
        }
        if (got == 0)
            break;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
out_close:
    nas__free(ctx, buf);
    close(fd);
    return st;
}
