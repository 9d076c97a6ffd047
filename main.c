/*
 * main.c — blkemu's entry: parse the command line, build the board, load
 * the boot images, run the harts on their threads and the main loop on this
 * one until the guest powers off, fails, or the user quits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boards/cmdline.h"
#include "boards/stats_json.h"
#include "boards/virt.h"
#include "boards/virt_qmp.h"
#include "hw/iostats.h"
#include "util/clock.h"
#include "util/console.h"
#include "util/log.h"
#include "util/loop.h"

#ifndef BLKEMU_VERSION
#define BLKEMU_VERSION "0.1"
#endif

static struct loop *main_loop;

/* machine_request_exit() may run on any thread: wake the main loop. */
static void main_exit_notify(struct machine *m)
{
    loop_quit(main_loop);
}

static void main_quit(void *opaque)
{
    machine_request_exit(opaque, MACHINE_QUIT, 0);
}

static bool write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(buf, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static void print_stats(struct machine *m, uint64_t ns)
{
    double secs = (double)ns / 1e9;
    uint64_t total = 0;
    for (unsigned i = 0; i < m->nharts; i++) {
        uint64_t n = hart_instret(m->harts[i]);
        total += n;
        fprintf(stderr, "blkemu: stats: hart%u %llu instructions, %.1f MIPS\r\n", i,
                (unsigned long long)n, secs > 0 ? (double)n / secs / 1e6 : 0.0);
    }
    fprintf(stderr, "blkemu: stats: total %llu instructions in %.3f s, %.1f MIPS\r\n",
            (unsigned long long)total, secs, secs > 0 ? (double)total / secs / 1e6 : 0.0);
}

/* Exit status for how the machine stopped (QEMU's conventions). */
static int exit_status(struct machine *m)
{
    switch (atomic_load(&m->exit_reason)) {
    case MACHINE_FAIL: return m->exit_code;
    case MACHINE_FATAL: return 1;
    default: return 0;
    }
}

int main(int argc, char **argv)
{
    struct blkemu_config cfg;
    char err[512];
    if (!cmdline_parse(argc, argv, &cfg, err, sizeof(err))) {
        fprintf(stderr, "blkemu: %s\n", err);
        return 1;
    }
    if (cfg.help) {
        fputs(cmdline_usage(), stdout);
        return 0;
    }
    if (cfg.version) {
        printf("blkemu %s\n", BLKEMU_VERSION);
        return 0;
    }
    if (cfg.stats_json && !stats_json_check_path(cfg.stats_json, err,
                                                 sizeof(err))) {
        fprintf(stderr, "blkemu: %s\n", err);
        return 1;
    }
    if (cfg.log_level >= 0)
        log_set_level((enum log_level)cfg.log_level);
    else if (getenv("BLKEMU_LOG"))
        log_set_level(LOG_DEBUG);

    struct virt *v = virt_create(&cfg, err, sizeof(err));
    if (!v || !virt_boot(v, err, sizeof(err))) {
        fprintf(stderr, "blkemu: %s\n", err);
        virt_destroy(v);
        return 1;
    }
    struct machine *m = virt_machine(v);
    if (cfg.dump_dtb) {
        size_t size;
        const void *fdt = virt_fdt(v, &size);
        int rc = 0;
        if (!write_file(cfg.dump_dtb, fdt, size)) {
            fprintf(stderr, "blkemu: cannot write '%s'\n", cfg.dump_dtb);
            rc = 1;
        }
        virt_destroy(v);
        return rc;
    }

    main_loop = loop_new();
    if (!main_loop) {
        fprintf(stderr, "blkemu: cannot create the main loop\n");
        virt_destroy(v);
        return 1;
    }
    struct virt_qmp *qmp = NULL;
    if (cfg.qmp && !(qmp = virt_qmp_new(v, main_loop, cfg.qmp, err, sizeof(err)))) {
        fprintf(stderr, "blkemu: %s\n", err);
        virt_destroy(v);
        loop_free(main_loop);
        return 1;
    }
    m->exit_notify = main_exit_notify;
    struct console_ops cops = { .sink = virt_console_input, .quit = main_quit,
                                .opaque = v };
    struct console *con = console_open(main_loop, STDIN_FILENO, STDOUT_FILENO, &cops);
    if (!con) {
        fprintf(stderr, "blkemu: cannot open the console\n");
        virt_qmp_free(qmp);
        virt_destroy(v);
        return 1;
    }
    virt_attach_console(v, con);

    uint64_t t0 = clock_ns();
    for (;;) {
        if (!virt_start(v, err, sizeof(err))) {
            log_error("%s", err);
            machine_request_exit(m, MACHINE_FATAL, 1);
            break;
        }
        loop_run(main_loop);
        virt_stop(v);
        bool reboot = atomic_load(&m->exit_reason) == MACHINE_RESET && !cfg.no_reboot;
        virt_qmp_stopped(qmp, reboot);
        if (!reboot)
            break;
        log_info("guest reboot");
        virt_reset(v);
        if (!virt_boot(v, err, sizeof(err))) {
            log_error("%s", err);
            machine_request_exit(m, MACHINE_FATAL, 1);
            break;
        }
    }
    uint64_t elapsed = clock_ns() - t0;
    int status = exit_status(m);
    console_close(con);
    uint64_t stalls = iostats_total_stalls(m->iostats);
    if (cfg.stall_fail && stalls && status == 0) {
        status = STALL_FAIL_STATUS;
        fprintf(stderr, "blkemu: %llu stalled requests: exit status %d "
                "(--stall-fail)\n", (unsigned long long)stalls, status);
    }
    if (cfg.stats) {
        print_stats(m, elapsed);
        virt_print_device_stats(v);
        iostats_print(m->iostats);
    }
    if (cfg.stats_json &&
        !stats_json_write(cfg.stats_json, m, elapsed, status, err,
                          sizeof(err))) {
        fprintf(stderr, "blkemu: %s\n", err);
        if (status == 0)
            status = 1;
    }
    virt_qmp_free(qmp);
    virt_destroy(v);
    loop_free(main_loop);
    return status;
}
