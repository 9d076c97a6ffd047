/*
 * boards/cmdline.c — command-line parsing. One table of options; QEMU's
 * single-dash spellings, and GNU-style double-dash ones for options QEMU
 * does not have. "-opt value" and "-opt=value" are both accepted.
 */
#include "boards/cmdline.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "util/log.h"
#include "util/opts.h"
#include "util/qmp_server.h"

enum opt_id {
    OPT_MACHINE, OPT_MEM, OPT_SMP, OPT_BIOS, OPT_KERNEL, OPT_INITRD,
    OPT_APPEND, OPT_DUMP_DTB, OPT_NO_REBOOT, OPT_STATS, OPT_LOG,
    OPT_NOGRAPHIC, OPT_HELP, OPT_VERSION, OPT_DRIVE, OPT_OBJECT, OPT_QMP,
    OPT_STATS_JSON, OPT_STALL_THRESHOLD, OPT_STALL_FAIL, OPT_X_NO_VCPU_WAKE,
    OPT_X_NO_IOSTATS,
};

struct opt_def {
    const char *name;         /* without leading dashes */
    enum opt_id id;
    bool has_arg;
};

static const struct opt_def opt_table[] = {
    { "M", OPT_MACHINE, true },       { "machine", OPT_MACHINE, true },
    { "m", OPT_MEM, true },           { "smp", OPT_SMP, true },
    { "bios", OPT_BIOS, true },       { "kernel", OPT_KERNEL, true },
    { "initrd", OPT_INITRD, true },   { "append", OPT_APPEND, true },
    { "dump-dtb", OPT_DUMP_DTB, true },
    { "no-reboot", OPT_NO_REBOOT, false },
    { "stats", OPT_STATS, false },    { "log", OPT_LOG, true },
    { "nographic", OPT_NOGRAPHIC, false },
    { "h", OPT_HELP, false },         { "help", OPT_HELP, false },
    { "version", OPT_VERSION, false },
    { "drive", OPT_DRIVE, true },     { "object", OPT_OBJECT, true },
    { "qmp", OPT_QMP, true },
    { "stats-json", OPT_STATS_JSON, true },
    { "stall-threshold", OPT_STALL_THRESHOLD, true },
    { "stall-fail", OPT_STALL_FAIL, false },
    { "x-no-vcpu-wake", OPT_X_NO_VCPU_WAKE, false },
    { "x-no-iostats", OPT_X_NO_IOSTATS, false },
};

const char *cmdline_usage(void)
{
    return
"Usage: blkemu [options]\n"
"\n"
"Machine:\n"
"  -M, -machine virt      the board (only 'virt', QEMU's memory map)\n"
"  -m SIZE                guest RAM; a bare number is MiB, or use K/M/G\n"
"                         (default 128M, minimum 16M)\n"
"  -smp N                 number of harts, 1.." "8" " (default 1; also cpus=N)\n"
"\n"
"Boot:\n"
"  -bios FILE|none        M-mode firmware (default: Debian's OpenSBI\n"
"                         " DEFAULT_BIOS ")\n"
"                         'none': -kernel is an ELF (or Image) run in M-mode\n"
"  -kernel FILE           a RISC-V Linux Image (or, with -bios none, an ELF)\n"
"  -initrd FILE           initial ramdisk\n"
"  -append STRING         kernel command line\n"
"  -no-reboot             exit (status 0) when the guest reboots\n"
"\n"
"Disks (see docs/devices.md):\n"
"  -drive file=PATH[,if=virtio][,format=raw][,aio=io_uring|native|threads]\n"
"         [,cache=none|writeback][,readonly=on][,num-queues=N][,serial=STR]\n"
"         [,iothread=ID[:ID...]]\n"
"                         a virtio-blk PCI disk (repeatable; slots 00:01.0,\n"
"                         00:02.0, ...). Defaults: aio=io_uring, cache=none,\n"
"                         one queue per hart, the default iothread; an\n"
"                         image without format= is raw (never probed)\n"
"  -object iothread,id=ID[,poll-max-ns=N]\n"
"                         an I/O thread for iothread=ID; it busy-polls up\n"
"                         to N ns (default 32000, 0: never) before sleeping\n"
"\n"
"Control (see docs/qmp.md):\n"
"  -qmp unix:PATH,server=on,wait=off\n"
"                         a QMP control socket (also spelled server,nowait;\n"
"                         wait=on, the default, starts the guest only once\n"
"                         a client has connected)\n"
"\n"
"Diagnostics:\n"
"  --dump-dtb FILE        write the generated device tree blob and exit\n"
"  --stats                print instructions and MIPS per hart, the disks'\n"
"                         counters and a latency line per drive at exit\n"
"  --stats-json FILE      write the statistics as JSON to FILE at exit\n"
"                         (atomically: FILE.tmp, then rename; docs/latency.md)\n"
"  --stall-threshold DURATION\n"
"                         warn when a request waits longer than this between\n"
"                         the guest's doorbell and host submission (default\n"
"                         10ms; e.g. 500us, 1s; 0 or off disables)\n"
"  --stall-fail           exit status 2 at the end if any stall happened\n"
"                         (unless the guest chose a non-zero status)\n"
"  --x-no-vcpu-wake       reproduce seed 003: doorbells from vCPU threads do\n"
"                         not wake the disks' iothreads, which then poll\n"
"                         every 499 ms as QEMU did (for testing the detector)\n"
"  --x-no-iostats         turn the per-queue statistics and the stall\n"
"                         detector off (to measure what they cost)\n"
"  --log LEVEL            error, warning (default), info or debug\n"
"  -nographic             accepted for QEMU compatibility (always serial)\n"
"  -h, --help             this text\n"
"  --version              print the version\n"
"\n"
"Console: the guest's serial port is on stdin/stdout. Ctrl-A x quits,\n"
"Ctrl-A h shows the escapes.\n"
"Exit status: 0 on guest poweroff, the test device's code on failure,\n"
"1 on errors, 2 with --stall-fail after a stall.\n";
}

static bool parse_smp(const char *v, unsigned *out)
{
    uint64_t n;
    if (!strncmp(v, "cpus=", 5))
        v += 5;
    if (!opts_parse_uint(v, 1, HART_MAX, &n))
        return false;
    *out = (unsigned)n;
    return true;
}

static bool parse_log_level(const char *v, int *out)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(v, names[i])) {
            *out = i;
            return true;
        }
    return false;
}

/* Apply one option; false with err set on a bad value. */
static bool apply(struct blkemu_config *cfg, enum opt_id id, const char *name,
                  const char *v, char *err, size_t errlen)
{
    switch (id) {
    case OPT_MACHINE:
        if (strcmp(v, "virt") && strncmp(v, "virt,", 5) && strcmp(v, "type=virt")) {
            snprintf(err, errlen, "-%s '%s': unknown machine (supported: virt)", name, v);
            return false;
        }
        cfg->machine = "virt";
        return true;
    case OPT_MEM: {
        const char *s = strncmp(v, "size=", 5) ? v : v + 5;
        uint64_t sz;
        if (!opts_parse_size(s, 1ull << 20, &sz)) {
            snprintf(err, errlen, "-m '%s': not a size (examples: 512, 512M, 2G)", v);
            return false;
        }
        if (sz < MIN_RAM_SIZE) {
            snprintf(err, errlen, "-m '%s': below the minimum of %llu MiB", v,
                     MIN_RAM_SIZE >> 20);
            return false;
        }
        uint64_t host = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
        if (sz > host) {
            snprintf(err, errlen, "-m '%s': more than the host's %llu MiB of memory",
                     v, (unsigned long long)(host >> 20));
            return false;
        }
        cfg->ram_size = (sz + 4095) & ~4095ull;
        return true;
    }
    case OPT_SMP:
        if (!parse_smp(v, &cfg->smp)) {
            snprintf(err, errlen, "-smp '%s': must be a number of harts from 1 to %d", v, HART_MAX);
            return false;
        }
        return true;
    case OPT_BIOS:
        cfg->bios_none = !strcmp(v, "none");
        cfg->bios = cfg->bios_none ? NULL : v;
        return true;
    case OPT_KERNEL: cfg->kernel = v; return true;
    case OPT_INITRD: cfg->initrd = v; return true;
    case OPT_APPEND: cfg->append = v; return true;
    case OPT_DUMP_DTB: cfg->dump_dtb = v; return true;
    case OPT_NO_REBOOT: cfg->no_reboot = true; return true;
    case OPT_STATS: cfg->stats = true; return true;
    case OPT_LOG:
        if (!parse_log_level(v, &cfg->log_level)) {
            snprintf(err, errlen, "--log '%s': expected error, warning, info or debug", v);
            return false;
        }
        return true;
    case OPT_NOGRAPHIC: return true;
    case OPT_STATS_JSON:
        if (!*v) {
            snprintf(err, errlen, "--stats-json: needs a file name");
            return false;
        }
        cfg->stats_json = v;
        return true;
    case OPT_STALL_THRESHOLD:
        if (!strcmp(v, "off")) {
            cfg->stall_threshold_ns = 0;
            return true;
        }
        if (!opts_parse_duration(v, MAX_STALL_THRESHOLD_NS,
                                 &cfg->stall_threshold_ns)) {
            snprintf(err, errlen, "--stall-threshold '%s': expected a "
                     "duration up to 1 hour with a unit (10ms, 500us, 1s), "
                     "or 0 or off", v);
            return false;
        }
        return true;
    case OPT_STALL_FAIL: cfg->stall_fail = true; return true;
    case OPT_X_NO_VCPU_WAKE: cfg->x_no_vcpu_wake = true; return true;
    case OPT_X_NO_IOSTATS: cfg->x_no_iostats = true; return true;
    case OPT_HELP: cfg->help = true; return true;
    case OPT_VERSION: cfg->version = true; return true;
    case OPT_DRIVE:
        if (cfg->ndrives == BLKEMU_MAX_DRIVES) {
            snprintf(err, errlen, "-drive: at most %d drives", BLKEMU_MAX_DRIVES);
            return false;
        }
        cfg->drives[cfg->ndrives++] = v;
        return true;
    case OPT_QMP: {
        struct qmp_addr a;
        if (cfg->qmp) {
            snprintf(err, errlen, "-qmp: only one control socket");
            return false;
        }
        if (!qmp_addr_parse(v, &a, err, errlen))
            return false;
        cfg->qmp = v;
        return true;
    }
    case OPT_OBJECT:
        if (cfg->nobjects == BLKEMU_MAX_OBJECTS) {
            snprintf(err, errlen, "-object: at most %d objects", BLKEMU_MAX_OBJECTS);
            return false;
        }
        cfg->objects[cfg->nobjects++] = v;
        return true;
    }
    return false;
}

bool cmdline_parse(int argc, char **argv, struct blkemu_config *cfg,
                   char *err, size_t errlen)
{
    *cfg = (struct blkemu_config){
        .machine = "virt", .ram_size = DEFAULT_RAM_SIZE, .smp = 1,
        .log_level = -1, .stall_threshold_ns = DEFAULT_STALL_THRESHOLD_NS,
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            snprintf(err, errlen, "unexpected argument '%s' (see --help)", a);
            return false;
        }
        const char *name = a + 1 + (a[1] == '-');
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt_def *o = NULL;
        for (size_t k = 0; k < sizeof(opt_table) / sizeof(opt_table[0]); k++)
            if (strlen(opt_table[k].name) == nlen && !strncmp(opt_table[k].name, name, nlen)) {
                o = &opt_table[k];
                break;
            }
        if (!o) {
            snprintf(err, errlen, "unknown option '%s' (see --help)", a);
            return false;
        }
        const char *v = NULL;
        if (o->has_arg) {
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else {
                snprintf(err, errlen, "option '%s' needs a value", a);
                return false;
            }
        } else if (eq) {
            snprintf(err, errlen, "option '-%.*s' takes no value", (int)nlen, name);
            return false;
        }
        char oname[32];
        snprintf(oname, sizeof(oname), "%.*s", (int)nlen, name);
        if (!apply(cfg, o->id, oname, v, err, errlen))
            return false;
    }
    return true;
}
