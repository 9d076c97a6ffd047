/*
 * boards/cmdline.h — the command line, spelled as QEMU users expect.
 */
#ifndef BOARDS_CMDLINE_H
#define BOARDS_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEFAULT_BIOS "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
#define DEFAULT_RAM_SIZE (128ull << 20)   /* QEMU's default for virt */
#define MIN_RAM_SIZE (16ull << 20)
#define BLKEMU_MAX_DRIVES 16      /* PCI slots 1..16 */
#define BLKEMU_MAX_OBJECTS 16
#define DEFAULT_STALL_THRESHOLD_NS 10000000ull    /* 10 ms */
#define MAX_STALL_THRESHOLD_NS (3600ull * 1000000000ull)
/* Exit status of --stall-fail when a stall happened and the guest did not
 * choose a status of its own. */
#define STALL_FAIL_STATUS 2

struct blkemu_config {
    const char *machine;      /* -M: only "virt" */
    uint64_t ram_size;        /* -m, bytes */
    unsigned smp;             /* -smp */
    const char *bios;         /* -bios FILE, or NULL for the default */
    bool bios_none;           /* -bios none */
    const char *kernel;       /* -kernel */
    const char *initrd;       /* -initrd */
    const char *append;       /* -append */
    const char *dump_dtb;     /* --dump-dtb FILE */
    bool no_reboot;           /* -no-reboot */
    bool stats;               /* --stats */
    const char *qmp;          /* -qmp unix:PATH,server[,nowait] */
    const char *stats_json;   /* --stats-json FILE */
    uint64_t stall_threshold_ns;  /* --stall-threshold; 0: off */
    bool stall_fail;          /* --stall-fail */
    bool x_no_vcpu_wake;      /* --x-no-vcpu-wake (seed 003 on purpose) */
    bool x_no_iostats;        /* --x-no-iostats (measure their cost) */
    int log_level;            /* --log LEVEL; -1 = default */
    bool help, version;
    /* -drive and -object, raw (parsed by hw/drive.c when the board is
     * built). */
    const char *drives[BLKEMU_MAX_DRIVES];
    unsigned ndrives;
    const char *objects[BLKEMU_MAX_OBJECTS];
    unsigned nobjects;
};

/* Parse argv into cfg (defaults first). On error returns false with a
 * one-line message in err (no trailing newline). --help/--version set
 * cfg->help / cfg->version and return true. Checks syntax and ranges only;
 * files are checked when they are loaded. */
bool cmdline_parse(int argc, char **argv, struct blkemu_config *cfg,
                   char *err, size_t errlen);

/* The --help text. */
const char *cmdline_usage(void);

#endif
