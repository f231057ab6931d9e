/*
 * Internal batch loader for the training engine: shuffled, optionally augmented batches of a data set
 * as float NCHW. Deterministic: the order and augmentation of epoch e depend only on (seed, e), so a
 * run can resume at any epoch.
 */
#ifndef NAS_DATA_LOADER_H
#define NAS_DATA_LOADER_H

#include "core/internal.h"

#define NAS__LOADER_SHUFFLE   1u  /* a new random order every epoch; else the data set's order */
#define NAS__LOADER_AUGMENT   2u  /* apply the data set's augmentation (pad-crop, hflip) */
#define NAS__LOADER_DROP_LAST 4u  /* drop the last batch of an epoch if it is partial */

typedef struct nas__loader nas__loader_t;

/*
 * Create a loader over ds, positioned at the start of epoch 0 (no start_epoch call needed for it).
 * Normalization, augmentation settings and the sample list are copied from ds now: later changes to
 * ds are not seen. The loader holds its own reference to the storage, so ds (and its parent) may be
 * destroyed before the loader; the context must outlive it. Every buffer is allocated here.
 * @return NAS_OK; NAS_E_INVAL (NULL args, batch_size 0, unknown flags); NAS_E_RANGE (DROP_LAST with
 *         fewer samples than batch_size: an epoch would have no batch); NAS_E_NOMEM. Message in the
 *         context of ds.
 */
nas_status_t nas__loader_create(nas__loader_t **out, const nas_dataset_t *ds, uint32_t batch_size, uint32_t flags,
                                uint64_t seed);

/*
 * Start epoch `epoch` (any order, any number of times): with SHUFFLE the samples are permuted by a
 * generator of stream `epoch` under the seed, which also draws the augmentation of the whole epoch.
 * Allocates that generator (NAS_E_NOMEM leaves the loader at its previous position).
 */
nas_status_t nas__loader_start_epoch(nas__loader_t *l, uint64_t epoch);

/*
 * Fill the next batch: images holds batch_size * C*H*W floats (NCHW), labels batch_size entries;
 * *count gets the number of samples written (batch_size, or fewer for the last batch of an epoch
 * without DROP_LAST). At the end of the epoch: NAS_E_EXHAUSTED with *count = 0 (again on every call
 * until start_epoch). Never allocates. NAS_E_INVAL for NULL arguments.
 */
nas_status_t nas__loader_next(nas__loader_t *l, float *images, int32_t *labels, uint32_t *count);

/* Batches in one epoch: ceil(n / batch_size), or floor with DROP_LAST. */
uint64_t nas__loader_batches_per_epoch(const nas__loader_t *l);

/* Samples in one epoch (including dropped ones). */
uint64_t nas__loader_num_samples(const nas__loader_t *l);

/* Last message of a failing call on the loader; never NULL. */
const char *nas__loader_errmsg(const nas__loader_t *l);

/* Destroy; NULL is a no-op. */
void nas__loader_destroy(nas__loader_t *l);

#endif /* NAS_DATA_LOADER_H */
