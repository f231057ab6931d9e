/*
 * A small SVG plot writer: a figure of panels side by side, each with axes, ticks, labels, a
 * legend and series drawn as lines, step lines or dots. No dependencies beyond the C library;
 * used by `nas report` and by benchmarks/nb201_study.c.
 *
 * Data is copied when added; non-finite points are skipped (a line is broken there). Axis ranges
 * are taken from the data unless set. Functions returning bool give false only when out of memory
 * (or for a bad panel index); the figure stays usable.
 */
#ifndef NAS_TOOLS_SVG_H
#define NAS_TOOLS_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct svg_fig svg_fig_t;

typedef enum svg_kind {
    SVG_LINE,    /* a polyline through the points in order */
    SVG_STEP,    /* a polyline that holds each y until the next x (an anytime curve) */
    SVG_DOTS,    /* small translucent dots */
    SVG_MARKS    /* larger opaque dots with an outline (highlighted points) */
} svg_kind_t;

typedef enum svg_corner {
    SVG_BOTTOM_RIGHT,
    SVG_BOTTOM_LEFT,
    SVG_TOP_RIGHT,
    SVG_TOP_LEFT
} svg_corner_t;

/* A figure of `panels` panels (1..16) of width x height pixels each; NULL when out of memory. */
svg_fig_t *svg_fig_create(uint32_t panels, double width, double height);
void svg_fig_destroy(svg_fig_t *fig);

/* Title and axis labels of a panel (any may be NULL). */
bool svg_panel_labels(svg_fig_t *fig, uint32_t panel, const char *title, const char *xlabel, const char *ylabel);
/* Fix a panel's axis range; NaN for a bound keeps it automatic. */
void svg_panel_range(svg_fig_t *fig, uint32_t panel, double xmin, double xmax, double ymin, double ymax);
/* Where the legend goes (default bottom right). */
void svg_panel_legend(svg_fig_t *fig, uint32_t panel, svg_corner_t corner);

/*
 * Add a series of n points (x may be NULL: 1, 2, ..., n). color is an SVG color ("#1f77b4") or
 * NULL for the next one of a 10-color palette; label NULL or "" keeps it out of the legend.
 */
bool svg_panel_add(svg_fig_t *fig, uint32_t panel, svg_kind_t kind, const double *x, const double *y, size_t n,
                   const char *color, const char *label);

/* Write the figure as one standalone SVG document (it starts with "<svg"). False on a write error. */
bool svg_fig_write(const svg_fig_t *fig, FILE *f);
/* Write to path (through "path.tmp" and a rename). False with a message in err on failure. */
bool svg_fig_save(const svg_fig_t *fig, const char *path, char *err, size_t errcap);

#endif /* NAS_TOOLS_SVG_H */
