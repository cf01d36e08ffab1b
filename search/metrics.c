/* metrics.c — confusion-matrix segmentation metrics (trainer.h), the
 * usual definitions: pixel accuracy over counted pixels; IoU per class
 * TP / (TP + FP + FN); mIoU averaged over the classes that occur in the
 * truth or the prediction (a class absent from both has no IoU).
 */
#include "search/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool srch_metrics_init(SegMetrics *m, int classes, Diag *d)
{
    memset(m, 0, sizeof *m);
    m->classes = classes;
    m->confusion = calloc((size_t)classes * (size_t)classes, sizeof *m->confusion);
    if (!m->confusion)
        diag_error(d, (Loc){0}, "out of memory");
    return m->confusion != NULL;
}

void srch_metrics_free(SegMetrics *m)
{
    free(m->confusion);
    m->confusion = NULL;
}

void srch_metrics_reset(SegMetrics *m)
{
    memset(m->confusion, 0, sizeof *m->confusion * (size_t)m->classes * (size_t)m->classes);
    m->loss_sum = 0, m->loss_pixels = 0;
}

void srch_metrics_add(SegMetrics *m, const uint8_t *truth, const uint8_t *pred, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (truth[i] < m->classes && pred[i] < m->classes)
            m->confusion[truth[i] * m->classes + pred[i]]++;
}

double srch_pixel_accuracy(const SegMetrics *m)
{
    int64_t right = 0, all = 0;
    for (int t = 0; t < m->classes; t++)
        for (int p = 0; p < m->classes; p++) {
            all += m->confusion[t * m->classes + p];
            right += t == p ? m->confusion[t * m->classes + p] : 0;
        }
    return all ? (double)right / (double)all : 0;
}

double srch_class_iou(const SegMetrics *m, int k)
{
    int64_t tp = m->confusion[k * m->classes + k], fp = 0, fn = 0;
    for (int j = 0; j < m->classes; j++)
        if (j != k) {
            fn += m->confusion[k * m->classes + j];
            fp += m->confusion[j * m->classes + k];
        }
    int64_t uni = tp + fp + fn;
    return uni ? (double)tp / (double)uni : NAN;
}

double srch_miou(const SegMetrics *m)
{
    double sum = 0;
    int n = 0;
    for (int k = 0; k < m->classes; k++) {
        double iou = srch_class_iou(m, k);
        if (!isnan(iou))
            sum += iou, n++;
    }
    return n ? sum / n : 0;
}
