/* tests/unit/image.c — the RISC-V Image header and ELF checks reject
 * truncated and garbage files with a clear message. */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/load.h"
#include "hw/machine.h"

static void make_header(uint8_t *b, uint64_t text_offset, uint64_t size)
{
    memset(b, 0, 64);
    memcpy(b + 8, &text_offset, 8);
    memcpy(b + 16, &size, 8);
    uint32_t ver = 2;
    memcpy(b + 32, &ver, 4);
    memcpy(b + 48, "RISCV\0\0\0", 8);
    memcpy(b + 56, "RSC\x05", 4);
}

Test(image, valid_header)
{
    uint8_t b[4096];
    make_header(b, 0x200000, 0x1000000);
    struct image_info ii;
    char err[256];
    cr_assert(image_parse(b, sizeof(b), &ii, err, sizeof(err)), "%s", err);
    cr_expect_eq(ii.text_offset, 0x200000);
    cr_expect_eq(ii.image_size, 0x1000000);
}

Test(image, zero_image_size_means_file_size)
{
    uint8_t b[8192];
    make_header(b, 0x200000, 0);
    struct image_info ii;
    char err[256];
    cr_assert(image_parse(b, sizeof(b), &ii, err, sizeof(err)));
    cr_expect_eq(ii.image_size, sizeof(b));
}

Test(image, truncated_file)
{
    uint8_t b[64];
    make_header(b, 0x200000, 0x1000);
    struct image_info ii;
    char err[256];
    cr_expect_not(image_parse(b, 40, &ii, err, sizeof(err)));
    cr_expect(strstr(err, "shorter than its 64-byte header"), "%s", err);
    cr_expect_not(image_parse(b, 0, &ii, err, sizeof(err)));
}

Test(image, garbage_without_magic)
{
    uint8_t b[4096];
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(i * 37 + 11);
    struct image_info ii;
    char err[256];
    cr_expect_not(image_parse(b, sizeof(b), &ii, err, sizeof(err)));
    cr_expect(strstr(err, "not a RISC-V Image"), "%s", err);
}

Test(image, size_smaller_than_file)
{
    uint8_t b[8192];
    make_header(b, 0x200000, 4096);
    struct image_info ii;
    char err[256];
    cr_expect_not(image_parse(b, sizeof(b), &ii, err, sizeof(err)));
}

Test(image, big_endian_and_unaligned_offset)
{
    uint8_t b[4096];
    struct image_info ii;
    char err[256];
    make_header(b, 0x200000, 4096);
    b[24] = 1;
    cr_expect_not(image_parse(b, sizeof(b), &ii, err, sizeof(err)));
    cr_expect(strstr(err, "big-endian"), "%s", err);
    make_header(b, 0x200010, 4096);
    cr_expect_not(image_parse(b, sizeof(b), &ii, err, sizeof(err)));
}

static struct machine *small_machine(void)
{
    struct machine *m = calloc(1, sizeof(*m));
    m->ram_base = 0x80000000;
    m->ram_size = 1 << 20;
    m->ram = calloc(1, m->ram_size);
    return m;
}

/* A minimal ELF with one PT_LOAD segment of `filesz` bytes at paddr. */
static size_t make_elf(uint8_t *buf, uint64_t paddr, uint64_t filesz,
                       uint64_t memsz, uint16_t machine)
{
    Elf64_Ehdr eh = { 0 };
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_type = ET_EXEC;
    eh.e_machine = machine;
    eh.e_entry = paddr;
    eh.e_phoff = sizeof(eh);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    Elf64_Phdr ph = { .p_type = PT_LOAD, .p_offset = 0x100, .p_paddr = paddr,
                      .p_vaddr = paddr, .p_filesz = filesz, .p_memsz = memsz };
    memcpy(buf, &eh, sizeof(eh));
    memcpy(buf + sizeof(eh), &ph, sizeof(ph));
    for (uint64_t i = 0; i < filesz; i++)
        buf[0x100 + i] = 0xa5;
    return 0x100 + filesz;
}

Test(elf, loads_segment_and_zeroes_bss)
{
    struct machine *m = small_machine();
    uint8_t buf[0x400] = { 0 };
    size_t n = make_elf(buf, 0x80001000, 0x100, 0x200, EM_RISCV);
    uint64_t entry, lo, hi;
    char err[256];
    memset(m->ram + 0x1100, 0xff, 0x100);
    cr_assert(elf_load(m, buf, n, &entry, &lo, &hi, err, sizeof(err)), "%s", err);
    cr_expect_eq(entry, 0x80001000);
    cr_expect_eq(lo, 0x80001000);
    cr_expect_eq(hi, 0x800011ff);
    cr_expect_eq(m->ram[0x1000], 0xa5);
    cr_expect_eq(m->ram[0x10ff], 0xa5);
    cr_expect_eq(m->ram[0x1100], 0);
}

Test(elf, rejects_segment_outside_ram)
{
    struct machine *m = small_machine();
    uint8_t buf[0x400] = { 0 };
    uint64_t entry, lo, hi;
    char err[256];
    size_t n = make_elf(buf, 0x10000000, 0x10, 0x10, EM_RISCV);
    cr_expect_not(elf_load(m, buf, n, &entry, &lo, &hi, err, sizeof(err)));
    cr_expect(strstr(err, "not inside guest RAM"), "%s", err);
    /* crossing the end of RAM by one byte */
    n = make_elf(buf, 0x80000000 + (1 << 20) - 0x10, 0x10, 0x11, EM_RISCV);
    cr_expect_not(elf_load(m, buf, n, &entry, &lo, &hi, err, sizeof(err)));
}

Test(elf, rejects_wrong_machine_and_truncation)
{
    struct machine *m = small_machine();
    uint8_t buf[0x400] = { 0 };
    uint64_t entry, lo, hi;
    char err[256];
    size_t n = make_elf(buf, 0x80000000, 0x10, 0x10, EM_X86_64);
    cr_expect_not(elf_load(m, buf, n, &entry, &lo, &hi, err, sizeof(err)));
    n = make_elf(buf, 0x80000000, 0x10, 0x10, EM_RISCV);
    cr_expect_not(elf_load(m, buf, 0x108, &entry, &lo, &hi, err, sizeof(err)));
    cr_expect(strstr(err, "outside the file"), "%s", err);
    cr_expect_not(elf_load(m, buf, 20, &entry, &lo, &hi, err, sizeof(err)));
}
