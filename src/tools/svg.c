/* The SVG plot writer: the figure is kept in memory and laid out when written. */
#include "svg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PANELS 16
#define MARGIN_L 70.0
#define MARGIN_R 18.0
#define MARGIN_T 30.0
#define MARGIN_B 46.0

typedef struct series {
    svg_kind_t kind;
    double *x, *y;
    size_t n;
    char color[32];
    char *label;
} series_t;

typedef struct panel {
    char *title, *xlabel, *ylabel;
    double range[4];          /* xmin, xmax, ymin, ymax; NaN: automatic */
    svg_corner_t corner;
    series_t *s;
    uint32_t ns;
} panel_t;

struct svg_fig {
    uint32_t np;
    double w, h;
    panel_t p[MAX_PANELS];
};

static const char *const palette[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

svg_fig_t *svg_fig_create(uint32_t panels, double width, double height)
{
    if (panels == 0 || panels > MAX_PANELS || !(width > 0) || !(height > 0))
        return NULL;
    svg_fig_t *fig = calloc(1, sizeof *fig);
    if (!fig)
        return NULL;
    fig->np = panels;
    fig->w = width;
    fig->h = height;
    for (uint32_t i = 0; i < panels; i++)
        for (int k = 0; k < 4; k++)
            fig->p[i].range[k] = NAN;
    return fig;
}

void svg_fig_destroy(svg_fig_t *fig)
{
    if (!fig)
        return;
    for (uint32_t i = 0; i < fig->np; i++) {
        panel_t *p = &fig->p[i];
        for (uint32_t j = 0; j < p->ns; j++) {
            free(p->s[j].x);
            free(p->s[j].y);
            free(p->s[j].label);
        }
        free(p->s);
        free(p->title);
        free(p->xlabel);
        free(p->ylabel);
    }
    free(fig);
}

bool svg_panel_labels(svg_fig_t *fig, uint32_t panel, const char *title, const char *xlabel, const char *ylabel)
{
    if (!fig || panel >= fig->np)
        return false;
    panel_t *p = &fig->p[panel];
    char *t = dup_str(title), *x = dup_str(xlabel), *y = dup_str(ylabel);
    if ((title && !t) || (xlabel && !x) || (ylabel && !y)) {
        free(t);
        free(x);
        free(y);
        return false;
    }
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    p->title = t;
    p->xlabel = x;
    p->ylabel = y;
    return true;
}

void svg_panel_range(svg_fig_t *fig, uint32_t panel, double xmin, double xmax, double ymin, double ymax)
{
    if (!fig || panel >= fig->np)
        return;
    double *r = fig->p[panel].range;
    r[0] = xmin;
    r[1] = xmax;
    r[2] = ymin;
    r[3] = ymax;
}

void svg_panel_legend(svg_fig_t *fig, uint32_t panel, svg_corner_t corner)
{
    if (fig && panel < fig->np)
        fig->p[panel].corner = corner;
}

bool svg_panel_add(svg_fig_t *fig, uint32_t panel, svg_kind_t kind, const double *x, const double *y, size_t n,
                   const char *color, const char *label)
{
    if (!fig || panel >= fig->np || (!y && n))
        return false;
    panel_t *p = &fig->p[panel];
    series_t *s = realloc(p->s, (p->ns + 1) * sizeof *s);
    if (!s)
        return false;
    p->s = s;
    series_t *ns = &s[p->ns];
    memset(ns, 0, sizeof *ns);
    ns->kind = kind;
    ns->n = n;
    ns->x = malloc((n ? n : 1) * sizeof *ns->x);
    ns->y = malloc((n ? n : 1) * sizeof *ns->y);
    ns->label = label && *label ? dup_str(label) : NULL;
    if (!ns->x || !ns->y || (label && *label && !ns->label)) {
        free(ns->x);
        free(ns->y);
        free(ns->label);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        ns->x[i] = x ? x[i] : (double)(i + 1);
        ns->y[i] = y[i];
    }
    const char *c = color && *color ? color : palette[p->ns % (sizeof palette / sizeof palette[0])];
    snprintf(ns->color, sizeof ns->color, "%s", c);
    p->ns++;
    return true;
}

/* ---------------------------------------------------------------------- */
/* Layout and output                                                       */

static void put_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20)
                fputc(*s, f);
        }
    }
}

/* The axis range of a panel: set bounds, else the data's, padded; never empty. */
static void axis_range(const panel_t *p, int axis, double *lo, double *hi)
{
    double mn = INFINITY, mx = -INFINITY;
    for (uint32_t j = 0; j < p->ns; j++) {
        const series_t *s = &p->s[j];
        for (size_t i = 0; i < s->n; i++) {
            double v = axis ? s->y[i] : s->x[i];
            if (isfinite(s->x[i]) && isfinite(s->y[i])) {
                mn = fmin(mn, v);
                mx = fmax(mx, v);
            }
        }
    }
    if (!isfinite(mn)) {
        mn = 0.0;
        mx = 1.0;
    }
    double pad = (mx - mn) * 0.04;
    if (pad == 0.0)
        pad = fmax(fabs(mn) * 0.05, 0.5);
    *lo = isfinite(p->range[2 * axis]) ? p->range[2 * axis] : mn - pad;
    *hi = isfinite(p->range[2 * axis + 1]) ? p->range[2 * axis + 1] : mx + pad;
    if (!(*hi > *lo))
        *hi = *lo + 1.0;
}

/* A 1-2-5 step giving about `target` ticks over span. */
static double nice_step(double span, int target)
{
    double raw = span / target, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * p;
}

static void tick_label(char *buf, size_t cap, double v, double step)
{
    if (fabs(v) < step * 1e-9)
        v = 0.0;
    if (fabs(v) >= 1e6 || step < 1e-4) {
        snprintf(buf, cap, "%g", v);
    } else {
        double decimals = step >= 1.0 ? 0.0 : ceil(-log10(step) - 1e-9);
        snprintf(buf, cap, "%.*f", (int)decimals, v);
    }
}

typedef struct frame {
    double left, top, pw, ph;     /* plot area */
    double x0, x1, y0, y1;        /* data range */
} frame_t;

static double px(const frame_t *fr, double x)
{
    return fr->left + (x - fr->x0) / (fr->x1 - fr->x0) * fr->pw;
}

static double py(const frame_t *fr, double y)
{
    return fr->top + fr->ph - (y - fr->y0) / (fr->y1 - fr->y0) * fr->ph;
}

static void draw_axes(FILE *f, const panel_t *p, const frame_t *fr)
{
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#888\"/>\n",
            fr->left, fr->top, fr->pw, fr->ph);
    for (int axis = 0; axis < 2; axis++) {
        double lo = axis ? fr->y0 : fr->x0, hi = axis ? fr->y1 : fr->x1;
        double step = nice_step(hi - lo, axis ? 6 : 7);
        if (!isfinite(step) || !(step > 0))
            continue;
        double first = ceil(lo / step - 1e-9), last = floor(hi / step + 1e-9);
        for (double k = first; k <= last && k - first < 100; k++) {
            double v = k * step;
            char lab[48];
            tick_label(lab, sizeof lab, v, step);
            if (axis) {
                double y = py(fr, v);
                fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>\n", fr->left,
                        y, fr->left + fr->pw, y);
                fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n", fr->left - 5, y + 4, lab);
            } else {
                double x = px(fr, v);
                fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>\n", x,
                        fr->top, x, fr->top + fr->ph);
                fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n", x,
                        fr->top + fr->ph + 16, lab);
            }
        }
    }
    double cx = fr->left + fr->pw / 2, cy = fr->top + fr->ph / 2;
    if (p->title) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-weight=\"bold\">", cx, fr->top - 10);
        put_text(f, p->title);
        fputs("</text>\n", f);
    }
    if (p->xlabel) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", cx, fr->top + fr->ph + 36);
        put_text(f, p->xlabel);
        fputs("</text>\n", f);
    }
    if (p->ylabel) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 %.2f %.2f)\">",
                fr->left - 52, cy, fr->left - 52, cy);
        put_text(f, p->ylabel);
        fputs("</text>\n", f);
    }
}

/* One polyline per run of finite points. */
static void draw_line(FILE *f, const series_t *s, const frame_t *fr)
{
    bool open = false;
    double last_y = 0.0;
    for (size_t i = 0; i < s->n; i++) {
        if (!isfinite(s->x[i]) || !isfinite(s->y[i])) {
            if (open)
                fputs("\"/>\n", f);
            open = false;
            continue;
        }
        double x = px(fr, s->x[i]), y = py(fr, s->y[i]);
        if (!open) {
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" stroke-linejoin=\"round\" "
                    "points=\"", s->color);
            fprintf(f, "%.2f,%.2f", x, y);
            open = true;
        } else {
            if (s->kind == SVG_STEP)
                fprintf(f, " %.2f,%.2f", x, last_y);
            fprintf(f, " %.2f,%.2f", x, y);
        }
        last_y = y;
    }
    if (open)
        fputs("\"/>\n", f);
}

static void draw_dots(FILE *f, const series_t *s, const frame_t *fr)
{
    bool marks = s->kind == SVG_MARKS;
    if (marks)
        fprintf(f, "<g fill=\"%s\" stroke=\"#222\" stroke-width=\"0.8\">\n", s->color);
    else
        fprintf(f, "<g fill=\"%s\" fill-opacity=\"0.45\">\n", s->color);
    for (size_t i = 0; i < s->n; i++)
        if (isfinite(s->x[i]) && isfinite(s->y[i]))
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%s\"/>\n", px(fr, s->x[i]), py(fr, s->y[i]),
                    marks ? "4" : "2.2");
    fputs("</g>\n", f);
}

static void draw_legend(FILE *f, const panel_t *p, const frame_t *fr)
{
    uint32_t n = 0;
    size_t longest = 0;
    for (uint32_t j = 0; j < p->ns; j++)
        if (p->s[j].label) {
            n++;
            longest = strlen(p->s[j].label) > longest ? strlen(p->s[j].label) : longest;
        }
    if (!n)
        return;
    double w = 34.0 + 6.6 * (double)(longest > 60 ? 60 : longest), h = 8.0 + 17.0 * n;
    bool right = p->corner == SVG_BOTTOM_RIGHT || p->corner == SVG_TOP_RIGHT;
    bool bottom = p->corner == SVG_BOTTOM_RIGHT || p->corner == SVG_BOTTOM_LEFT;
    double x = right ? fr->left + fr->pw - w - 8 : fr->left + 8;
    double y = bottom ? fr->top + fr->ph - h - 8 : fr->top + 8;
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"white\" fill-opacity=\"0.85\" "
            "stroke=\"#bbb\"/>\n", x, y, w, h);
    uint32_t k = 0;
    for (uint32_t j = 0; j < p->ns; j++) {
        const series_t *s = &p->s[j];
        if (!s->label)
            continue;
        double ly = y + 4 + 17.0 * k + 8.5;
        if (s->kind == SVG_LINE || s->kind == SVG_STEP)
            fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"2\"/>\n",
                    x + 6, ly, x + 24, ly, s->color);
        else
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%s\" fill=\"%s\"%s/>\n", x + 15, ly,
                    s->kind == SVG_MARKS ? "4" : "3", s->color, s->kind == SVG_MARKS ? " stroke=\"#222\"" : "");
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">", x + 30, ly + 4);
        put_text(f, s->label);
        fputs("</text>\n", f);
        k++;
    }
}

bool svg_fig_write(const svg_fig_t *fig, FILE *f)
{
    if (!fig || !f)
        return false;
    double W = fig->w * fig->np, H = fig->h;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
    fputs("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);
    for (uint32_t i = 0; i < fig->np; i++) {
        const panel_t *p = &fig->p[i];
        frame_t fr = { fig->w * i + MARGIN_L, MARGIN_T, fig->w - MARGIN_L - MARGIN_R, fig->h - MARGIN_T - MARGIN_B,
                       0, 0, 0, 0 };
        axis_range(p, 0, &fr.x0, &fr.x1);
        axis_range(p, 1, &fr.y0, &fr.y1);
        fprintf(f, "<clipPath id=\"plot%u\"><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/></clipPath>\n",
                (unsigned)i, fr.left, fr.top, fr.pw, fr.ph);
        draw_axes(f, p, &fr);
        fprintf(f, "<g clip-path=\"url(#plot%u)\">\n", (unsigned)i);
        for (uint32_t j = 0; j < p->ns; j++) {
            if (p->s[j].kind == SVG_LINE || p->s[j].kind == SVG_STEP)
                draw_line(f, &p->s[j], &fr);
            else
                draw_dots(f, &p->s[j], &fr);
        }
        fputs("</g>\n", f);
        draw_legend(f, p, &fr);
    }
    fputs("</svg>\n", f);
    return !ferror(f);
}

bool svg_fig_save(const svg_fig_t *fig, const char *path, char *err, size_t errcap)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    if (!tmp) {
        snprintf(err, errcap, "out of memory");
        return false;
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errcap, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return false;
    }
    bool ok = svg_fig_write(fig, f);
    int werr = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        werr = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        snprintf(err, errcap, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        free(tmp);
        return false;
    }
    if (!ok) {
        snprintf(err, errcap, "cannot write %s: %s", tmp, strerror(werr));
        remove(tmp);
    }
    free(tmp);
    return ok;
}
