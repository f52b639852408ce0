/*
 * run-metrics.h - a model run in the DESIGN.md metric vocabulary (struct
 * fl_metrics, the same the reconstruction fills) and as JSON.
 *
 * Kept apart from model.h because report/metrics.h brings in the decoder's
 * struct fl_event / struct fl_io, whose names the engine uses too.
 */
#ifndef FL_REPLAY_RUN_METRICS_H
#define FL_REPLAY_RUN_METRICS_H

#include "replay/model.h"
#include "report/metrics.h"

/* Fills m from the run (tgid 0: the whole run). */
void fl_model_metrics(const struct fl_model_run *r, struct fl_metrics *m);
/* {"id": id, "policy": ..., "arch": ..., "kernel": ..., "seed": ..., "metrics": {...},
 *  "retry_window": {...}, "model": {...}} */
void fl_model_run_json(const struct fl_model_run *r, int64_t id, struct fl_buf *out);

#endif
