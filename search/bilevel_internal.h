/* bilevel_internal.h — a look inside search_run for tests
 * (tests/search/test_bilevel.c), not part of the search API.
 */
#ifndef NASC_SEARCH_BILEVEL_INTERNAL_H
#define NASC_SEARCH_BILEVEL_INTERNAL_H

#include "search/bilevel.h"

/* The architecture gradient that search_run's step `step` of `epoch` hands
 * to Adam (first or second order as o says; lr is the weights' learning
 * rate, DARTS's xi), from the net's current params, with the SGD momentum
 * buffers set to velocity[value id] (numel floats; velocity or an entry may
 * be NULL: zero, as before the first step). grads[k] (numel of net->arch[k])
 * receives d/d arch[k]; *loss the arch batch's loss. Params are unchanged
 * on return; running statistics move as in a search step. False after
 * reporting to d. */
bool search_arch_grad(SuperNet *net, const BatchSource *src, const SearchOptions *o, int epoch,
                      int64_t step, float lr, const float *const *velocity, float **grads,
                      double *loss, Diag *d);

#endif
