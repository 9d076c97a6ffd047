/*
 * tests/unit/ahci_bad.c — issue 5's bad-input list against the AHCI
 * controller over a fake guest memory. Each case ends in the documented
 * result — an ATA task-file error (PxIS.TFES, ABRT/IDNF), a host bus fatal
 * error for pointers outside RAM (PxIS.HBFS), or the write being ignored
 * as the hardware would — and never in a crash, a hang or an access
 * outside guest RAM (run under ASan: make check-sanitizers).
 */
#include "ahci_harness.h"

#define IMG_SIZE (4ull << 20)
#define RAM_END (AH_RAM_BASE + AH_RAM_SIZE)

static struct ah H;

static void setup(void)
{
    ah_setup_one_started(&H, IMG_SIZE);
}

static void teardown(void)
{
    ah_teardown(&H);
}

TestSuite(ahci_bad, .init = setup, .fini = teardown, .timeout = 30);

static uint8_t tfd_error(void)
{
    return (uint8_t)(ah_prd(&H, 0, PX_TFD) >> 8);
}

static void host_read(uint64_t off, void *buf, size_t len)
{
    int fd = open(H.path[0], O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

/* The port recovers the way Linux's EH does, and then works. */
static void assert_recovers(void)
{
    ah_restart(&H, 0);
    uint64_t w = ah_pattern(&H, 512, 0x5a);
    uint32_t is = ah_do(&H, 0, 0, 0x35, 1, 1, w, 512, true);
    cr_assert_not(is & (PXIS_TFES | PXIS_HBFS), "PxIS 0x%x", is);
}

/* ---- pointers outside RAM: HBFS ---- */

Test(ahci_bad, command_list_outside_ram)
{
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
    ah_pwr(&H, 0, PX_CLB, 0x1000);          /* below RAM */
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) | PXCMD_ST);
    uint32_t is = ah_issue(&H, 0, 0);
    cr_assert(is & PXIS_HBFS, "PxIS 0x%x", is);
    cr_assert_eq(ahci_get_port_stats(H.a, 0).hbfs, 1);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
    ah_pwr(&H, 0, PX_CLB, (uint32_t)H.p[0].clb);
    assert_recovers();
}

Test(ahci_bad, command_list_crossing_the_end_of_ram)
{
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
    ah_pwr(&H, 0, PX_CLB, (uint32_t)(RAM_END - 1024));
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) | PXCMD_ST);
    /* Slot 31's header is the last 32 bytes of RAM: fine if it were
     * valid; slot 0 is in RAM but its table pointer is zero. With a
     * 64-bit CLB far above RAM every slot fails. */
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
    ah_pwr(&H, 0, PX_CLB, 0xfffffc00);
    ah_pwr(&H, 0, PX_CLBU, 0xffffffff);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) | PXCMD_ST);
    cr_assert(ah_issue(&H, 0, 31) & PXIS_HBFS);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
    ah_pwr(&H, 0, PX_CLB, (uint32_t)H.p[0].clb);
    ah_pwr(&H, 0, PX_CLBU, 0);
    assert_recovers();
}

Test(ahci_bad, command_table_outside_ram)
{
    ah_cmd(&H, 0, 0, 0xea, 0, 0, 0, 0, NULL, 0, false);
    uint32_t ctba = htole32((uint32_t)RAM_END);     /* just past RAM */
    memcpy(ah_ptr(&H, H.p[0].clb + 8, 4), &ctba, 4);
    cr_assert(ah_issue(&H, 0, 0) & PXIS_HBFS);
    assert_recovers();
}

Test(ahci_bad, prdt_outside_ram)
{
    /* The table itself is in RAM, its PRD entries run past the end. */
    uint64_t t = RAM_END - 0x80;
    ah_cmd(&H, 0, 0, 0x25, 0, 0, 1, 0x40, NULL, 0, false);
    memcpy(ah_ptr(&H, t, 0x80), ah_ptr(&H, H.p[0].ctba[0], 0x80), 0x80);
    uint32_t dw[4] = { htole32(5u | 1u << 16), 0, htole32((uint32_t)t), 0 };
    memcpy(ah_ptr(&H, H.p[0].clb, 16), dw, 16);
    cr_assert(ah_issue(&H, 0, 0) & PXIS_HBFS);
    assert_recovers();
}

Test(ahci_bad, data_buffer_crossing_the_end_of_ram)
{
    uint32_t is = ah_do(&H, 0, 0, 0x25, 0, 8, RAM_END - 2048, 4096, false);
    cr_assert(is & PXIS_HBFS, "PxIS 0x%x", is);
    assert_recovers();
}

Test(ahci_bad, fis_area_outside_ram)
{
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~(PXCMD_ST));
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~(PXCMD_FRE));
    ah_pwr(&H, 0, PX_FB, (uint32_t)RAM_END);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) | PXCMD_FRE);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) | PXCMD_ST);
    ah_cmd(&H, 0, 0, 0xea, 0, 0, 0, 0, NULL, 0, false);
    cr_assert(ah_issue(&H, 0, 0) & PXIS_HBFS);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~(PXCMD_ST));
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~(PXCMD_FRE));
    ah_pwr(&H, 0, PX_FB, (uint32_t)H.p[0].fb);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) | PXCMD_FRE);
    assert_recovers();
}

/* ---- PRDT shapes ---- */

Test(ahci_bad, prdt_shorter_than_the_transfer)
{
    uint64_t w = ah_pattern(&H, 4096, 1);
    uint32_t is = ah_do(&H, 0, 0, 0x35, 0, 16, w, 4096, true); /* 8 KiB */
    cr_assert(is & PXIS_TFES);
    cr_assert_eq(tfd_error(), ATA_ERR_ABRT);
    uint8_t host[4096], zero[4096] = { 0 };
    host_read(0, host, sizeof(host));
    cr_assert_arr_eq(host, zero, sizeof(host), "the write reached the host");
    assert_recovers();
}

Test(ahci_bad, prdt_longer_than_the_transfer)
{
    uint64_t r = ah_alloc(&H, 8192, 4096);
    memset(ah_ptr(&H, r, 8192), 0xee, 8192);
    uint32_t is = ah_do(&H, 0, 0, 0x25, 0, 8, r, 8192, false);  /* 4 KiB */
    cr_assert_not(is & PXIS_TFES);
    uint8_t *p = ah_ptr(&H, r, 8192);
    cr_assert_eq(p[0], 0);
    cr_assert_eq(p[4095], 0);
    cr_assert_eq(p[4096], 0xee, "wrote past the transfer");
    uint32_t prdbc;
    memcpy(&prdbc, ah_ptr(&H, H.p[0].clb + 4, 4), 4);
    cr_assert_eq(le32toh(prdbc), 4096);
}

Test(ahci_bad, zero_prdt_entries_for_a_data_command)
{
    ah_cmd(&H, 0, 0, 0x25, 0, 0, 8, 0x40, NULL, 0, false);
    cr_assert(ah_issue(&H, 0, 0) & PXIS_TFES);
    cr_assert_eq(tfd_error(), ATA_ERR_ABRT);
    assert_recovers();
}

/* 65535 PRD entries of 2 bytes at a 4-byte stride: no two merge, so the
 * transfer needs more segments than the block layer takes and goes
 * through a bounce buffer. */
Test(ahci_bad, prdt_with_65535_entries)
{
    const unsigned n = 65535;
    uint64_t t = ah_alloc(&H, 0x80 + 16ull * n, 128);
    uint64_t data = ah_alloc(&H, 4ull * n, 4);
    uint8_t *d = ah_ptr(&H, data, 4ull * n);
    for (unsigned i = 0; i < n; i++) {
        d[4 * i] = (uint8_t)i;
        d[4 * i + 1] = (uint8_t)(i >> 8);
        uint32_t e[4] = { htole32((uint32_t)(data + 4 * i)), 0, 0, htole32(1) };
        memcpy(ah_ptr(&H, t + 0x80 + 16ull * i, 16), e, 16);
    }
    ah_cmd(&H, 0, 0, 0x35, 0, 0, 128, 0x40, NULL, 0, true);  /* 64 KiB */
    memcpy(ah_ptr(&H, t, 0x80), ah_ptr(&H, H.p[0].ctba[0], 0x80), 0x80);
    uint32_t dw[4] = { htole32(5u | CMDH_WRITE | n << 16), 0,
                       htole32((uint32_t)t), 0 };
    memcpy(ah_ptr(&H, H.p[0].clb, 16), dw, 16);
    uint32_t is = ah_issue(&H, 0, 0);
    cr_assert_not(is & (PXIS_TFES | PXIS_HBFS), "PxIS 0x%x", is);
    uint8_t host[65536];
    host_read(0, host, sizeof(host));
    for (unsigned i = 0; i < 32768; i++)
        cr_assert(host[2 * i] == (uint8_t)i && host[2 * i + 1] == (uint8_t)(i >> 8),
                  "byte pair %u", i);
}

/* 1024 entries of 4 MiB each (4 GiB, more than any transfer) over the
 * same buffer: the walk stops once the transfer is covered. */
Test(ahci_bad, prdt_entries_totalling_over_2_gib)
{
    const unsigned n = 1024;
    uint64_t t = ah_alloc(&H, 0x80 + 16ull * n, 128);
    uint64_t buf = ah_alloc(&H, 4u << 20, 4096);
    for (unsigned i = 0; i < n; i++) {
        uint32_t e[4] = { htole32((uint32_t)buf), 0, 0,
                          htole32((4u << 20) - 1) };
        memcpy(ah_ptr(&H, t + 0x80 + 16ull * i, 16), e, 16);
    }
    ah_cmd(&H, 0, 0, 0x25, 0, 0, 8192, 0x40, NULL, 0, false);  /* 4 MiB */
    memcpy(ah_ptr(&H, t, 0x80), ah_ptr(&H, H.p[0].ctba[0], 0x80), 0x80);
    uint32_t dw[4] = { htole32(5u | n << 16), 0, htole32((uint32_t)t), 0 };
    memcpy(ah_ptr(&H, H.p[0].clb, 16), dw, 16);
    cr_assert_not(ah_issue(&H, 0, 0) & (PXIS_TFES | PXIS_HBFS));
    uint32_t prdbc;
    memcpy(&prdbc, ah_ptr(&H, H.p[0].clb + 4, 4), 4);
    cr_assert_eq(le32toh(prdbc), 4u << 20);
}

/* ---- NCQ ---- */

/* White box: a command with tag 3 is in flight (the harness holds the
 * slot the way the iothread does); issuing tag 3 again is an NCQ
 * protocol error, reported through log 10h. */
Test(ahci_bad, ncq_tag_issued_again_while_busy)
{
    struct ahci_port *p = &H.a->ports[0];
    pthread_mutex_lock(&H.a->lock);
    p->busy |= 1u << 3;
    p->ncq_tags |= 1u << 3;
    p->sact |= 1u << 3;
    p->cmds[3].state = CMD_BUSY;
    p->cmds[3].gen = p->gen;
    p->inflight++;
    pthread_mutex_unlock(&H.a->lock);
    uint64_t r = ah_alloc(&H, 4096, 4096);
    struct ah_prd prd = { r, 4096 };
    ah_cmd(&H, 0, 3, 0x60, 8, 0, 3 << 3, 0x40, &prd, 1, false);
    ah_pwr(&H, 0, PX_CI, 1u << 3);
    cr_assert(ah_wait(&H, 0, PX_IS, PXIS_TFES, PXIS_TFES));
    cr_assert_eq(tfd_error(), ATA_ERR_ABRT);
    /* Let go of the fake command, recover, read the NCQ error log. */
    pthread_mutex_lock(&H.a->lock);
    p->busy &= ~(1u << 3);
    p->cmds[3].state = CMD_FREE;
    p->inflight--;
    pthread_mutex_unlock(&H.a->lock);
    ah_restart(&H, 0);
    uint64_t log = ah_alloc(&H, 512, 2);
    struct ah_prd lp = { log, 512 };
    ah_cmd(&H, 0, 0, 0x2f, 0, 0x10, 1, 0, &lp, 1, false);
    cr_assert_not(ah_issue(&H, 0, 0) & PXIS_TFES);
    uint8_t *b = ah_ptr(&H, log, 512);
    cr_assert_eq(b[0], 3);
    cr_assert_eq(b[3], ATA_ERR_ABRT);
}

Test(ahci_bad, ncq_tag_differs_from_slot)
{
    uint64_t r = ah_alloc(&H, 4096, 4096);
    struct ah_prd prd = { r, 4096 };
    ah_cmd(&H, 0, 2, 0x60, 8, 0, 5 << 3, 0x40, &prd, 1, false);
    ah_pwr(&H, 0, PX_SACT, 1u << 2);
    ah_pwr(&H, 0, PX_CI, 1u << 2);
    cr_assert(ah_wait(&H, 0, PX_IS, PXIS_TFES, PXIS_TFES));
    cr_assert(ah_prd(&H, 0, PX_IS) & PXIS_SDBS);
    assert_recovers();
}

Test(ahci_bad, ncq_lba_out_of_range_goes_to_log_10h)
{
    uint64_t r = ah_alloc(&H, 4096, 4096);
    struct ah_prd prd = { r, 4096 };
    ah_cmd(&H, 0, 6, 0x60, 8, IMG_SIZE / 512 - 4, 6 << 3, 0x40, &prd, 1,
           false);
    ah_pwr(&H, 0, PX_SACT, 1u << 6);
    ah_pwr(&H, 0, PX_CI, 1u << 6);
    cr_assert(ah_wait(&H, 0, PX_IS, PXIS_TFES, PXIS_TFES));
    cr_assert_eq(tfd_error(), ATA_ERR_IDNF | ATA_ERR_ABRT);
    ah_restart(&H, 0);
    cr_assert_eq(ah_prd(&H, 0, PX_SACT), 0);
    uint64_t log = ah_alloc(&H, 512, 2);
    struct ah_prd lp = { log, 512 };
    ah_cmd(&H, 0, 0, 0x2f, 0, 0x10, 1, 0, &lp, 1, false);
    cr_assert_not(ah_issue(&H, 0, 0) & PXIS_TFES);
    uint8_t *b = ah_ptr(&H, log, 512);
    cr_assert_eq(b[0], 6);
    uint8_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum = (uint8_t)(sum + b[i]);
    cr_assert_eq(sum, 0);
    /* Reading the log cleared it. */
    ah_cmd(&H, 0, 0, 0x2f, 0, 0x10, 1, 0, &lp, 1, false);
    ah_issue(&H, 0, 0);
    cr_assert_eq(b[0], 0x80);
}

Test(ahci_bad, lba48_range_overflow_is_idnf)
{
    uint64_t r = ah_alloc(&H, 4096, 4096);
    uint32_t is = ah_do(&H, 0, 0, 0x25, 0xffffffffffffull, 8, r, 4096, false);
    cr_assert(is & PXIS_TFES);
    cr_assert_eq(tfd_error(), ATA_ERR_IDNF | ATA_ERR_ABRT);
    assert_recovers();
}

/* ---- port state ---- */

Test(ahci_bad, commands_issued_while_the_port_is_stopped)
{
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
    uint64_t w = ah_pattern(&H, 512, 9);
    struct ah_prd prd = { w, 512 };
    ah_cmd(&H, 0, 0, 0x35, 0, 0, 1, 0x40, &prd, 1, true);
    ah_pwr(&H, 0, PX_CI, 1);
    ah_pwr(&H, 0, PX_SACT, 1);
    cr_assert_eq(ah_prd(&H, 0, PX_CI), 0);
    cr_assert_eq(ah_prd(&H, 0, PX_SACT), 0);
    usleep(20000);
    cr_assert_eq(ahci_get_port_stats(H.a, 0).cmds, 0);
}

Test(ahci_bad, start_without_fre_is_ignored)
{
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_FRE);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) | PXCMD_ST);
    cr_assert_not(ah_prd(&H, 0, PX_CMD) & PXCMD_ST);
    ah_cmd(&H, 0, 0, 0xea, 0, 0, 0, 0, NULL, 0, false);
    ah_pwr(&H, 0, PX_CI, 1);
    cr_assert_eq(ah_prd(&H, 0, PX_CI), 0);
    usleep(20000);
    cr_assert_eq(ahci_get_port_stats(H.a, 0).cmds, 0);
    /* Clearing FRE while running is ignored too. */
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) | PXCMD_FRE);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) | PXCMD_ST);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_FRE);
    cr_assert(ah_prd(&H, 0, PX_CMD) & PXCMD_FRE);
}

/* 32 NCQ writes of 128 KiB, then a reset before they are all back: the
 * old completions are dropped, the slots wait for them, nothing touches
 * freed state (ASan), and the port works afterwards. */
static void flood(void)
{
    static uint64_t w;
    if (!w)
        w = ah_alloc(&H, 128 << 10, 4096);
    for (unsigned t = 0; t < AHCI_SLOTS; t++) {
        struct ah_prd prd = { w, 128 << 10 };
        ah_cmd(&H, 0, t, 0x61, 256, 256ull * t, (uint16_t)(t << 3), 0x40,
               &prd, 1, true);
    }
    ah_pwr(&H, 0, PX_SACT, 0xffffffff);
    ah_pwr(&H, 0, PX_CI, 0xffffffff);
}

static void bring_port_up_again(void)
{
    ah_pwr(&H, 0, PX_CLB, (uint32_t)H.p[0].clb);
    ah_pwr(&H, 0, PX_FB, (uint32_t)H.p[0].fb);
    ah_pwr(&H, 0, PX_CMD, PXCMD_FRE);
    ah_pwr(&H, 0, PX_CMD, PXCMD_FRE | PXCMD_ST);
    ah_pwr(&H, 0, PX_IE, 0xfdc000ff);
    ah_wr(&H, HBA_GHC, GHC_AE | GHC_IE);
    uint64_t w = ah_pattern(&H, 4096, 0x33);
    cr_assert_not(ah_do(&H, 0, 0, 0x35, 0, 8, w, 4096, true) &
                  (PXIS_TFES | PXIS_HBFS));
    uint8_t host[4096];
    host_read(0, host, sizeof(host));
    cr_assert_arr_eq(host, ah_ptr(&H, w, 4096), 4096);
}

Test(ahci_bad, hba_reset_with_commands_in_flight)
{
    for (int round = 0; round < 5; round++) {
        flood();
        usleep(round * 300);
        ah_wr(&H, HBA_GHC, GHC_AE | GHC_HR);
        for (int i = 0; i < 5000 && (ah_rd(&H, HBA_GHC) & GHC_HR); i++)
            usleep(1000);
        cr_assert_not(ah_rd(&H, HBA_GHC) & GHC_HR);
        cr_assert_eq(ah_prd(&H, 0, PX_SACT), 0);
        bring_port_up_again();
    }
}

Test(ahci_bad, port_reset_with_commands_in_flight)
{
    for (int round = 0; round < 5; round++) {
        flood();
        ah_pwr(&H, 0, PX_SCTL, 0x301);
        ah_pwr(&H, 0, PX_SCTL, 0x300);
        cr_assert_eq(ah_prd(&H, 0, PX_CI), 0);
        ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
        cr_assert(ah_wait(&H, 0, PX_CMD, PXCMD_CR, 0));
        bring_port_up_again();
    }
}

/* ST cleared with commands out, set again at once and the same slots
 * issued: they wait for the old requests, then run. */
Test(ahci_bad, slots_reissued_while_old_requests_drain)
{
    flood();
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) | PXCMD_ST);
    uint64_t w = ah_pattern(&H, 4096, 0x44);
    cr_assert_not(ah_do(&H, 0, 0, 0x35, 4096, 8, w, 4096, true) &
                  (PXIS_TFES | PXIS_HBFS));
}

/* ---- FISes ---- */

Test(ahci_bad, fis_that_is_not_register_h2d)
{
    ah_cmd(&H, 0, 0, 0xea, 0, 0, 0, 0, NULL, 0, false);
    *(uint8_t *)ah_ptr(&H, H.p[0].ctba[0], 1) = FIS_REG_D2H;
    cr_assert(ah_issue(&H, 0, 0) & PXIS_TFES);
    cr_assert_eq(tfd_error(), ATA_ERR_ABRT);
    assert_recovers();
}

Test(ahci_bad, fis_length_and_atapi_bit)
{
    ah_cmd(&H, 0, 0, 0xea, 0, 0, 0, 0, NULL, 0, false);
    uint32_t dw0 = htole32(2);          /* CFL 2: shorter than an H2D FIS */
    memcpy(ah_ptr(&H, H.p[0].clb, 4), &dw0, 4);
    cr_assert(ah_issue(&H, 0, 0) & PXIS_TFES);
    ah_restart(&H, 0);
    ah_cmd(&H, 0, 0, 0xea, 0, 0, 0, 0, NULL, 0, false);
    dw0 = htole32(5 | CMDH_ATAPI);
    memcpy(ah_ptr(&H, H.p[0].clb, 4), &dw0, 4);
    cr_assert(ah_issue(&H, 0, 0) & PXIS_TFES);
    assert_recovers();
}

/* Linux's softreset: an H2D FIS with C clear and SRST set (header R|C),
 * then one with SRST clear; the device answers with its signature. */
Test(ahci_bad, soft_reset_through_the_control_register)
{
    ah_cmd(&H, 0, 0, 0, 0, 0, 0, 0, NULL, 0, false);
    uint8_t *f = ah_ptr(&H, H.p[0].ctba[0], 20);
    f[1] = 0;                   /* C clear: a control FIS */
    f[15] = 0x04;               /* SRST */
    uint32_t dw0 = htole32(5 | CMDH_RESET | CMDH_CLR_BUSY);
    memcpy(ah_ptr(&H, H.p[0].clb, 4), &dw0, 4);
    ah_pwr(&H, 0, PX_CI, 1);
    cr_assert(ah_wait(&H, 0, PX_CI, 1, 0));
    cr_assert(ah_tfd_status(&H, 0) & ATA_STS_BSY);
    f[15] = 0;
    dw0 = htole32(5);
    memcpy(ah_ptr(&H, H.p[0].clb, 4), &dw0, 4);
    ah_pwr(&H, 0, PX_CI, 1);
    cr_assert(ah_wait(&H, 0, PX_CI, 1, 0));
    cr_assert(ah_wait(&H, 0, PX_TFD, 0xff, ATA_STS_OK));
    cr_assert_eq(ah_prd(&H, 0, PX_SIG), 0x101);
    assert_recovers();
}

Test(ahci_bad, dsm_without_trim_or_with_bad_counts)
{
    uint64_t d = ah_alloc(&H, 8192, 512);
    struct ah_prd prd = { d, 8192 };
    ah_cmd(&H, 0, 0, 0x06, 0, 0, 1, 0x40, &prd, 1, true);   /* no TRIM bit */
    cr_assert(ah_issue(&H, 0, 0) & PXIS_TFES);
    ah_restart(&H, 0);
    ah_cmd(&H, 0, 0, 0x06, 1, 0, 0, 0x40, &prd, 1, true);   /* 0 blocks */
    cr_assert(ah_issue(&H, 0, 0) & PXIS_TFES);
    ah_restart(&H, 0);
    ah_cmd(&H, 0, 0, 0x06, 1, 0, 9, 0x40, &prd, 1, true);   /* > 8 */
    cr_assert(ah_issue(&H, 0, 0) & PXIS_TFES);
    assert_recovers();
}

/* ---- register accesses ---- */

Test(ahci_bad, unaligned_and_sub_word_register_accesses)
{
    uint32_t cap = ah_rd(&H, HBA_CAP);
    cr_assert_eq(ah_rd_n(&H, HBA_CAP + 1, 1), (cap >> 8) & 0xff);
    cr_assert_eq(ah_rd_n(&H, HBA_CAP + 2, 2), cap >> 16);
    uint32_t vs = ah_rd(&H, HBA_VS);
    cr_assert_eq(ah_rd_n(&H, HBA_CAP + 1, 4),
                 (cap >> 8) | (ah_rd(&H, HBA_GHC) & 0xff) << 24);
    cr_assert_eq(ah_rd_n(&H, HBA_PI, 8), 0x3full | (uint64_t)vs << 32);
    /* Sub-word and unaligned writes are dropped. */
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
    cr_assert(ah_wait(&H, 0, PX_CMD, PXCMD_CR, 0));
    ah_wr_n(&H, ah_px(0, PX_CMD), 1, PXCMD_ST | PXCMD_FRE);
    cr_assert_not(ah_prd(&H, 0, PX_CMD) & PXCMD_ST);
    ah_wr_n(&H, ah_px(0, PX_CMD) + 1, 4, 0xffffffff);
    cr_assert_not(ah_prd(&H, 0, PX_CMD) & PXCMD_ST);
    ah_wr_n(&H, ah_px(0, PX_IE) + 2, 2, 0xffff);
    cr_assert_eq(ah_prd(&H, 0, PX_IE), 0xfdc000ff);
    /* A qword write sets CLB and CLBU. */
    ah_wr_n(&H, ah_px(0, PX_CLB), 8, 0x0000000180001000ull);
    cr_assert_eq(ah_prd(&H, 0, PX_CLB), 0x80001000);
    cr_assert_eq(ah_prd(&H, 0, PX_CLBU), 1);
    /* Beyond the last port and past the end of the BAR. */
    ah_wr(&H, ah_px(6, PX_CMD), 0xffffffff);
    cr_assert_eq(ah_rd(&H, ah_px(6, PX_CMD)), 0);
    cr_assert_eq(ah_rd_n(&H, AHCI_BAR_SIZE - 2, 2), 0);
}

/* ---- a read-only drive ---- */

static void setup_ro(void)
{
    struct ah_opts o = { .nports = 1, .image_size = IMG_SIZE,
                         .aio = BLK_AIO_THREADS, .cache = BLK_CACHE_WRITEBACK,
                         .readonly = true };
    ah_setup(&H, &o);
    ah_port_start(&H, 0);
}

Test(ahci_ro, writes_and_trim_are_aborted, .init = setup_ro,
     .fini = teardown, .timeout = 30)
{
    uint64_t w = ah_pattern(&H, 512, 1);
    cr_assert(ah_do(&H, 0, 0, 0x35, 0, 1, w, 512, true) & PXIS_TFES);
    cr_assert_eq(tfd_error(), ATA_ERR_ABRT);
    ah_restart(&H, 0);
    uint64_t r = ah_alloc(&H, 512, 512);
    cr_assert_not(ah_do(&H, 0, 0, 0x25, 0, 1, r, 512, false) & PXIS_TFES);
    uint8_t host[512], zero[512] = { 0 };
    host_read(0, host, 512);
    cr_assert_arr_eq(host, zero, 512);
}

/* ---- random commands ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A guest address: mostly inside the scratch area, sometimes anywhere. */
static uint64_t rnd_addr(uint64_t scratch, uint64_t len)
{
    switch (rnd() % 8) {
    case 0: return rnd();
    case 1: return RAM_END - rnd() % 4096;
    default: return scratch + rnd() % len;
    }
}

/* 3000 commands whose header, FIS and PRDT are random but biased towards
 * the interesting values: each ends (PxCI clear, or TFES/HBFS), nothing
 * is touched outside RAM (ASan), and the port works afterwards. */
Test(ahci_bad, random_commands_never_hang)
{
    static const uint8_t cmds[] = { 0x25, 0x35, 0x60, 0x61, 0x06, 0x2f, 0x47,
                                    0xc8, 0xca, 0x3d, 0xe7, 0xea, 0xec, 0xef,
                                    0xe5, 0x40, 0x42, 0x00, 0xff };
    const uint64_t slen = 1 << 20;
    uint64_t scratch = ah_alloc(&H, slen, 4096);
    for (int it = 0; it < 3000; it++) {
        unsigned slot = (unsigned)(rnd() % AHCI_SLOTS);
        uint64_t t = H.p[0].ctba[slot];
        if (rnd() % 16 == 0)
            t = rnd_addr(scratch, slen);
        uint8_t *tab = machine_ram_ptr(&H.m, t & ~0x7full, 0x80 + 16 * 8);
        unsigned nprd = (unsigned)(rnd() % 10);
        if (tab) {
            for (unsigned i = 0; i < 0x80 + 16 * 8; i++)
                tab[i] = (uint8_t)rnd();
            tab[0] = rnd() % 8 ? FIS_REG_H2D : (uint8_t)rnd();
            tab[1] = rnd() % 8 ? 0x80 : 0;
            tab[2] = cmds[rnd() % sizeof(cmds)];
            tab[12] = (uint8_t)(rnd() % 4 ? (rnd() % 16) | slot << 3 : rnd());
            tab[13] = rnd() % 2 ? 0 : (uint8_t)rnd();
            tab[3] = (uint8_t)(rnd() % 4 ? rnd() % 16 : rnd());
            for (unsigned k = 4; k <= 10; k++)
                if (k != 7 && rnd() % 4)
                    tab[k] = 0;
            tab[4] = (uint8_t)(rnd() % 64);
            for (unsigned i = 0; i < nprd; i++) {
                uint64_t a = rnd_addr(scratch, slen);
                uint32_t e[4] = { htole32((uint32_t)a), htole32(rnd() % 8 ?
                                  (uint32_t)(a >> 32) : (uint32_t)rnd()), 0,
                                  htole32((uint32_t)(rnd() % 4 ? rnd() % 8192
                                                     : rnd())) };
                memcpy(tab + 0x80 + 16 * i, e, 16);
            }
        }
        uint32_t dw0 = (uint32_t)(rnd() % 8 ? 5 : rnd() % 32) |
                       (rnd() % 2 ? CMDH_WRITE : 0) |
                       (uint32_t)(rnd() % 8 ? nprd : rnd() % 65536) << 16;
        uint32_t hd[4] = { htole32(dw0), 0, htole32((uint32_t)t),
                           htole32((uint32_t)(t >> 32)) };
        memcpy(ah_ptr(&H, H.p[0].clb + 32 * slot, 16), hd, 16);
        bool ncq = tab && tab[0] == FIS_REG_H2D && (tab[1] & 0x80) &&
                   (tab[2] == 0x60 || tab[2] == 0x61);
        if (ncq)
            ah_pwr(&H, 0, PX_SACT, 1u << slot);
        ah_pwr(&H, 0, PX_CI, 1u << slot);
        bool ended = false;
        for (int i = 0; i < 50000 && !ended; i++) {
            uint32_t is = ah_prd(&H, 0, PX_IS);
            ended = (is & (PXIS_TFES | PXIS_HBFS)) ||
                    (!(ah_prd(&H, 0, PX_CI) & (1u << slot)) &&
                     !(ah_prd(&H, 0, PX_SACT) & (1u << slot)));
            if (!ended)
                usleep(50);
        }
        cr_assert(ended, "iteration %d: slot %u command 0x%02x never ended",
                  it, slot, tab ? tab[2] : 0);
        if (ah_prd(&H, 0, PX_IS) & (PXIS_TFES | PXIS_HBFS) || rnd() % 4 == 0)
            ah_restart(&H, 0);
        ah_pwr(&H, 0, PX_IS, ah_prd(&H, 0, PX_IS));
    }
    struct ahci_port_stats st = ahci_get_port_stats(H.a, 0);
    cr_log_info("random: %llu commands, %llu task-file errors, %llu hbfs, "
                "%llu reads, %llu writes", (unsigned long long)st.cmds,
                (unsigned long long)st.tf_errors, (unsigned long long)st.hbfs,
                (unsigned long long)st.reads, (unsigned long long)st.writes);
    /* Restore the tables the random commands may have scribbled on. */
    ah_restart(&H, 0);
    assert_recovers();
}
