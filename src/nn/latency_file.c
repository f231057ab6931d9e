/*
 * The latency table's key and cache file. The file is text:
 *     libnas-latlut 1
 *     key <the key>
 *     shape <widths> <decisions> <largest num_choices>
 *     calib <scale> <overhead ms> <parts measured> <networks calibrated>
 *     stem <w> <ms>            head <w> <ms>            (one line each, per width)
 *     op <w> <decision> <choice> <ms>                   (every choice of every layer decision)
 *     end <FNV-1a of everything above, 16 hex digits>
 * Times are raw measurements as C99 hexadecimal floats (exact); the calibrated entries are recomputed.
 */
#include "nn/latency_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void cpu_model(char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown-cpu");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && c) {
            c += 1 + strspn(c + 1, " \t");
            c[strcspn(c, "\n")] = '\0';
            snprintf(buf, cap, "%s", c);
            break;
        }
    }
    fclose(f);
}

static uint64_t hash_str(const char *s, uint64_t h)
{
    return nas__hash_bytes(s, strlen(s) + 1, h);
}

/* Everything of the space that shapes its networks or the meaning of a probability vector. */
static uint64_t space_hash(const nas_space_t *s)
{
    const nas__chain_t *ch = &s->chain;
    int32_t v[3] = { ch->stem_channels, ch->head_channels, (int32_t)s->num_stages };
    uint64_t h = nas__hash_bytes(v, sizeof v, hash_str(s->name, 0x1a7e));
    h = nas__hash_bytes(ch->widths, ch->num_widths * sizeof *ch->widths, h);
    for (uint32_t i = 0; i < s->num_stages; i++) {
        const nas__stage_t *sg = &s->stages[i];
        int32_t u[3] = { sg->channels, sg->stride, (int32_t)sg->num_depths };
        h = nas__hash_bytes(sg->depths, sg->num_depths * sizeof *sg->depths, nas__hash_bytes(u, sizeof u, h));
    }
    for (uint32_t d = 0; d < s->num_arch_dims; d++) {
        const nas__dim_t *dim = &s->dims[d];
        int32_t u[4] = { dim->kind, dim->role, (int32_t)dim->num_choices, dim->parent };
        h = nas__hash_bytes(u, sizeof u, hash_str(dim->name, h));
        for (uint32_t c = 0; c < dim->num_choices && dim->labels >= 0; c++)
            h = hash_str(nas__dim_label(s, d, c), h);
    }
    return h;
}

nas_status_t nas__latlut_key(const nas__dev_t *dev, const nas_space_t *space, const nas__latlut_opts_t *opts,
                             char *key)
{
    if (!dev || !space || !key)
        return NAS_E_INVAL;
    nas__latlut_opts_t o = NAS__LATLUT_OPTS_INIT;
    if (opts && !nas__copy_opts(&o, sizeof o, opts, opts->struct_size))
        return NAS_E_INVAL;
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    const nas__build_opts_t *b = &o.build;
    locale_t old = nas__c_locale_enter();
    snprintf(key, NAS__LATLUT_KEY_CAP, "space=%s;decisions=%016llx;input=%dx%dx%d;classes=%d;channel_scale=%.17g;"
             "stem_stride=%d;cpu=%s;threads=%d", space->name, (unsigned long long)space_hash(space), (int)b->in_c,
             (int)b->in_h, (int)b->in_w, (int)b->num_classes, b->channel_scale, (int)b->stem_stride, cpu,
             (int)nas__dev_threads(dev));
    nas__c_locale_leave(old);
    for (char *c = key; *c; c++)   /* one line in the file */
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '_';
    return NAS_OK;
}

nas_status_t nas__latlut_save(const nas__latlut_t *t, const char *path, char *errbuf)
{
    if (!t || !path)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__latlut_save: NULL table or path");
    const nas_space_t *s = t->space;
    nas__sb_t sb;
    nas__sb_init(&sb, t->ctx);
    locale_t old = nas__c_locale_enter();
    nas__sb_printf(&sb, NAS__LATLUT_FORMAT "\nkey %s\nshape %u %u %u\ncalib %a %a %u %u\n", t->key, t->nw, t->nd,
                   t->mc, t->info.scale, t->info.overhead_ms, t->info.measured, t->info.calibrated);
    for (uint32_t w = 0; w < t->nw; w++) {
        nas__sb_printf(&sb, "stem %u %a\nhead %u %a\n", w, t->stem[w], w, t->head[w]);
        for (uint32_t d = 0; d < t->nd; d++)
            for (uint32_t c = 0; c < s->dims[d].num_choices && nas__latlut_is_layer(s, d); c++)
                nas__sb_printf(&sb, "op %u %u %u %a\n", w, d, c, *nas__latlut_at(t->raw, t, w, d, c));
    }
    nas__c_locale_leave(old);
    nas__sb_printf(&sb, "end %016llx\n", (unsigned long long)nas__hash_bytes(sb.data, sb.len, 0));
    nas_status_t st = sb.failed ? nas__fail(errbuf, NAS_E_NOMEM, "out of memory writing a latency table")
                                : nas__write_file_atomic(t->ctx, path, sb.data, sb.len, errbuf);
    nas__sb_free(&sb);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */

typedef struct reader {
    char *p;          /* next line */
    uint32_t line;
    char *err;
    const char *path;
} reader_t;

/* The next line, NUL-terminated in place; NULL at the end. */
static char *next_line(reader_t *r)
{
    if (!*r->p)
        return NULL;
    char *s = r->p, *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        r->p = nl + 1;
    } else {
        r->p = s + strlen(s);
    }
    r->line++;
    return s;
}

static bool get_u32(char **s, uint32_t *out)
{
    char *end;
    if (**s != ' ' || (*s)[1] < '0' || (*s)[1] > '9')
        return false;
    errno = 0;
    unsigned long v = strtoul(*s + 1, &end, 10);
    if (errno || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    *s = end;
    return true;
}

static bool get_ms(char **s, double *out)
{
    char *end;
    if (**s != ' ')
        return false;
    double v = nas__strtod(*s + 1, &end);
    if (end == *s + 1 || !isfinite(v))
        return false;
    *out = v;
    *s = end;
    return true;
}

static nas_status_t bad(reader_t *r, const char *what)
{
    return nas__fail(r->err, NAS_E_PARSE, "%s:%u: %s", r->path, r->line, what);
}

/* One entry line into t; seen marks entries already read (each must come exactly once). */
static nas_status_t entry(reader_t *r, nas__latlut_t *t, char *s, uint8_t *seen)
{
    const nas_space_t *sp = t->space;
    uint32_t w, d = 0, c = 0;
    double v;
    size_t slot;
    double *dst;
    if (strncmp(s, "stem", 4) == 0 || strncmp(s, "head", 4) == 0) {
        bool stem = s[0] == 's';
        s += 4;
        if (!get_u32(&s, &w) || w >= t->nw)
            return bad(r, "bad width index");
        slot = (size_t)t->nw * t->nd * t->mc + 2u * w + !stem;
        dst = stem ? &t->stem[w] : &t->head[w];
    } else if (strncmp(s, "op", 2) == 0) {
        s += 2;
        if (!get_u32(&s, &w) || !get_u32(&s, &d) || !get_u32(&s, &c) || w >= t->nw || d >= t->nd ||
            !nas__latlut_is_layer(sp, d) || c >= sp->dims[d].num_choices)
            return bad(r, "bad op entry indices");
        slot = ((size_t)w * t->nd + d) * t->mc + c;
        dst = nas__latlut_at(t->raw, t, w, d, c);
    } else {
        return bad(r, "unknown line");
    }
    if (!get_ms(&s, &v) || *s || v < 0.0 || v > 1e9)
        return bad(r, "bad time");
    if (seen[slot]++)
        return bad(r, "duplicate entry");
    *dst = v;
    return NAS_OK;
}

static nas_status_t parse(reader_t *r, nas__latlut_t *t, uint8_t *seen, size_t n_slots)
{
    char *s = next_line(r);
    if (!s || strcmp(s, NAS__LATLUT_FORMAT) != 0)
        return bad(r, "not a libnas latency table (or another version)");
    if (!(s = next_line(r)) || strncmp(s, "key ", 4) != 0)
        return bad(r, "missing key");
    if (strcmp(s + 4, t->key) != 0)
        return nas__fail(r->err, NAS_E_STATE, "%s: built for another key (%s; want %s)", r->path, s + 4, t->key);
    uint32_t nw, nd, mc;
    if (!(s = next_line(r)) || strncmp(s, "shape", 5) != 0 || (s += 5, !get_u32(&s, &nw)) || !get_u32(&s, &nd) ||
        !get_u32(&s, &mc) || *s || nw != t->nw || nd != t->nd || mc != t->mc)
        return bad(r, "bad or mismatched shape line");
    nas__latlut_info_t *in = &t->info;
    if (!(s = next_line(r)) || strncmp(s, "calib", 5) != 0 || (s += 5, !get_ms(&s, &in->scale)) ||
        !get_ms(&s, &in->overhead_ms) || !get_u32(&s, &in->measured) || !get_u32(&s, &in->calibrated) || *s ||
        !(in->scale > 0.0) || fabs(in->overhead_ms) > 1e6)
        return bad(r, "bad calibration line");
    nas_status_t st = NAS_OK;
    while (st == NAS_OK && (s = next_line(r)) && strncmp(s, "end ", 4) != 0)
        st = entry(r, t, s, seen);
    if (st != NAS_OK)
        return st;
    const nas_space_t *sp = t->space;
    for (size_t i = 0; i < n_slots; i++) {
        size_t dc = i % ((size_t)t->nd * t->mc), d = dc / t->mc, c = dc % t->mc;
        bool want = i >= (size_t)t->nw * t->nd * t->mc ||
                    (nas__latlut_is_layer(sp, (uint32_t)d) && c < sp->dims[d].num_choices);
        if (want && !seen[i])
            return nas__fail(r->err, NAS_E_CORRUPT, "%s: entries are missing", r->path);
    }
    return NAS_OK;
}

nas_status_t nas__latlut_load(nas__latlut_t **out, nas__dev_t *dev, nas_space_t *space,
                              const nas__latlut_opts_t *opts, const char *path, char *errbuf)
{
    if (!out || !path)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__latlut_load: NULL out or path");
    *out = NULL;
    nas__latlut_opts_t o = NAS__LATLUT_OPTS_INIT;
    if (opts && !nas__copy_opts(&o, sizeof o, opts, opts->struct_size))
        return nas__fail(errbuf, NAS_E_INVAL, "nas__latlut_load: bad struct_size %zu", opts->struct_size);
    nas__latlut_t *t = NULL;
    nas_status_t st = nas__latlut_alloc(&t, dev, space, &o, errbuf);
    if (st != NAS_OK)
        return st;
    char *data = NULL;
    size_t len = 0;
    uint8_t *seen = NULL;
    size_t n_slots = (size_t)t->nw * t->nd * t->mc + 2u * t->nw;
    if ((st = nas__read_file(t->ctx, path, NAS__LATLUT_MAX_FILE, &data, &len, errbuf)) != NAS_OK)
        goto out_free;
    /* The checksum line closes the file: everything before it is what it covers. */
    char *end = len >= 21 ? data + len - 21 : NULL;
    unsigned long long want = 0;
    char tail[32];
    if (!end || (end != data && end[-1] != '\n') || sscanf(end, "end %16llx%2s", &want, tail) != 1 ||
        end[20] != '\n' || strlen(end) != 21 ||
        want != (unsigned long long)nas__hash_bytes(data, (size_t)(end - data), 0)) {
        st = nas__fail(errbuf, NAS_E_CORRUPT, "%s: damaged latency table (bad or missing checksum line)", path);
        goto out_free;
    }
    if (memchr(data, '\0', len)) {
        st = nas__fail(errbuf, NAS_E_CORRUPT, "%s: damaged latency table (NUL byte)", path);
        goto out_free;
    }
    if (!(seen = nas__calloc(t->ctx, n_slots, 1))) {
        st = nas__fail(errbuf, NAS_E_NOMEM, "out of memory loading a latency table");
        goto out_free;
    }
    reader_t r = { data, 0, errbuf, path };
    if ((st = parse(&r, t, seen, n_slots)) == NAS_OK)
        nas__latlut_apply_calib(t);
out_free:
    nas__free(t->ctx, seen);
    nas__free(t->ctx, data);
    if (st != NAS_OK) {
        nas__latlut_destroy(t);
        return st;
    }
    t->info.build_seconds = 0.0;
    *out = t;
    return NAS_OK;
}

nas_status_t nas__latlut_open(nas__latlut_t **out, nas__dev_t *dev, nas_space_t *space,
                              const nas__latlut_opts_t *opts, const char *path, bool *rebuilt, char *errbuf)
{
    if (rebuilt)
        *rebuilt = false;
    nas_status_t st = nas__latlut_load(out, dev, space, opts, path, errbuf);
    if (st == NAS_OK || st == NAS_E_INVAL || st == NAS_E_UNSUPPORTED || st == NAS_E_NOMEM)
        return st;
    if ((st = nas__latlut_build(out, dev, space, opts, errbuf)) != NAS_OK)
        return st;
    if (rebuilt)
        *rebuilt = true;
    return nas__latlut_save(*out, path, errbuf);
}
