/* libnas: Neural Architecture Search as an embeddable C library. Umbrella header. */
#ifndef LIBNAS_NAS_H
#define LIBNAS_NAS_H

#include "version.h"
#include "core.h"
#include "space.h"
#include "search.h"
#include "plugin.h"
#include "experiment.h"
#include "data.h"
#include "model.h"

#endif /* LIBNAS_NAS_H */
