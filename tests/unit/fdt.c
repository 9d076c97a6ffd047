/* tests/unit/fdt.c — the generated device tree parses back with libfdt and
 * holds what OpenSBI and Linux look for (shared PLATFORM.md). */
#include <criterion/criterion.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "boards/virt.h"

static uint8_t blob[65536];

static void *build(unsigned smp, const char *append, uint64_t rd_start,
                   uint64_t rd_end)
{
    struct blkemu_config cfg = { .machine = "virt", .ram_size = 256ull << 20,
                                 .smp = smp, .append = append };
    struct virt_boot boot = { .initrd_start = rd_start, .initrd_end = rd_end };
    char err[256] = "";
    size_t n = virt_fdt_build(&cfg, &boot, blob, sizeof(blob), err, sizeof(err));
    cr_assert(n > 0, "%s", err);
    cr_assert_eq(fdt_check_header(blob), 0);
    cr_assert_eq(fdt_totalsize(blob), n);
    return blob;
}

static const void *prop(const void *fdt, const char *path, const char *name,
                        int *len)
{
    int off = fdt_path_offset(fdt, path);
    cr_assert(off >= 0, "no node %s", path);
    const void *p = fdt_getprop(fdt, off, name, len);
    cr_assert_not_null(p, "no %s in %s", name, path);
    return p;
}

static uint32_t u32at(const void *p, int i)
{
    return fdt32_to_cpu(((const fdt32_t *)p)[i]);
}

Test(fdt, cpus_timebase_isa_and_intc)
{
    void *fdt = build(4, NULL, 0, 0);
    int len;
    cr_expect_eq(u32at(prop(fdt, "/cpus", "timebase-frequency", &len), 0), 10000000);
    for (int h = 0; h < 4; h++) {
        char path[64];
        snprintf(path, sizeof(path), "/cpus/cpu@%d", h);
        cr_expect_str_eq(prop(fdt, path, "device_type", &len), "cpu");
        cr_expect_eq(u32at(prop(fdt, path, "reg", &len), 0), (uint32_t)h);
        const char *isa = prop(fdt, path, "riscv,isa", &len);
        cr_expect(!strncmp(isa, "rv64imafdc", 10), "isa %s", isa);
        cr_expect_str_eq(prop(fdt, path, "mmu-type", &len), "riscv,sv48");
        /* isa-extensions: the ISA string's letters and words, in order. */
        const char *ext = prop(fdt, path, "riscv,isa-extensions", &len);
        char joined[256] = "rv64";
        for (int off = 0; off < len; off += (int)strlen(ext + off) + 1) {
            if (strlen(ext + off) > 1)
                strcat(joined, "_");
            strcat(joined, ext + off);
        }
        cr_expect_str_eq(joined, isa);
        cr_expect_str_eq(prop(fdt, path, "status", &len), "okay");
        strcat(path, "/interrupt-controller");
        cr_expect_str_eq(prop(fdt, path, "compatible", &len), "riscv,cpu-intc");
        cr_expect_eq(u32at(prop(fdt, path, "#interrupt-cells", &len), 0), 1);
    }
    cr_expect_lt(fdt_path_offset(fdt, "/cpus/cpu@4"), 0);
}

Test(fdt, chosen_and_memory)
{
    void *fdt = build(1, "console=ttyS0 quiet", 0x88000000, 0x88100000);
    int len;
    cr_expect_str_eq(prop(fdt, "/chosen", "bootargs", &len), "console=ttyS0 quiet");
    cr_expect_str_eq(prop(fdt, "/chosen", "stdout-path", &len), "/soc/serial@10000000");
    /* Properties are only 4-byte aligned: read them with fdt64_ld. */
    const fdt64_t *s = prop(fdt, "/chosen", "linux,initrd-start", &len);
    cr_expect_eq(len, 8);
    cr_expect_eq(fdt64_ld(s), 0x88000000);
    const fdt64_t *e = prop(fdt, "/chosen", "linux,initrd-end", &len);
    cr_expect_eq(fdt64_ld(e), 0x88100000);
    const fdt64_t *reg = prop(fdt, "/memory@80000000", "reg", &len);
    cr_expect_eq(len, 16);
    cr_expect_eq(fdt64_ld(&reg[0]), 0x80000000);
    cr_expect_eq(fdt64_ld(&reg[1]), 256ull << 20);
}

Test(fdt, no_initrd_no_bootargs)
{
    void *fdt = build(1, NULL, 0, 0);
    int off = fdt_path_offset(fdt, "/chosen");
    cr_expect_null(fdt_getprop(fdt, off, "linux,initrd-start", NULL));
    cr_expect_null(fdt_getprop(fdt, off, "bootargs", NULL));
}

/* interrupts-extended: for each hart, <phandle irq-a phandle irq-b>, the
 * phandle being that hart's cpu-intc. */
static void check_irqs_ext(void *fdt, const char *path, unsigned smp,
                           uint32_t a, uint32_t b)
{
    int len;
    const void *p = prop(fdt, path, "interrupts-extended", &len);
    cr_assert_eq(len, (int)(smp * 16));
    for (unsigned h = 0; h < smp; h++) {
        char cpu[64];
        snprintf(cpu, sizeof(cpu), "/cpus/cpu@%u/interrupt-controller", h);
        uint32_t ph = fdt_get_phandle(fdt, fdt_path_offset(fdt, cpu));
        cr_expect_eq(u32at(p, h * 4 + 0), ph);
        cr_expect_eq(u32at(p, h * 4 + 1), a);
        cr_expect_eq(u32at(p, h * 4 + 2), ph);
        cr_expect_eq(u32at(p, h * 4 + 3), b);
    }
}

Test(fdt, clint_plic_uart_test_device)
{
    void *fdt = build(2, NULL, 0, 0);
    int len;
    const char *c = prop(fdt, "/soc/clint@2000000", "compatible", &len);
    cr_expect_str_eq(c, "sifive,clint0");
    check_irqs_ext(fdt, "/soc/clint@2000000", 2, 3, 7);
    check_irqs_ext(fdt, "/soc/plic@c000000", 2, 11, 9);
    cr_expect_eq(u32at(prop(fdt, "/soc/plic@c000000", "riscv,ndev", &len), 0), 95);
    cr_expect_str_eq(prop(fdt, "/soc/serial@10000000", "compatible", &len), "ns16550a");
    cr_expect_eq(u32at(prop(fdt, "/soc/serial@10000000", "interrupts", &len), 0), 10);
    uint32_t plic_ph = fdt_get_phandle(fdt, fdt_path_offset(fdt, "/soc/plic@c000000"));
    cr_expect_eq(u32at(prop(fdt, "/soc/serial@10000000", "interrupt-parent", &len), 0), plic_ph);
    uint32_t test_ph = fdt_get_phandle(fdt, fdt_path_offset(fdt, "/soc/test@100000"));
    cr_expect_neq(test_ph, 0);
    cr_expect_eq(u32at(prop(fdt, "/poweroff", "regmap", &len), 0), test_ph);
    cr_expect_eq(u32at(prop(fdt, "/poweroff", "value", &len), 0), 0x5555);
    cr_expect_eq(u32at(prop(fdt, "/reboot", "value", &len), 0), 0x7777);
}

Test(fdt, cpu_map_points_at_cpus)
{
    void *fdt = build(2, NULL, 0, 0);
    int len;
    for (int h = 0; h < 2; h++) {
        char path[64];
        snprintf(path, sizeof(path), "/cpus/cpu-map/cluster0/core%d", h);
        uint32_t ph = u32at(prop(fdt, path, "cpu", &len), 0);
        snprintf(path, sizeof(path), "/cpus/cpu@%d", h);
        cr_expect_eq(ph, fdt_get_phandle(fdt, fdt_path_offset(fdt, path)));
    }
}

Test(fdt, too_small_buffer_is_an_error)
{
    struct blkemu_config cfg = { .machine = "virt", .ram_size = 1ull << 28, .smp = 8 };
    struct virt_boot boot = { 0 };
    char err[256] = "";
    static uint8_t tiny[256];
    cr_expect_eq(virt_fdt_build(&cfg, &boot, tiny, sizeof(tiny), err, sizeof(err)), 0);
    cr_expect(strstr(err, "device tree"), "%s", err);
}
