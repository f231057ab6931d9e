/*
 * State streams of searcher checkpoints: a writer appending to a growable buffer and a reader over
 * borrowed bytes. Integers are little-endian u64, doubles their IEEE-754 bits as a u64, strings a
 * u64 length then the bytes and a NUL (so a reader can hand out pointers into its data).
 */
#include "search/search_internal.h"

#include <string.h>

#define MAX_STATE_STRING (64u << 20)

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

nas_status_t nas_state_write(nas_state_writer_t *w, const void *data, size_t len)
{
    if (!w || (!data && len))
        return NAS_E_INVAL;
    if (len)
        nas__sb_append(&w->sb, data, len);
    return w->sb.failed ? NAS_E_NOMEM : NAS_OK;
}

nas_status_t nas_state_write_u64(nas_state_writer_t *w, uint64_t v)
{
    uint8_t b[8];
    put_le64(b, v);
    return nas_state_write(w, b, sizeof b);
}

nas_status_t nas_state_write_f64(nas_state_writer_t *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return nas_state_write_u64(w, bits);
}

nas_status_t nas_state_write_f64s(nas_state_writer_t *w, const double *v, size_t n)
{
    if (!v && n)
        return NAS_E_INVAL;
    nas_status_t st = NAS_OK;
    for (size_t i = 0; i < n && st == NAS_OK; i++)
        st = nas_state_write_f64(w, v[i]);
    return st;
}

nas_status_t nas_state_write_str(nas_state_writer_t *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    nas_status_t st = nas_state_write_u64(w, n);
    if (st == NAS_OK && n)
        st = nas_state_write(w, s, n);
    if (st == NAS_OK)
        st = nas_state_write(w, "", 1);
    return st;
}

nas_status_t nas_state_write_arch(nas_state_writer_t *w, const nas_arch_t *arch)
{
    if (!w || !arch)
        return NAS_E_INVAL;
    size_t len = 0;
    nas_status_t st = nas_arch_to_string(arch, 0, NULL, 0, &len);
    if (st != NAS_OK && st != NAS_E_RANGE)
        return st;
    char *buf = nas__malloc(w->sb.ctx, len + 1);
    if (!buf) {
        w->sb.failed = true;
        return NAS_E_NOMEM;
    }
    st = nas_arch_to_string(arch, 0, buf, len + 1, &len);
    if (st == NAS_OK)
        st = nas_state_write_str(w, buf);
    nas__free(w->sb.ctx, buf);
    return st;
}

nas_status_t nas_state_read(nas_state_reader_t *r, void *data, size_t len)
{
    if (!r || (!data && len))
        return NAS_E_INVAL;
    if (len > r->len - r->off)
        return NAS_E_CORRUPT;
    if (len)
        memcpy(data, r->data + r->off, len);
    r->off += len;
    return NAS_OK;
}

nas_status_t nas_state_read_u64(nas_state_reader_t *r, uint64_t *v)
{
    if (!v)
        return NAS_E_INVAL;
    uint8_t b[8];
    nas_status_t st = nas_state_read(r, b, sizeof b);
    if (st == NAS_OK)
        *v = get_le64(b);
    return st;
}

nas_status_t nas_state_read_count(nas_state_reader_t *r, uint64_t max, uint64_t *v)
{
    nas_status_t st = nas_state_read_u64(r, v);
    if (st == NAS_OK && *v > max)
        return NAS_E_CORRUPT;
    return st;
}

nas_status_t nas_state_read_f64(nas_state_reader_t *r, double *v)
{
    if (!v)
        return NAS_E_INVAL;
    uint64_t bits;
    nas_status_t st = nas_state_read_u64(r, &bits);
    if (st == NAS_OK)
        memcpy(v, &bits, sizeof *v);
    return st;
}

nas_status_t nas_state_read_f64s(nas_state_reader_t *r, double *v, size_t n)
{
    if (!v && n)
        return NAS_E_INVAL;
    nas_status_t st = NAS_OK;
    for (size_t i = 0; i < n && st == NAS_OK; i++)
        st = nas_state_read_f64(r, &v[i]);
    return st;
}

nas_status_t nas_state_read_str(nas_state_reader_t *r, const char **s)
{
    if (!s)
        return NAS_E_INVAL;
    uint64_t n;
    nas_status_t st = nas_state_read_count(r, MAX_STATE_STRING, &n);
    if (st != NAS_OK)
        return st;
    if (n + 1 > r->len - r->off || r->data[r->off + n] != '\0' || memchr(r->data + r->off, '\0', (size_t)n))
        return NAS_E_CORRUPT;
    *s = (const char *)r->data + r->off;
    r->off += (size_t)n + 1;
    return NAS_OK;
}

nas_status_t nas_state_read_arch(nas_state_reader_t *r, nas_arch_t *arch)
{
    if (!arch)
        return NAS_E_INVAL;
    const char *s;
    nas_status_t st = nas_state_read_str(r, &s);
    if (st != NAS_OK)
        return st;
    st = nas_arch_from_string(arch, s);
    return st == NAS_OK || st == NAS_E_NOMEM ? st : NAS_E_CORRUPT;
}

size_t nas_state_remaining(const nas_state_reader_t *r)
{
    return r ? r->len - r->off : 0;
}
