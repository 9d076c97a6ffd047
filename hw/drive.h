/*
 * hw/drive.h — parsing `-drive` and `-object iothread` option strings.
 *
 *   -drive file=PATH[,if=virtio][,format=raw][,aio=io_uring|native|threads]
 *          [,cache=none|writeback][,readonly=on|off][,num-queues=N]
 *          [,serial=STR][,iothread=ID[:ID...]][,id=NAME][,inject=RULES]...
 *   -drive file=PATH,if=ahci[,format,aio,cache,readonly,serial,id][,port=N]
 *          [,iothread=ID][,inject=RULES]...
 *   -object iothread,id=ID[,poll-max-ns=N]
 *
 * QEMU's syntax: comma-separated key=value pairs, ",," is a literal comma
 * inside a value (file names). Defaults: if=virtio, aio=io_uring,
 * cache=none, readonly=off, num-queues = one per hart (QEMU's default),
 * the default iothread. `format` is raw; when it is absent the image is
 * taken as raw — never probed (STYLE.md: a raw image can be made to look
 * like anything). if=ahci puts the disk on a port (0-5) of the one AHCI
 * controller: port=N, or the lowest free port; num-queues does not apply
 * and one iothread serves the port.
 *
 * inject=RULES (block/inject.h, docs/inject.md) may be repeated; the rules
 * of all of them form the drive's rule set, in order.
 *
 * Only syntax and values are checked here; the image itself is checked
 * when it is opened (blk_open's messages).
 */
#ifndef HW_DRIVE_H
#define HW_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"

#define DRIVE_MAX_IOTHREADS 16
#define DRIVE_ID_MAX 32

enum drive_if { DRIVE_IF_VIRTIO = 0, DRIVE_IF_AHCI };

#define DRIVE_AHCI_PORTS 6

struct drive_opts {
    char *file;                 /* owned */
    char *id;                   /* owned, or NULL */
    enum drive_if iface;
    struct blk_opts blk;        /* blk.file points at `file` */
    bool format_given;
    unsigned num_queues;        /* 0: one per hart */
    char *serial;               /* owned, or NULL; at most 20 bytes */
    char *iothreads[DRIVE_MAX_IOTHREADS];   /* owned ids, or none */
    unsigned n_iothreads;
    int port;                   /* if=ahci: port=N, or -1 */
    char *inject;               /* owned: the inject= rules joined by ';' */
    /* blk.inject: the parsed rule set (one reference, owned), or NULL. */
};

/* Parse one -drive value. False with a one-line message in err (which
 * names the offending key) on any error; *d is then empty. */
bool drive_parse(const char *spec, struct drive_opts *d, char *err,
                 size_t errlen);

/* Free what drive_parse() allocated. */
void drive_opts_free(struct drive_opts *d);

/* -object iothread: its id (owned) and how long its loop may busy-poll
 * before sleeping (QEMU's name and default; 0 disables polling). */
struct iothread_opts {
    char *id;
    uint64_t poll_max_ns;
};

/* Parse one -object value; only "iothread,id=ID[,poll-max-ns=N]" exists.
 * On success o->id is malloc'd. False with a one-line message otherwise. */
bool drive_parse_iothread(const char *spec, struct iothread_opts *o,
                          char *err, size_t errlen);

/* The same, for callers that only want the id (*id malloc'd). */
bool drive_parse_object(const char *spec, char **id, char *err,
                        size_t errlen);

/* True if `id` is a valid iothread/drive id: 1..DRIVE_ID_MAX of
 * [A-Za-z0-9_.-], starting with a letter. */
bool drive_id_valid(const char *id);

#endif
