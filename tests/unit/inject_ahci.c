/*
 * tests/unit/inject_ahci.c — what an AHCI driver sees of injected faults:
 * a failed read or write (-EIO) is a task-file error with DRDY|ERR and
 * UNC, the LBA registers naming the command's first sector; ENOSPC and a
 * failed flush are ABRT; a failed NCQ command halts the port, the other
 * outstanding tags get no completion, log 10h names the failed tag and
 * LBA, and after the driver's restart the port works; the host file never
 * sees a failed write; stopping the port does not wait out a delay.
 */
#include <pthread.h>

#include "block/inject.h"
#include "util/clock.h"
#include "ahci_harness.h"

#define IMG_SIZE (4ull << 20)

static struct ah H;

static void setup(void)
{
    ah_setup_one_started(&H, IMG_SIZE);
}

static void teardown(void)
{
    ah_teardown(&H);
}

TestSuite(inject_ahci, .init = setup, .fini = teardown, .timeout = 30);

static void set_rules(const char *rules)
{
    char err[256];
    cr_assert(blk_set_inject(ahci_port_blk(H.a, 0), rules, err, sizeof(err)),
              "%s", err);
}

static uint8_t host_byte(uint64_t off)
{
    uint8_t b = 0xee;
    int fd = open(H.path[0], O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pread(fd, &b, 1, (off_t)off), 1);
    close(fd);
    return b;
}

/* The 48-bit LBA of the last D2H Register FIS. */
static uint64_t d2h_lba(void)
{
    const uint8_t *f = ah_ptr(&H, H.p[0].fb + RFIS_RFIS, 20);
    return (uint64_t)f[4] | (uint64_t)f[5] << 8 | (uint64_t)f[6] << 16 |
           (uint64_t)f[8] << 24 | (uint64_t)f[9] << 32 | (uint64_t)f[10] << 40;
}

static void assert_works_after_restart(void)
{
    ah_restart(&H, 0);
    uint64_t w = ah_pattern(&H, 512, 0x5a);
    uint32_t is = ah_do(&H, 0, 0, 0x35, 200, 1, w, 512, true);
    cr_assert_not(is & (PXIS_TFES | PXIS_HBFS), "PxIS 0x%x", is);
    cr_assert_eq(host_byte(200 * 512), 0x5a);
}

Test(inject_ahci, failed_write_is_unc_with_its_lba)
{
    set_rules("eio@write:lba:100");
    uint64_t w = ah_pattern(&H, 4096, 1);
    uint32_t is = ah_do(&H, 0, 2, 0x35, 96, 8, w, 4096, true);  /* 96-103 */
    cr_assert(is & PXIS_TFES);
    uint32_t tfd = ah_prd(&H, 0, PX_TFD);
    cr_assert_eq(tfd & 0xff, ATA_STS_DRDY | ATA_STS_ERR);
    cr_assert_eq(tfd >> 8 & 0xff, ATA_ERR_UNC);
    cr_assert_eq(d2h_lba(), 96);
    cr_assert(ah_prd(&H, 0, PX_CI) & (1u << 2));     /* stays issued */
    for (unsigned i = 96; i < 104; i++)
        cr_assert_eq(host_byte(i * 512ull), 0);
    struct ahci_port_stats ps = ahci_get_port_stats(H.a, 0);
    cr_assert_eq(ps.tf_errors, 1);
    assert_works_after_restart();
}

Test(inject_ahci, failed_read_is_unc_nospace_and_flush_are_abrt)
{
    set_rules("eio@read;enospc@write;eio@flush");
    uint64_t r = ah_pattern(&H, 512, 9);
    uint32_t is = ah_do(&H, 0, 0, 0x25, 5, 1, r, 512, false);
    cr_assert(is & PXIS_TFES);
    cr_assert_eq(ah_prd(&H, 0, PX_TFD) >> 8 & 0xff, ATA_ERR_UNC);
    cr_assert_eq(*(uint8_t *)ah_ptr(&H, r, 1), 9);  /* buffer untouched */
    ah_restart(&H, 0);
    is = ah_do(&H, 0, 0, 0x35, 5, 1, r, 512, true);
    cr_assert(is & PXIS_TFES);
    cr_assert_eq(ah_prd(&H, 0, PX_TFD) >> 8 & 0xff, ATA_ERR_ABRT);
    ah_restart(&H, 0);
    is = ah_do(&H, 0, 0, 0xea, 0, 0, 0, 0, false);    /* FLUSH CACHE EXT */
    cr_assert(is & PXIS_TFES);
    cr_assert_eq(ah_prd(&H, 0, PX_TFD) >> 8 & 0xff, ATA_ERR_ABRT);
    set_rules("");
    assert_works_after_restart();
}

/* Three NCQ writes: tags 1 and 2 held by a delay, tag 3 fails at once.
 * The port halts on tag 3; when 1 and 2 come back from the host later
 * the device reports nothing (it aborted them, SATA 3.2 §13.6.5); log
 * 10h names tag 3; after the restart everything works. */
Test(inject_ahci, ncq_error_names_the_tag_and_aborts_the_rest)
{
    set_rules("eio@write:lba:64-71;delay:50ms@write:lba:0-63");
    uint64_t w = ah_pattern(&H, 3 * 4096, 3);
    static const uint64_t lba[4] = { 0, 0, 8, 64 };
    for (unsigned tag = 1; tag <= 3; tag++) {
        struct ah_prd prd = { w + 4096 * (tag - 1), 4096 };
        ah_cmd(&H, 0, tag, 0x61, 8, lba[tag], (uint16_t)(tag << 3), 0x40,
               &prd, 1, true);
    }
    ah_pwr(&H, 0, PX_SACT, 0xe);
    ah_pwr(&H, 0, PX_CI, 0xe);
    cr_assert(ah_wait(&H, 0, PX_IS, PXIS_TFES, PXIS_TFES));
    cr_assert_eq(ah_prd(&H, 0, PX_TFD) >> 8 & 0xff, ATA_ERR_UNC);
    usleep(150000);         /* tags 1 and 2 have reached the host by now */
    cr_assert_eq(host_byte(0), 3);
    cr_assert_eq(ah_prd(&H, 0, PX_SACT), 0xe, "PxSACT 0x%x",
                 ah_prd(&H, 0, PX_SACT));
    cr_assert_eq(host_byte(64 * 512), 0);
    ah_restart(&H, 0);
    cr_assert_eq(ah_prd(&H, 0, PX_SACT), 0);
    uint64_t log = ah_alloc(&H, 512, 2);
    struct ah_prd lp = { log, 512 };
    ah_cmd(&H, 0, 0, 0x2f, 0, 0x10, 1, 0, &lp, 1, false);
    cr_assert_not(ah_issue(&H, 0, 0) & PXIS_TFES);
    uint8_t *b = ah_ptr(&H, log, 512);
    cr_assert_eq(b[0], 3);                          /* the failed tag */
    cr_assert_eq(b[2], ATA_STS_DRDY | ATA_STS_ERR);
    cr_assert_eq(b[3], ATA_ERR_UNC);
    cr_assert_eq(b[4], 64);
    cr_assert_eq(b[5] | b[6] | b[8] | b[9] | b[10], 0);
    /* The driver retries the aborted tags; they work. */
    set_rules("");
    struct ah_prd prd = { w, 4096 };
    ah_cmd(&H, 0, 1, 0x61, 8, 0, 1 << 3, 0x40, &prd, 1, true);
    ah_pwr(&H, 0, PX_SACT, 0x2);
    ah_pwr(&H, 0, PX_CI, 0x2);
    cr_assert(ah_wait(&H, 0, PX_SACT, 0x2, 0));
    cr_assert_not(ah_prd(&H, 0, PX_IS) & PXIS_TFES);
    assert_works_after_restart();
}

/* A write held for an hour: clearing ST sends it on, so CR clears and
 * the driver's recovery (ahci_stop_engine waits 500 ms) goes ahead. */
Test(inject_ahci, stopping_the_port_does_not_wait_out_a_delay)
{
    set_rules("delay:3600s@write");
    uint64_t w = ah_pattern(&H, 512, 7);
    struct ah_prd prd = { w, 512 };
    ah_cmd(&H, 0, 4, 0x35, 0, 300, 1, 0x40, &prd, 1, true);
    ah_pwr(&H, 0, PX_CI, 1u << 4);
    usleep(20000);
    cr_assert(ah_prd(&H, 0, PX_CI) & (1u << 4));    /* held */
    uint64_t t0 = clock_ns();
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
    cr_assert(ah_wait(&H, 0, PX_CMD, PXCMD_CR, 0), "CR stuck");
    cr_assert_lt(clock_ns() - t0, 5ull * 1000000000ull);
    set_rules("");
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) | PXCMD_ST);
    assert_works_after_restart();
}
