/* The "source" object of a report: what was analysed and where its bytes came from. */
#ifndef LINEAGE_ANALYSIS_REPORT_SOURCE_H
#define LINEAGE_ANALYSIS_REPORT_SOURCE_H
#include "format/model.h"
#include "lineage.h"
#include "util/arena.h"
#include "util/json.h"

/* For remote models repo, revision, resolved commit, each file's ETag and size, bytes fetched and requests
 * made for this model, checkpoint bytes and the fraction of them read; for local models the path and
 * checkpoint bytes. */
lineage_status remote_describe(const lineage_model *m, arena *a, json_value **out, lineage_error *err);
#endif
