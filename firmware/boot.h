/*
 * firmware/boot.h — the boot ROM and the fw_dynamic handover.
 *
 * As on QEMU's virt, a small ROM at 0x1000 holds the reset trampoline and
 * OpenSBI's struct fw_dynamic_info; every hart starts in M-mode with
 * a0 = hartid, a1 = the device tree, a2 = &fw_dynamic_info.
 */
#ifndef FIRMWARE_BOOT_H
#define FIRMWARE_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/bus.h"

/* OpenSBI's struct fw_dynamic_info (include/sbi/fw_dynamic.h). */
#define FW_DYNAMIC_INFO_MAGIC   0x4942534full   /* "OSBI" */
#define FW_DYNAMIC_INFO_VERSION 2
#define FW_DYNAMIC_NEXT_MODE_S  1

struct boot_rom {
    uint64_t base;
    uint8_t data[0x100];
};

extern const struct mmio_ops boot_rom_mmio_ops;

/* Fill the ROM: a trampoline that loads a0..a2 and jumps to `entry`, then
 * the fw_dynamic_info naming next_addr (the kernel, in S-mode). Returns the
 * guest address of the info structure. */
uint64_t boot_rom_fill(struct boot_rom *rom, uint64_t base, uint64_t entry,
                       uint64_t fdt_addr, uint64_t next_addr);

#endif
