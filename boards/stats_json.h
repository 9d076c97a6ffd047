/*
 * boards/stats_json.h — --stats-json FILE: the run's statistics (harts,
 * drives, queues, phase latencies, stalls) as one JSON document written
 * atomically at exit. Schema: docs/latency.md.
 */
#ifndef BOARDS_STATS_JSON_H
#define BOARDS_STATS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;

/* At start: can FILE be written (its directory exists and is writable,
 * FILE is not a directory)? False with one line in err. */
bool stats_json_check_path(const char *path, char *err, size_t errlen);

/* Write the document to path.tmp in the same directory, fsync it, rename
 * it over path. False with one line in err (path.tmp removed). */
bool stats_json_write(const char *path, struct machine *m, uint64_t elapsed_ns,
                      int exit_status, char *err, size_t errlen);

#endif
