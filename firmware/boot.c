/*
 * firmware/boot.c — the reset ROM at 0x1000.
 */
#include "firmware/boot.h"

#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* Layout: code at +0x00, entry at +0x18, fdt at +0x20, info at +0x28. */
enum { ROM_ENTRY = 0x18, ROM_FDT = 0x20, ROM_INFO = 0x28 };

uint64_t boot_rom_fill(struct boot_rom *rom, uint64_t base, uint64_t entry,
                       uint64_t fdt_addr, uint64_t next_addr)
{
    static const uint32_t code[] = {
        0x00000297,     /* auipc t0, 0          t0 = ROM base            */
        0x02828613,     /* addi  a2, t0, 0x28   a2 = &fw_dynamic_info     */
        0xf1402573,     /* csrr  a0, mhartid                              */
        0x0202b583,     /* ld    a1, 0x20(t0)   a1 = device tree          */
        0x0182b283,     /* ld    t0, 0x18(t0)   t0 = firmware entry       */
        0x00028067,     /* jr    t0                                       */
    };
    memset(rom->data, 0, sizeof(rom->data));
    rom->base = base;
    for (unsigned i = 0; i < sizeof(code) / sizeof(code[0]); i++)
        put32(rom->data + 4 * i, code[i]);
    put64(rom->data + ROM_ENTRY, entry);
    put64(rom->data + ROM_FDT, fdt_addr);
    uint8_t *info = rom->data + ROM_INFO;
    put64(info + 0, FW_DYNAMIC_INFO_MAGIC);
    put64(info + 8, FW_DYNAMIC_INFO_VERSION);
    put64(info + 16, next_addr);
    put64(info + 24, FW_DYNAMIC_NEXT_MODE_S);
    put64(info + 32, 0);                     /* options */
    put64(info + 40, UINT64_MAX);            /* boot_hart: -1 = lottery */
    return base + ROM_INFO;
}

static bool boot_rom_read(void *opaque, uint64_t off, unsigned size,
                          uint64_t *val)
{
    const struct boot_rom *rom = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        if (off + i < sizeof(rom->data))
            v |= (uint64_t)rom->data[off + i] << (8 * i);
    *val = v;
    return true;
}

static bool boot_rom_write(void *opaque, uint64_t off, unsigned size,
                           uint64_t val)
{
    return false;   /* ROM: a store faults, as on QEMU's virt */
}

const struct mmio_ops boot_rom_mmio_ops = {
    .read = boot_rom_read,
    .write = boot_rom_write,
};
