/* tests/diff/rt/crt0.S — start-up, trap entry/exit and mode switching for
 * the differential tests. Runs in M-mode from 0x80000000 (QEMU -bios none).
 *
 * Trap frame (struct rt_frame in rt.h): x[32] (x0 slot unused), epc,
 * status, cause, tval. The C handler may change x[], epc and status; they
 * are written back before mret/sret. */

#define FRAME 288
#define F_EPC 256
#define F_STATUS 264
#define F_CAUSE 272
#define F_TVAL 280

    .section .text.init, "ax"
    .globl _start
_start:
    csrr t0, mhartid
1:  bnez t0, 1b                 /* only hart 0 runs tests */
    la sp, _stack_top
    la t0, _mtrap_stack_top
    csrw mscratch, t0
    la t0, rt_mtrap_entry
    csrw mtvec, t0
    la t0, rt_strap_entry
    csrw stvec, t0
    csrw mie, zero
    csrw medeleg, zero
    csrw mideleg, zero
    csrw satp, zero
    /* PMP entry 0: NAPOT over everything, RWX, so S/U can run (QEMU 7.2
     * refuses an mret to S/U while no PMP entry is configured). */
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
    /* gp is unused: tests link with --no-relax (U code runs at aliases). */
    /* FS = Dirty: FP instructions allowed, state tracking out of the way. */
    li t0, (3 << 13)
    csrs mstatus, t0
    csrw fcsr, zero
    la t0, __bss_start
    la t1, __bss_end
2:  bgeu t0, t1, 3f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 2b
3:  call main
    call rt_exit
4:  j 4b

/* M-mode trap entry. mscratch holds the top of the M trap stack. */
    .text
    .balign 64
    .globl rt_mtrap_entry
rt_mtrap_entry:
    csrrw sp, mscratch, sp
    addi sp, sp, -FRAME
    sd x1, 8(sp)
    sd x3, 24(sp)
    sd x4, 32(sp)
    sd x5, 40(sp)
    sd x6, 48(sp)
    sd x7, 56(sp)
    sd x8, 64(sp)
    sd x9, 72(sp)
    sd x10, 80(sp)
    sd x11, 88(sp)
    sd x12, 96(sp)
    sd x13, 104(sp)
    sd x14, 112(sp)
    sd x15, 120(sp)
    sd x16, 128(sp)
    sd x17, 136(sp)
    sd x18, 144(sp)
    sd x19, 152(sp)
    sd x20, 160(sp)
    sd x21, 168(sp)
    sd x22, 176(sp)
    sd x23, 184(sp)
    sd x24, 192(sp)
    sd x25, 200(sp)
    sd x26, 208(sp)
    sd x27, 216(sp)
    sd x28, 224(sp)
    sd x29, 232(sp)
    sd x30, 240(sp)
    sd x31, 248(sp)
    csrr t0, mscratch
    sd t0, 16(sp)
    csrr t0, mepc
    sd t0, F_EPC(sp)
    csrr t0, mstatus
    sd t0, F_STATUS(sp)
    csrr t0, mcause
    sd t0, F_CAUSE(sp)
    csrr t0, mtval
    sd t0, F_TVAL(sp)
    mv a0, sp
    call rt_mtrap
    ld t0, F_EPC(sp)
    csrw mepc, t0
    ld t0, F_STATUS(sp)
    csrw mstatus, t0
    addi t0, sp, FRAME
    csrw mscratch, t0
    ld x1, 8(sp)
    ld x3, 24(sp)
    ld x4, 32(sp)
    ld x5, 40(sp)
    ld x6, 48(sp)
    ld x7, 56(sp)
    ld x8, 64(sp)
    ld x9, 72(sp)
    ld x10, 80(sp)
    ld x11, 88(sp)
    ld x12, 96(sp)
    ld x13, 104(sp)
    ld x14, 112(sp)
    ld x15, 120(sp)
    ld x16, 128(sp)
    ld x17, 136(sp)
    ld x18, 144(sp)
    ld x19, 152(sp)
    ld x20, 160(sp)
    ld x21, 168(sp)
    ld x22, 176(sp)
    ld x23, 184(sp)
    ld x24, 192(sp)
    ld x25, 200(sp)
    ld x26, 208(sp)
    ld x27, 216(sp)
    ld x28, 224(sp)
    ld x29, 232(sp)
    ld x30, 240(sp)
    ld x31, 248(sp)
    ld x2, 16(sp)
    mret

/* S-mode trap entry, same shape with sscratch/sepc/sstatus/scause/stval.
 * Runs with whatever satp the test set: the runtime must be mapped at its
 * physical address (identity) for S-mode. */
    .balign 64
    .globl rt_strap_entry
rt_strap_entry:
    csrrw sp, sscratch, sp
    addi sp, sp, -FRAME
    sd x1, 8(sp)
    sd x3, 24(sp)
    sd x4, 32(sp)
    sd x5, 40(sp)
    sd x6, 48(sp)
    sd x7, 56(sp)
    sd x8, 64(sp)
    sd x9, 72(sp)
    sd x10, 80(sp)
    sd x11, 88(sp)
    sd x12, 96(sp)
    sd x13, 104(sp)
    sd x14, 112(sp)
    sd x15, 120(sp)
    sd x16, 128(sp)
    sd x17, 136(sp)
    sd x18, 144(sp)
    sd x19, 152(sp)
    sd x20, 160(sp)
    sd x21, 168(sp)
    sd x22, 176(sp)
    sd x23, 184(sp)
    sd x24, 192(sp)
    sd x25, 200(sp)
    sd x26, 208(sp)
    sd x27, 216(sp)
    sd x28, 224(sp)
    sd x29, 232(sp)
    sd x30, 240(sp)
    sd x31, 248(sp)
    csrr t0, sscratch
    sd t0, 16(sp)
    csrr t0, sepc
    sd t0, F_EPC(sp)
    csrr t0, sstatus
    sd t0, F_STATUS(sp)
    csrr t0, scause
    sd t0, F_CAUSE(sp)
    csrr t0, stval
    sd t0, F_TVAL(sp)
    mv a0, sp
    call rt_strap
    ld t0, F_EPC(sp)
    csrw sepc, t0
    ld t0, F_STATUS(sp)
    csrw sstatus, t0
    addi t0, sp, FRAME
    csrw sscratch, t0
    ld x1, 8(sp)
    ld x3, 24(sp)
    ld x4, 32(sp)
    ld x5, 40(sp)
    ld x6, 48(sp)
    ld x7, 56(sp)
    ld x8, 64(sp)
    ld x9, 72(sp)
    ld x10, 80(sp)
    ld x11, 88(sp)
    ld x12, 96(sp)
    ld x13, 104(sp)
    ld x14, 112(sp)
    ld x15, 120(sp)
    ld x16, 128(sp)
    ld x17, 136(sp)
    ld x18, 144(sp)
    ld x19, 152(sp)
    ld x20, 160(sp)
    ld x21, 168(sp)
    ld x22, 176(sp)
    ld x23, 184(sp)
    ld x24, 192(sp)
    ld x25, 200(sp)
    ld x26, 208(sp)
    ld x27, 216(sp)
    ld x28, 224(sp)
    ld x29, 232(sp)
    ld x30, 240(sp)
    ld x31, 248(sp)
    ld x2, 16(sp)
    sret

/* long rt_enter(int mode, long (*fn)(long), long arg, void *sp)
 * Runs fn(arg) in `mode` (0 = U, 1 = S, 3 = M) on stack `sp`; fn returns
 * to rt_lower_ret, which asks M-mode (ecall, a7 = RT_ECALL_RETURN) to come
 * back here with fn's result. Callee-saved state lives in rt_mctx. */
    .globl rt_enter
rt_enter:
    la t0, rt_mctx
    sd ra, 0(t0)
    sd sp, 8(t0)
    sd s0, 16(t0)
    sd s1, 24(t0)
    sd s2, 32(t0)
    sd s3, 40(t0)
    sd s4, 48(t0)
    sd s5, 56(t0)
    sd s6, 64(t0)
    sd s7, 72(t0)
    sd s8, 80(t0)
    sd s9, 88(t0)
    sd s10, 96(t0)
    sd s11, 104(t0)
    sd tp, 112(t0)
    sd gp, 120(t0)
    li t1, (3 << 11) | (1 << 7) | (1 << 17)   /* MPP, MPIE, MPRV */
    csrc mstatus, t1
    andi a0, a0, 3
    slli a0, a0, 11
    csrs mstatus, a0
    csrw mepc, a1
    la t1, _strap_stack_top     /* a fresh S trap stack for every entry */
    csrw sscratch, t1
    mv a0, a2
    mv sp, a3
    /* ra: rt_lower_ret at the same offset from fn's alias as in the image,
     * so U code running through an alias mapping returns through it too. */
    la t1, rt_lower_ret
    la t2, rt_alias_delta
    ld t2, 0(t2)
    sub ra, t1, t2
    mret

    .globl rt_lower_ret
rt_lower_ret:
    li a7, 0x52455452           /* RT_ECALL_RETURN */
    ecall
1:  j 1b

/* M-mode landing point after RT_ECALL_RETURN; a0 holds the result. */
    .globl rt_resume_m
rt_resume_m:
    la t0, rt_mctx
    ld ra, 0(t0)
    ld sp, 8(t0)
    ld s0, 16(t0)
    ld s1, 24(t0)
    ld s2, 32(t0)
    ld s3, 40(t0)
    ld s4, 48(t0)
    ld s5, 56(t0)
    ld s6, 64(t0)
    ld s7, 72(t0)
    ld s8, 80(t0)
    ld s9, 88(t0)
    ld s10, 96(t0)
    ld s11, 104(t0)
    ld tp, 112(t0)
    ld gp, 120(t0)
    ret

    .data
    .balign 8
    .globl rt_mctx, rt_alias_delta
rt_mctx: .space 128
rt_alias_delta: .dword 0
