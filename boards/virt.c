/*
 * boards/virt.c — the `virt` machine: RAM, the device table, boot placement
 * and the hart threads. Memory map and placement rules follow QEMU's
 * hw/riscv/virt.c and hw/riscv/boot.c so that firmware built for QEMU runs.
 */
#include "boards/virt.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boards/virt_pci.h"
#include "firmware/boot.h"
#include "firmware/load.h"
#include "hw/clint.h"
#include "hw/iostats.h"
#include "hw/pci_host.h"
#include "hw/plic.h"
#include "hw/sifive_test.h"
#include "hw/uart.h"
#include "util/clock.h"
#include "util/console.h"
#include "util/log.h"
#include "util/loop.h"

#define MiB (1ull << 20)
#define FDT_MAX_SIZE (64 * 1024)

struct virt {
    struct machine m;
    struct blkemu_config cfg;
    struct boot_rom rom;
    struct clint *clint;
    struct plic *plic;
    struct uart *uart;
    struct sifive_test *test;
    struct virt_pci *pci;       /* PCIe host, iothreads, disks */
    struct virt_boot boot;
    uint8_t fdt[FDT_MAX_SIZE];
    size_t fdt_size;
    struct console *console;
    pthread_t threads[HART_MAX];
    bool running;
};

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

struct machine *virt_machine(struct virt *v) { return &v->m; }

struct virt_pci *virt_get_pci(struct virt *v) { return v->pci; }

static void virt_uart_rx_ready(void *opaque)
{
    struct virt *v = opaque;
    if (v->console)
        console_resume(v->console);
}

void virt_attach_console(struct virt *v, struct console *c)
{
    v->console = c;
    uart_set_rx_ready(v->uart, virt_uart_rx_ready, v);
}

size_t virt_console_input(void *opaque, const uint8_t *buf, size_t len)
{
    struct virt *v = opaque;
    return uart_receive(v->uart, buf, len);
}

const void *virt_fdt(struct virt *v, size_t *size)
{
    *size = v->fdt_size;
    return v->fdt;
}

/* The UART's transmitter writes straight to the console. */
static void virt_uart_tx(void *opaque, const uint8_t *buf, size_t len)
{
    struct virt *v = opaque;
    if (v->console)
        console_write(v->console, buf, len);
}

/* Every device the board has, in one table (STYLE.md habit 8). */
static bool virt_map_devices(struct virt *v, char *err, size_t errlen)
{
    const struct {
        const char *name;
        uint64_t base, size;
        const struct mmio_ops *ops;
        void *opaque;
    } map[] = {
        { "mrom", VIRT_MROM_BASE, VIRT_MROM_SIZE, &boot_rom_mmio_ops, &v->rom },
        { "test", VIRT_TEST_BASE, VIRT_TEST_SIZE, &sifive_test_mmio_ops, v->test },
        { "clint", VIRT_CLINT_BASE, VIRT_CLINT_SIZE, &clint_mmio_ops, v->clint },
        { "plic", VIRT_PLIC_BASE, VIRT_PLIC_SIZE, &plic_mmio_ops, v->plic },
        { "uart0", VIRT_UART0_BASE, VIRT_UART0_SIZE, &uart_mmio_ops, v->uart },
        { "pcie-ecam", VIRT_PCIE_ECAM_BASE, VIRT_PCIE_ECAM_SIZE, &pci_ecam_ops,
          virt_pci_host(v->pci) },
        { "pcie-pio", VIRT_PCIE_PIO_BASE, VIRT_PCIE_PIO_SIZE, &pci_window_ops,
          pci_host_window(virt_pci_host(v->pci), PCI_WIN_PIO) },
        { "pcie-mmio", VIRT_PCIE_MMIO_BASE, VIRT_PCIE_MMIO_SIZE, &pci_window_ops,
          pci_host_window(virt_pci_host(v->pci), PCI_WIN_MMIO32) },
        { "pcie-mmio64", virt_pcie_mmio64_base(v->cfg.ram_size),
          VIRT_PCIE_MMIO64_SIZE, &pci_window_ops,
          pci_host_window(virt_pci_host(v->pci), PCI_WIN_MMIO64) },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!bus_add(&v->m.bus, map[i].base, map[i].size, map[i].ops,
                     map[i].opaque, map[i].name)) {
            snprintf(err, errlen, "board: cannot map %s at 0x%llx", map[i].name,
                     (unsigned long long)map[i].base);
            return false;
        }
    return true;
}

struct virt *virt_create(const struct blkemu_config *cfg, char *err, size_t errlen)
{
    struct virt *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->cfg = *cfg;
    struct machine *m = &v->m;
    m->board = v;
    m->ram_base = VIRT_DRAM_BASE;
    m->ram_size = cfg->ram_size;
    m->ram = mmap(NULL, cfg->ram_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m->ram == MAP_FAILED) {
        snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM: %s",
                 (unsigned long long)(cfg->ram_size >> 20), strerror(errno));
        free(v);
        return NULL;
    }
    madvise(m->ram, cfg->ram_size, MADV_HUGEPAGE);
    clock_timebase_init();

    m->nharts = cfg->smp;
    for (unsigned i = 0; i < cfg->smp; i++) {
        m->harts[i] = hart_create(m, i);
        if (!m->harts[i]) {
            snprintf(err, errlen, "cannot create hart %u", i);
            virt_destroy(v);
            return NULL;
        }
    }
    v->clint = clint_new(m);
    v->plic = plic_new(m, VIRT_PLIC_NSOURCES);
    v->test = sifive_test_new(m);
    struct irq_line uart_irq = { plic_set_irq, v->plic, VIRT_UART0_IRQ };
    v->uart = uart_new(uart_irq, virt_uart_tx, v);
    if (!v->clint || !v->plic || !v->test || !v->uart) {
        snprintf(err, errlen, "cannot create the board's devices");
        virt_destroy(v);
        return NULL;
    }
    m->iostats = iostats_new(cfg->stall_threshold_ns);
    if (!m->iostats) {
        snprintf(err, errlen, "out of memory");
        virt_destroy(v);
        return NULL;
    }
    iostats_set_enabled(m->iostats, !cfg->x_no_iostats);
    v->pci = virt_pci_create(m, v->plic, cfg, err, errlen);
    if (!v->pci) {
        virt_destroy(v);
        return NULL;
    }
    if (!virt_map_devices(v, err, errlen)) {
        virt_destroy(v);
        return NULL;
    }
    return v;
}

void virt_destroy(struct virt *v)
{
    if (!v)
        return;
    virt_stop(v);
    for (unsigned i = 0; i < v->m.nharts; i++)
        if (v->m.harts[i])
            hart_destroy(v->m.harts[i]);
    virt_pci_free(v->pci);    /* before the PLIC its INTx lines drive */
    iostats_free(v->m.iostats);     /* after the drives it lists */
    uart_free(v->uart);
    sifive_test_free(v->test);
    plic_free(v->plic);
    clint_free(v->clint);
    if (v->m.ram && v->m.ram != MAP_FAILED)
        munmap(v->m.ram, v->m.ram_size);
    free(v);
}

/* Firmware: ELF at its addresses, or a raw blob at the start of RAM. */
static bool virt_load_bios(struct virt *v, uint64_t *entry, uint64_t *end,
                           char *err, size_t errlen)
{
    const char *path = v->cfg.bios ? v->cfg.bios : DEFAULT_BIOS;
    struct blob b;
    if (!v->cfg.bios && access(path, R_OK) != 0) {
        snprintf(err, errlen, "default firmware %s not found: install Debian's "
                 "'opensbi' package, or pass -bios FILE (or -bios none)", path);
        return false;
    }
    if (!blob_read("-bios", path, v->m.ram_size, &b, err, errlen))
        return false;
    bool ok;
    if (elf_is_elf(b.data, b.size)) {
        uint64_t lo, hi;
        ok = elf_load(&v->m, b.data, b.size, entry, &lo, &hi, err, errlen);
        *end = hi + 1;
    } else {
        ok = load_blob_at(&v->m, &b, v->m.ram_base, "firmware", err, errlen);
        *entry = v->m.ram_base;
        *end = v->m.ram_base + b.size;
    }
    blob_free(&b);
    return ok;
}

/* The kernel: a RISC-V Image (2 MiB aligned after the firmware), or with
 * -bios none an ELF at its physical addresses. */
static bool virt_load_kernel(struct virt *v, uint64_t fw_end, char *err,
                             size_t errlen)
{
    struct virt_boot *bt = &v->boot;
    struct blob b;
    if (!blob_read("-kernel", v->cfg.kernel, v->m.ram_size, &b, err, errlen))
        return false;
    bool ok;
    if (!v->cfg.bios_none || !elf_is_elf(b.data, b.size)) {
        struct image_info ii;
        char why[200];
        if (!image_parse(b.data, b.size, &ii, why, sizeof(why))) {
            snprintf(err, errlen, "-kernel '%s': %s", v->cfg.kernel, why);
            blob_free(&b);
            return false;
        }
        bt->kernel_start = v->cfg.bios_none ? v->m.ram_base
                           : align_up(fw_end > v->m.ram_base + ii.text_offset
                                      ? fw_end : v->m.ram_base + ii.text_offset, 2 * MiB);
        bt->kernel_size = ii.image_size;
        ok = machine_ram_ptr(&v->m, bt->kernel_start, ii.image_size) != NULL;
        if (!ok)
            snprintf(err, errlen, "-kernel '%s': needs %llu MiB from 0x%llx, more "
                     "than guest RAM has (try a larger -m)", v->cfg.kernel,
                     (unsigned long long)(ii.image_size >> 20),
                     (unsigned long long)bt->kernel_start);
        else
            ok = load_blob_at(&v->m, &b, bt->kernel_start, "kernel", err, errlen);
        if (v->cfg.bios_none)
            bt->entry = bt->kernel_start;
    } else {
        uint64_t lo, hi;
        ok = elf_load(&v->m, b.data, b.size, &bt->entry, &lo, &hi, err, errlen);
        bt->kernel_start = lo;
        bt->kernel_size = hi - lo + 1;
    }
    blob_free(&b);
    return ok;
}

/* The initrd goes 128 MiB (or half of RAM, if less) after the kernel start,
 * as QEMU places it, so the kernel's own growth does not clobber it. */
static bool virt_load_initrd(struct virt *v, char *err, size_t errlen)
{
    struct virt_boot *bt = &v->boot;
    struct blob b;
    if (!blob_read("-initrd", v->cfg.initrd, v->m.ram_size, &b, err, errlen))
        return false;
    uint64_t gap = v->m.ram_size / 2 < 128 * MiB ? v->m.ram_size / 2 : 128 * MiB;
    uint64_t start = align_up(bt->kernel_start + gap, 4096);
    uint64_t min = align_up(bt->kernel_start + bt->kernel_size, 4096);
    if (start < min)
        start = min;
    bt->initrd_start = start;
    bt->initrd_end = start + b.size;
    bool ok = bt->initrd_end <= bt->fdt_addr &&
              machine_ram_ptr(&v->m, start, b.size) != NULL;
    if (!ok)
        snprintf(err, errlen, "-initrd '%s' (%zu bytes) does not fit in guest RAM "
                 "between the kernel and the device tree (try a larger -m)",
                 v->cfg.initrd, b.size);
    else
        ok = load_blob_at(&v->m, &b, start, "initrd", err, errlen);
    blob_free(&b);
    return ok;
}

bool virt_boot(struct virt *v, char *err, size_t errlen)
{
    struct virt_boot *bt = &v->boot;
    *bt = (struct virt_boot){ 0 };
    uint64_t fw_end = v->m.ram_base;

    if (!v->cfg.bios_none) {
        if (!virt_load_bios(v, &bt->entry, &fw_end, err, errlen))
            return false;
    } else if (!v->cfg.kernel) {
        snprintf(err, errlen, "-bios none needs -kernel PROGRAM");
        return false;
    }
    if (v->cfg.kernel) {
        if (!virt_load_kernel(v, fw_end, err, errlen))
            return false;
    } else {
        bt->kernel_start = align_up(fw_end, 2 * MiB);
        if (v->cfg.initrd) {
            snprintf(err, errlen, "-initrd needs -kernel");
            return false;
        }
    }

    /* The device tree sits at the top of RAM below 3 GiB, 2 MiB aligned
     * (QEMU's riscv_compute_fdt_addr). Its final size is known only after
     * generation, so reserve the maximum. */
    uint64_t ram_end = v->m.ram_base + v->m.ram_size;
    uint64_t top = ram_end < 0xc0000000ull ? ram_end : 0xc0000000ull;
    bt->fdt_addr = align_down(top - FDT_MAX_SIZE, 2 * MiB);
    if (bt->fdt_addr < bt->kernel_start + bt->kernel_size) {
        snprintf(err, errlen, "no room for the device tree above the kernel "
                 "(try a larger -m)");
        return false;
    }
    if (v->cfg.initrd && !virt_load_initrd(v, err, errlen))
        return false;

    v->fdt_size = virt_fdt_build(&v->cfg, bt, v->fdt, sizeof(v->fdt), err, errlen);
    if (!v->fdt_size)
        return false;
    memcpy(machine_ram_ptr(&v->m, bt->fdt_addr, v->fdt_size), v->fdt, v->fdt_size);

    uint64_t next = v->cfg.bios_none ? 0 : bt->kernel_start;
    bt->info_addr = boot_rom_fill(&v->rom, VIRT_MROM_BASE, bt->entry,
                                  bt->fdt_addr, next);
    for (unsigned i = 0; i < v->m.nharts; i++)
        hart_reset(v->m.harts[i], bt->entry, i, bt->fdt_addr, bt->info_addr);
    log_info("boot: entry 0x%llx kernel 0x%llx+0x%llx initrd 0x%llx-0x%llx fdt 0x%llx",
             (unsigned long long)bt->entry, (unsigned long long)bt->kernel_start,
             (unsigned long long)bt->kernel_size, (unsigned long long)bt->initrd_start,
             (unsigned long long)bt->initrd_end, (unsigned long long)bt->fdt_addr);
    return true;
}

/* A hart's thread: marked as a vCPU thread for the loops'
 * --x-no-vcpu-wake switch (util/loop.h). */
static void *virt_hart_thread(void *hart)
{
    loop_thread_set_vcpu(true);
    return hart_thread(hart);
}

bool virt_start(struct virt *v, char *err, size_t errlen)
{
    for (unsigned i = 0; i < v->m.nharts; i++) {
        int rc = pthread_create(&v->threads[i], NULL, virt_hart_thread,
                                v->m.harts[i]);
        if (rc) {
            snprintf(err, errlen, "cannot start hart %u's thread: %s", i, strerror(rc));
            for (unsigned k = 0; k < i; k++) {
                hart_stop(v->m.harts[k]);
                pthread_join(v->threads[k], NULL);
            }
            return false;
        }
    }
    v->running = true;
    return true;
}

void virt_stop(struct virt *v)
{
    if (!v->running)
        return;
    for (unsigned i = 0; i < v->m.nharts; i++)
        hart_stop(v->m.harts[i]);
    for (unsigned i = 0; i < v->m.nharts; i++)
        pthread_join(v->threads[i], NULL);
    v->running = false;
}

void virt_print_device_stats(struct virt *v)
{
    virt_pci_print_stats(v->pci);
}

void virt_reset(struct virt *v)
{
    atomic_store(&v->m.exit_reason, MACHINE_RUNNING);
    v->m.exit_code = 0;
    uart_reset(v->uart);
    plic_reset(v->plic);
    clint_reset(v->clint);
    virt_pci_reset(v->pci);
}
