/*
 * store.h - model runs into the database (db/schema.sql, section "replay"):
 * replay_run, metric, replay_fault.
 */
#ifndef FL_REPLAY_STORE_H
#define FL_REPLAY_STORE_H

#include "common/fl.h"
#include "replay/model.h"

struct sqlite3;

/* Creates the replay section's tables if the database predates them. */
int fl_replay_store_init(struct sqlite3 *db, struct fl_err *err);
/* Stores one run of capture (its own transaction unless one is open); *id = replay_run.id. */
int fl_replay_store_run(struct sqlite3 *db, int64_t capture, const struct fl_model_run *r,
			const struct fl_model_input *in, uint64_t elapsed_ns, int64_t *id,
			struct fl_err *err);

#endif
