/*
 * boards/virt_fdt.c — the `virt` board's device tree, generated with libfdt
 * from the same memory map the devices are placed on. Node names, compatible
 * strings and properties follow QEMU's virt so firmware and Linux find what
 * they look for (see shared PLATFORM.md "Device tree nodes").
 */
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "boards/virt.h"
#include "cpu/cpu.h"
#include "util/clock.h"

/* Phandles: 1.. for the harts' interrupt controllers, then the rest. */
#define PH_CPU_INTC(h) (1 + (h))
#define PH_PLIC        (HART_MAX + 1)
#define PH_TEST        (HART_MAX + 2)

/* Abort generation on the first libfdt error. */
#define FDT_DO(expr)                                                    \
    do {                                                                \
        int rc_ = (expr);                                               \
        if (rc_ < 0) {                                                  \
            snprintf(err, errlen, "device tree: %s: %s", #expr,         \
                     fdt_strerror(rc_));                                \
            return 0;                                                   \
        }                                                               \
    } while (0)

/* A "reg" or address pair in 2+2 cells. */
static int prop_reg(void *fdt, const char *name, uint64_t base, uint64_t size)
{
    fdt64_t cells[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };
    return fdt_property(fdt, name, cells, sizeof(cells));
}

/* The multi-letter extensions the hart implements, for riscv,isa-extensions
 * (newer kernels) — keep in step with hart_isa_string(). */
static const char isa_extensions[] =
    "i\0m\0a\0f\0d\0c\0zicsr\0zifencei\0zicntr\0zihintpause\0sstc";

static size_t fdt_cpus(void *fdt, const struct blkemu_config *cfg, char *err,
                       size_t errlen)
{
    FDT_DO(fdt_begin_node(fdt, "cpus"));
    FDT_DO(fdt_property_u32(fdt, "#address-cells", 1));
    FDT_DO(fdt_property_u32(fdt, "#size-cells", 0));
    FDT_DO(fdt_property_u32(fdt, "timebase-frequency", TIMEBASE_HZ));
    for (unsigned h = 0; h < cfg->smp; h++) {
        char name[32];
        snprintf(name, sizeof(name), "cpu@%u", h);
        FDT_DO(fdt_begin_node(fdt, name));
        FDT_DO(fdt_property_string(fdt, "device_type", "cpu"));
        FDT_DO(fdt_property_u32(fdt, "reg", h));
        FDT_DO(fdt_property_string(fdt, "status", "okay"));
        FDT_DO(fdt_property_string(fdt, "compatible", "riscv"));
        FDT_DO(fdt_property_string(fdt, "riscv,isa", hart_isa_string()));
        FDT_DO(fdt_property_string(fdt, "riscv,isa-base", "rv64i"));
        FDT_DO(fdt_property(fdt, "riscv,isa-extensions", isa_extensions,
                            sizeof(isa_extensions)));
        FDT_DO(fdt_property_string(fdt, "mmu-type", "riscv,sv48"));
        FDT_DO(fdt_begin_node(fdt, "interrupt-controller"));
        FDT_DO(fdt_property_u32(fdt, "#interrupt-cells", 1));
        FDT_DO(fdt_property(fdt, "interrupt-controller", NULL, 0));
        FDT_DO(fdt_property_string(fdt, "compatible", "riscv,cpu-intc"));
        FDT_DO(fdt_property_u32(fdt, "phandle", PH_CPU_INTC(h)));
        FDT_DO(fdt_end_node(fdt));
        FDT_DO(fdt_end_node(fdt));
    }
    /* cpu-map: one cluster, one core per hart, as QEMU describes it. */
    FDT_DO(fdt_begin_node(fdt, "cpu-map"));
    FDT_DO(fdt_begin_node(fdt, "cluster0"));
    for (unsigned h = 0; h < cfg->smp; h++) {
        char name[32];
        snprintf(name, sizeof(name), "core%u", h);
        FDT_DO(fdt_begin_node(fdt, name));
        FDT_DO(fdt_property_u32(fdt, "cpu", 0));  /* patched below */
        FDT_DO(fdt_end_node(fdt));
    }
    FDT_DO(fdt_end_node(fdt));
    FDT_DO(fdt_end_node(fdt));
    FDT_DO(fdt_end_node(fdt));
    return 1;
}

/* interrupts-extended for CLINT (MSI, MTI) or PLIC (MEI, SEI) per hart. */
static int prop_irqs_ext(void *fdt, unsigned nharts, unsigned irq_a,
                         unsigned irq_b)
{
    fdt32_t cells[HART_MAX * 4];
    for (unsigned h = 0; h < nharts; h++) {
        cells[h * 4 + 0] = cpu_to_fdt32(PH_CPU_INTC(h));
        cells[h * 4 + 1] = cpu_to_fdt32(irq_a);
        cells[h * 4 + 2] = cpu_to_fdt32(PH_CPU_INTC(h));
        cells[h * 4 + 3] = cpu_to_fdt32(irq_b);
    }
    return fdt_property(fdt, "interrupts-extended", cells, nharts * 16);
}

static size_t fdt_soc(void *fdt, const struct blkemu_config *cfg, char *err,
                      size_t errlen)
{
    char name[64];
    FDT_DO(fdt_begin_node(fdt, "soc"));
    FDT_DO(fdt_property_u32(fdt, "#address-cells", 2));
    FDT_DO(fdt_property_u32(fdt, "#size-cells", 2));
    FDT_DO(fdt_property_string(fdt, "compatible", "simple-bus"));
    FDT_DO(fdt_property(fdt, "ranges", NULL, 0));

    snprintf(name, sizeof(name), "test@%llx", VIRT_TEST_BASE);
    FDT_DO(fdt_begin_node(fdt, name));
    FDT_DO(fdt_property(fdt, "compatible", "sifive,test1\0sifive,test0\0syscon",
                        sizeof("sifive,test1\0sifive,test0\0syscon")));
    FDT_DO(prop_reg(fdt, "reg", VIRT_TEST_BASE, VIRT_TEST_SIZE));
    FDT_DO(fdt_property_u32(fdt, "phandle", PH_TEST));
    FDT_DO(fdt_end_node(fdt));

    snprintf(name, sizeof(name), "clint@%llx", VIRT_CLINT_BASE);
    FDT_DO(fdt_begin_node(fdt, name));
    FDT_DO(fdt_property(fdt, "compatible", "sifive,clint0\0riscv,clint0",
                        sizeof("sifive,clint0\0riscv,clint0")));
    FDT_DO(prop_reg(fdt, "reg", VIRT_CLINT_BASE, VIRT_CLINT_SIZE));
    FDT_DO(prop_irqs_ext(fdt, cfg->smp, IRQ_MSI, IRQ_MTI));
    FDT_DO(fdt_end_node(fdt));

    snprintf(name, sizeof(name), "plic@%llx", VIRT_PLIC_BASE);
    FDT_DO(fdt_begin_node(fdt, name));
    FDT_DO(fdt_property(fdt, "compatible", "sifive,plic-1.0.0\0riscv,plic0",
                        sizeof("sifive,plic-1.0.0\0riscv,plic0")));
    FDT_DO(fdt_property_u32(fdt, "#address-cells", 0));
    FDT_DO(fdt_property_u32(fdt, "#interrupt-cells", 1));
    FDT_DO(fdt_property(fdt, "interrupt-controller", NULL, 0));
    FDT_DO(prop_reg(fdt, "reg", VIRT_PLIC_BASE, VIRT_PLIC_SIZE));
    FDT_DO(fdt_property_u32(fdt, "riscv,ndev", VIRT_PLIC_NSOURCES - 1));
    FDT_DO(prop_irqs_ext(fdt, cfg->smp, IRQ_MEI, IRQ_SEI));
    FDT_DO(fdt_property_u32(fdt, "phandle", PH_PLIC));
    FDT_DO(fdt_end_node(fdt));

    snprintf(name, sizeof(name), "serial@%llx", VIRT_UART0_BASE);
    FDT_DO(fdt_begin_node(fdt, name));
    FDT_DO(fdt_property_string(fdt, "compatible", "ns16550a"));
    FDT_DO(prop_reg(fdt, "reg", VIRT_UART0_BASE, VIRT_UART0_SIZE));
    FDT_DO(fdt_property_u32(fdt, "clock-frequency", 3686400));
    FDT_DO(fdt_property_u32(fdt, "interrupts", VIRT_UART0_IRQ));
    FDT_DO(fdt_property_u32(fdt, "interrupt-parent", PH_PLIC));
    FDT_DO(fdt_end_node(fdt));

    FDT_DO(fdt_end_node(fdt));
    return 1;
}

static size_t fdt_syscon(void *fdt, const char *node, const char *compat,
                         uint32_t value, char *err, size_t errlen)
{
    FDT_DO(fdt_begin_node(fdt, node));
    FDT_DO(fdt_property_string(fdt, "compatible", compat));
    FDT_DO(fdt_property_u32(fdt, "regmap", PH_TEST));
    FDT_DO(fdt_property_u32(fdt, "offset", 0));
    FDT_DO(fdt_property_u32(fdt, "value", value));
    FDT_DO(fdt_end_node(fdt));
    return 1;
}

size_t virt_fdt_build(const struct blkemu_config *cfg,
                      const struct virt_boot *boot, void *buf, size_t bufsize,
                      char *err, size_t errlen)
{
    void *fdt = buf;
    char name[64];
    FDT_DO(fdt_create(fdt, (int)bufsize));
    FDT_DO(fdt_finish_reservemap(fdt));
    FDT_DO(fdt_begin_node(fdt, ""));
    FDT_DO(fdt_property_u32(fdt, "#address-cells", 2));
    FDT_DO(fdt_property_u32(fdt, "#size-cells", 2));
    FDT_DO(fdt_property_string(fdt, "compatible", "riscv-virtio"));
    FDT_DO(fdt_property_string(fdt, "model", "riscv-virtio,qemu"));

    FDT_DO(fdt_begin_node(fdt, "chosen"));
    snprintf(name, sizeof(name), "/soc/serial@%llx", VIRT_UART0_BASE);
    FDT_DO(fdt_property_string(fdt, "stdout-path", name));
    if (cfg->append)
        FDT_DO(fdt_property_string(fdt, "bootargs", cfg->append));
    if (boot->initrd_end > boot->initrd_start) {
        FDT_DO(fdt_property_u64(fdt, "linux,initrd-start", boot->initrd_start));
        FDT_DO(fdt_property_u64(fdt, "linux,initrd-end", boot->initrd_end));
    }
    FDT_DO(fdt_end_node(fdt));

    snprintf(name, sizeof(name), "memory@%llx", VIRT_DRAM_BASE);
    FDT_DO(fdt_begin_node(fdt, name));
    FDT_DO(fdt_property_string(fdt, "device_type", "memory"));
    FDT_DO(prop_reg(fdt, "reg", VIRT_DRAM_BASE, cfg->ram_size));
    FDT_DO(fdt_end_node(fdt));

    if (!fdt_cpus(fdt, cfg, err, errlen) || !fdt_soc(fdt, cfg, err, errlen) ||
        !fdt_syscon(fdt, "poweroff", "syscon-poweroff", 0x5555, err, errlen) ||
        !fdt_syscon(fdt, "reboot", "syscon-reboot", 0x7777, err, errlen))
        return 0;

    FDT_DO(fdt_end_node(fdt));
    FDT_DO(fdt_finish(fdt));

    /* cpu-map entries point at the cpu nodes: give each cpu a phandle now
     * that the tree exists (the sequential writer cannot look back). */
    FDT_DO(fdt_open_into(fdt, fdt, (int)bufsize));
    for (unsigned h = 0; h < cfg->smp; h++) {
        char path[64];
        snprintf(path, sizeof(path), "/cpus/cpu@%u", h);
        int cpu = fdt_path_offset(fdt, path);
        FDT_DO(cpu);
        uint32_t ph = PH_TEST + 1 + h;
        FDT_DO(fdt_setprop_u32(fdt, cpu, "phandle", ph));
        snprintf(path, sizeof(path), "/cpus/cpu-map/cluster0/core%u", h);
        int core = fdt_path_offset(fdt, path);
        FDT_DO(core);
        FDT_DO(fdt_setprop_u32(fdt, core, "cpu", ph));
    }
    FDT_DO(fdt_pack(fdt));
    return fdt_totalsize(fdt);
}
