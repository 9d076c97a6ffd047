/*
 * hw/sifive_test.h — the SiFive test finisher ("sifive,test0"), QEMU virt's
 * poweroff/reboot device, used by OpenSBI and Linux through syscon-poweroff
 * and syscon-reboot.
 *
 * One 32-bit register at +0 (region size SIFIVE_TEST_SIZE); a write of
 *   0x5555                 powers off      → MACHINE_POWEROFF, code 0
 *   0x7777                 resets          → MACHINE_RESET
 *   (code << 16) | 0x3333  fails with code → MACHINE_FAIL, exit code `code`
 * asks the machine to stop (machine_request_exit). Other values and
 * offsets are ignored with a guest-error log; reads return 0.
 */
#ifndef HW_SIFIVE_TEST_H
#define HW_SIFIVE_TEST_H

#include "hw/bus.h"

struct machine;
struct sifive_test;

#define SIFIVE_TEST_SIZE 0x1000ull
#define SIFIVE_TEST_FAIL 0x3333u
#define SIFIVE_TEST_PASS 0x5555u
#define SIFIVE_TEST_RESET 0x7777u

extern const struct mmio_ops sifive_test_mmio_ops;

/* The device for machine `m`. NULL when out of memory. */
struct sifive_test *sifive_test_new(struct machine *m);
void sifive_test_free(struct sifive_test *t);

#endif
