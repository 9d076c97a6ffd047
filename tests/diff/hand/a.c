/* a — AMOs of both widths over interesting operands (result register and
 * memory), LR/SC success and failure cases. Faulting atomics: a-faults.c. */
#include "common.h"

static u64 cell[4] __attribute__((aligned(16)));

#define AMO(id, op) \
    static u64 amo_##id(u64 *p, u64 b) \
    { u64 r; __asm__ volatile(op " %0, %2, (%1)" : "=r"(r) : "r"(p), "r"(b) : "memory"); return r; }
#define AMO_ENT(id, op) { op, amo_##id }

AMO(amoswap_w, "amoswap.w") AMO(amoadd_w, "amoadd.w") AMO(amoxor_w, "amoxor.w") AMO(amoand_w, "amoand.w") AMO(amoor_w, "amoor.w")
AMO(amomin_w, "amomin.w") AMO(amomax_w, "amomax.w") AMO(amominu_w, "amominu.w") AMO(amomaxu_w, "amomaxu.w")
AMO(amoswap_d, "amoswap.d") AMO(amoadd_d, "amoadd.d") AMO(amoxor_d, "amoxor.d") AMO(amoand_d, "amoand.d") AMO(amoor_d, "amoor.d")
AMO(amomin_d, "amomin.d") AMO(amomax_d, "amomax.d") AMO(amominu_d, "amominu.d") AMO(amomaxu_d, "amomaxu.d")
AMO(amoadd_w_aqrl, "amoadd.w.aqrl") AMO(amoswap_d_aq, "amoswap.d.aq") AMO(amoor_d_rl, "amoor.d.rl")

static const struct { const char *name; u64 (*fn)(u64 *, u64); } amos[] = {
    AMO_ENT(amoswap_w, "amoswap.w"), AMO_ENT(amoadd_w, "amoadd.w"), AMO_ENT(amoxor_w, "amoxor.w"), AMO_ENT(amoand_w, "amoand.w"),
    AMO_ENT(amoor_w, "amoor.w"), AMO_ENT(amomin_w, "amomin.w"), AMO_ENT(amomax_w, "amomax.w"), AMO_ENT(amominu_w, "amominu.w"),
    AMO_ENT(amomaxu_w, "amomaxu.w"), AMO_ENT(amoswap_d, "amoswap.d"), AMO_ENT(amoadd_d, "amoadd.d"), AMO_ENT(amoxor_d, "amoxor.d"),
    AMO_ENT(amoand_d, "amoand.d"), AMO_ENT(amoor_d, "amoor.d"), AMO_ENT(amomin_d, "amomin.d"), AMO_ENT(amomax_d, "amomax.d"),
    AMO_ENT(amominu_d, "amominu.d"), AMO_ENT(amomaxu_d, "amomaxu.d"), AMO_ENT(amoadd_w_aqrl, "amoadd.w.aqrl"),
    AMO_ENT(amoswap_d_aq, "amoswap.d.aq"), AMO_ENT(amoor_d_rl, "amoor.d.rl"),
};

static void amo_table(void)
{
    for (unsigned k = 0; k < ARRAY_SIZE(amos); k++)
        for (unsigned i = 0; i < ARRAY_SIZE(ivals); i += 2) {
            rt_printf("%s %lx:", amos[k].name, ivals[i]);
            for (unsigned j = 0; j < ARRAY_SIZE(ivals); j++) {
                cell[0] = ivals[i];
                cell[1] = 0x5a5a5a5a5a5a5a5aull;
                u64 r = amos[k].fn(&cell[0], ivals[j]);
                rt_printf(" %lx/%lx", r, cell[0]);
            }
            rt_printf(" next=%lx\n", cell[1]);
        }
}

static void lrsc(void)
{
    u64 v, fail;
    cell[0] = 0x1111111122222222ull;
    __asm__ volatile("lr.d %0, (%2)\n sc.d %1, %3, (%2)" : "=&r"(v), "=&r"(fail)
                     : "r"(cell), "r"(0x33ull) : "memory");
    rt_printf("lr.d/sc.d: loaded %lx sc=%lx mem=%lx\n", v, fail, cell[0]);
    __asm__ volatile("sc.d %0, %2, (%1)" : "=&r"(fail) : "r"(cell), "r"(0x44ull) : "memory");
    rt_printf("sc.d again (no reservation): sc=%lx mem=%lx\n", fail, cell[0]);
    cell[0] = 0xffffffff80000001ull;
    __asm__ volatile("lr.w %0, (%2)\n sc.w %1, %3, (%2)" : "=&r"(v), "=&r"(fail)
                     : "r"(cell), "r"(0x1234567887654321ull) : "memory");
    rt_printf("lr.w/sc.w: loaded %lx sc=%lx mem=%lx\n", v, fail, cell[0]);
    cell[0] = 5; cell[1] = 6;
    __asm__ volatile("lr.d %0, (%2)\n sc.d %1, %3, (%4)" : "=&r"(v), "=&r"(fail)
                     : "r"(cell), "r"(7ull), "r"(&cell[1]) : "memory");
    rt_printf("sc.d other address: sc=%lx mem=%lx %lx\n", fail, cell[0], cell[1]);
    __asm__ volatile("lr.d %0, (%2)\n sd %3, 0(%2)\n sc.d %1, %3, (%2)" : "=&r"(v), "=&r"(fail)
                     : "r"(cell), "r"(9ull) : "memory");
    rt_printf("sc.d after a store of another value: sc=%lx mem=%lx\n", fail, cell[0]);
    __asm__ volatile("lr.d %0, (%2)\n sc.d %1, %3, (%2)\n sc.d %1, %3, (%2)" : "=&r"(v), "=&r"(fail)
                     : "r"(cell), "r"(10ull) : "memory");
    rt_printf("second sc.d after a successful one: sc=%lx mem=%lx\n", fail, cell[0]);
    __asm__ volatile("lr.d.aqrl %0, (%2)\n sc.d.aqrl %1, %3, (%2)" : "=&r"(v), "=&r"(fail)
                     : "r"(cell), "r"(11ull) : "memory");
    rt_printf("lr.d.aqrl/sc.d.aqrl: sc=%lx mem=%lx\n", fail, cell[0]);
    __asm__ volatile("lr.w %0, (%2)\n amoadd.w x0, %3, (%2)\n sc.w %1, %3, (%2)" : "=&r"(v), "=&r"(fail)
                     : "r"(&cell[2]), "r"(1ull) : "memory");
    rt_printf("sc.w after an AMO to the address: sc=%lx mem=%lx\n", fail, cell[2]);
    /* a trap between LR and SC */
    __asm__ volatile("lr.d %0, (%2)\n ecall\n sc.d %1, %3, (%2)" : "=&r"(v), "=&r"(fail)
                     : "r"(cell), "r"(12ull) : "memory", "a7");
    rt_printf("sc.d after a trap: sc=%lx mem=%lx\n", fail, cell[0]);
}

int main(void)
{
    amo_table();
    lrsc();
    return 0;
}
