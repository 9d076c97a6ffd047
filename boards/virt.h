/*
 * boards/virt.h — the `virt` board: QEMU's riscv `virt` memory map, so stock
 * OpenSBI, U-Boot and Linux run unchanged.
 */
#ifndef BOARDS_VIRT_H
#define BOARDS_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boards/cmdline.h"
#include "hw/machine.h"

/* Memory map (QEMU hw/riscv/virt.c, virt_memmap[]). */
#define VIRT_MROM_BASE     0x00001000ull
#define VIRT_MROM_SIZE     0x0000f000ull
#define VIRT_TEST_BASE     0x00100000ull
#define VIRT_TEST_SIZE     0x00001000ull
#define VIRT_CLINT_BASE    0x02000000ull
#define VIRT_CLINT_SIZE    0x00010000ull
#define VIRT_PLIC_BASE     0x0c000000ull
#define VIRT_PLIC_SIZE     0x00600000ull
#define VIRT_UART0_BASE    0x10000000ull
#define VIRT_UART0_SIZE    0x00000100ull
#define VIRT_DRAM_BASE     0x80000000ull

/* PLIC sources: 0 is reserved; QEMU's virt has 96 (ndev = 95). */
#define VIRT_PLIC_NSOURCES 96
#define VIRT_UART0_IRQ     10

/* Where the boot images ended up, for the device tree and the handover. */
struct virt_boot {
    uint64_t entry;          /* first instruction every hart runs (M-mode) */
    uint64_t kernel_start, kernel_size;   /* 0 size: no kernel */
    uint64_t initrd_start, initrd_end;    /* equal: no initrd */
    uint64_t fdt_addr;
    uint64_t info_addr;      /* struct fw_dynamic_info, in the boot ROM */
};

struct virt;

/* Build the machine described by cfg (RAM, devices, harts). NULL with err
 * set on failure. */
struct virt *virt_create(const struct blkemu_config *cfg, char *err, size_t errlen);
void virt_destroy(struct virt *v);
struct machine *virt_machine(struct virt *v);

/* Load firmware, kernel and initrd, generate the device tree and point the
 * harts at the entry. Called at start and on every guest reboot. */
bool virt_boot(struct virt *v, char *err, size_t errlen);

/* Generate the device tree blob into buf. Returns its size, or 0 with err. */
size_t virt_fdt_build(const struct blkemu_config *cfg,
                      const struct virt_boot *boot, void *buf, size_t bufsize,
                      char *err, size_t errlen);

/* Start / stop / join the hart threads. */
bool virt_start(struct virt *v, char *err, size_t errlen);
void virt_stop(struct virt *v);

/* Console input from the main loop: feeds the UART. */
struct uart *virt_uart(struct virt *v);

#endif
