/*
 * boards/virt_qmp_int.h — what boards/virt_qmp.c (run state, the socket)
 * and boards/virt_qmp_block.c (the drives' commands) share.
 */
#ifndef BOARDS_VIRT_QMP_INT_H
#define BOARDS_VIRT_QMP_INT_H

#include <stdbool.h>

#include "util/qmp.h"

struct machine;
struct qmp_server;
struct virt;

/* Who asked for the exit being handled, for the events' "reason". */
enum vqmp_cause { CAUSE_NONE = 0, CAUSE_QMP_QUIT, CAUSE_QMP_RESET };

struct virt_qmp {
    struct virt *v;
    struct machine *m;
    struct qmp proto;
    struct qmp_server *srv;     /* NULL without a socket */
    bool waiting;               /* wait=on: harts held until a client comes */
    enum vqmp_cause cause;
};

/* The drives' commands (opaque: the struct virt_qmp). */
qmp_handler vqmp_query_block, vqmp_query_blockstats, vqmp_query_latency,
    vqmp_inject, vqmp_set_stall;
extern const struct qmp_arg vqmp_blockstats_args[], vqmp_latency_args[],
    vqmp_inject_args[], vqmp_stall_args[];

#endif
