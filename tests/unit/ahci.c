/*
 * tests/unit/ahci.c — the AHCI controller driven like Linux's ahci does,
 * over a fake guest memory and real images on an iothread: PCI identity,
 * the generic host control, port start/stop and resets, IDENTIFY, DMA and
 * NCQ reads and writes reaching the host file, FLUSH reaching fdatasync,
 * TRIM punching the host file, SET FEATURES, the logs and the interrupt.
 */
#include "ahci_harness.h"

#define IMG_SIZE (4ull << 20)

static struct ah H;

static void setup(void)
{
    struct ah_opts o = { .nports = 2, .image_size = IMG_SIZE,
                         .aio = BLK_AIO_THREADS,
                         .cache = BLK_CACHE_WRITEBACK };
    ah_setup(&H, &o);
}

static void teardown(void)
{
    ah_teardown(&H);
}

TestSuite(ahci, .init = setup, .fini = teardown, .timeout = 30);

/* ---- identity and generic host control ---- */

Test(ahci, pci_identity_is_ich9_ahci)
{
    cr_assert_eq(ah_cfg_rd(&H, PCI_VENDOR_ID, 2), 0x8086);
    cr_assert_eq(ah_cfg_rd(&H, PCI_DEVICE_ID, 2), 0x2922);
    cr_assert_eq(ah_cfg_rd(&H, PCI_CLASS_PROG, 1), 0x01);
    cr_assert_eq(ah_cfg_rd(&H, PCI_CLASS_PROG + 1, 2), 0x0106);
    cr_assert_eq(ah_cfg_rd(&H, PCI_INTERRUPT_PIN, 1), 1);
    /* BAR 5 sizes as 4 KiB memory. */
    ah_cfg_wr(&H, PCI_BAR0 + 20, 4, 0xffffffff);
    cr_assert_eq(ah_cfg_rd(&H, PCI_BAR0 + 20, 4), 0xfffff000);
    ah_cfg_wr(&H, PCI_BAR0 + 20, 4, (uint32_t)AH_ABAR);
    cr_assert_eq(ah_cfg_rd(&H, PCI_BAR0 + 16, 4), 0);
}

Test(ahci, generic_host_control_registers)
{
    uint32_t cap = ah_rd(&H, HBA_CAP);
    cr_assert_eq(cap & 0x1f, AHCI_PORTS - 1);
    cr_assert_eq(cap >> 8 & 0x1f, AHCI_SLOTS - 1);
    cr_assert(cap & CAP_SNCQ);
    cr_assert(cap & CAP_S64A);
    cr_assert(cap & CAP_SAM);
    cr_assert_eq(ah_rd(&H, HBA_PI), 0x3f);
    cr_assert_eq(ah_rd(&H, HBA_VS), 0x00010301);
    cr_assert(ah_rd(&H, HBA_GHC) & GHC_AE);
    /* Read-only registers ignore writes. */
    ah_wr(&H, HBA_CAP, 0);
    ah_wr(&H, HBA_PI, 0);
    cr_assert_eq(ah_rd(&H, HBA_CAP), cap);
    cr_assert_eq(ah_rd(&H, HBA_PI), 0x3f);
}

Test(ahci, ports_with_and_without_a_disk)
{
    cr_assert_eq(ah_prd(&H, 0, PX_SSTS), 0x133);
    cr_assert_eq(ah_prd(&H, 0, PX_SIG), 0x101);
    cr_assert_eq(ah_tfd_status(&H, 0), ATA_STS_OK);
    cr_assert_eq(ah_prd(&H, 2, PX_SSTS), 0);
    cr_assert_eq(ah_prd(&H, 2, PX_SIG), 0xffffffff);
    cr_assert_eq(ah_tfd_status(&H, 2), 0x7f);
}

Test(ahci, hba_reset_clears_registers_and_self_clears)
{
    ah_port_start(&H, 0);
    ah_wr(&H, HBA_GHC, GHC_AE | GHC_HR);
    for (int i = 0; i < 1000 && (ah_rd(&H, HBA_GHC) & GHC_HR); i++)
        usleep(1000);
    cr_assert_not(ah_rd(&H, HBA_GHC) & GHC_HR);
    cr_assert_not(ah_rd(&H, HBA_GHC) & GHC_IE);
    cr_assert_eq(ah_prd(&H, 0, PX_CMD) & (PXCMD_ST | PXCMD_FRE | PXCMD_CR |
                                          PXCMD_FR), 0);
    cr_assert_eq(ah_prd(&H, 0, PX_CLB), 0);
    cr_assert_eq(ah_prd(&H, 0, PX_IE), 0);
    cr_assert_eq(ah_prd(&H, 0, PX_SIG), 0x101);
}

Test(ahci, start_stop_sets_and_clears_cr_fr)
{
    ah_port_start(&H, 0);
    uint32_t cmd = ah_prd(&H, 0, PX_CMD);
    cr_assert(cmd & PXCMD_CR);
    cr_assert(cmd & PXCMD_FR);
    ah_pwr(&H, 0, PX_CMD, cmd & ~PXCMD_ST);
    cr_assert(ah_wait(&H, 0, PX_CMD, PXCMD_CR, 0));
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_FRE);
    cr_assert_eq(ah_prd(&H, 0, PX_CMD) & (PXCMD_FR | PXCMD_CR), 0);
}

/* Linux's hardreset: DET=1, then DET=0; the link comes back up with the
 * signature in PxSIG and a D2H FIS in the received-FIS area. */
Test(ahci, comreset_brings_the_link_back)
{
    ah_port_start(&H, 0);
    ah_pwr(&H, 0, PX_CMD, ah_prd(&H, 0, PX_CMD) & ~PXCMD_ST);
    uint8_t *rfis = ah_ptr(&H, H.p[0].fb, 256);
    memset(rfis, 0, 256);
    ah_pwr(&H, 0, PX_SCTL, 0x301);
    cr_assert_eq(ah_prd(&H, 0, PX_SSTS) & 0xf, 0);
    ah_pwr(&H, 0, PX_SCTL, 0x300);
    cr_assert_eq(ah_prd(&H, 0, PX_SSTS), 0x133);
    cr_assert_eq(ah_prd(&H, 0, PX_SIG), 0x101);
    cr_assert_eq(ah_tfd_status(&H, 0), ATA_STS_OK);
    cr_assert_eq(rfis[RFIS_RFIS], FIS_REG_D2H);
    cr_assert_eq(rfis[RFIS_RFIS + 12], 1);      /* signature: count 1 */
}

/* ---- commands ---- */

Test(ahci, identify_device)
{
    ah_port_start(&H, 0);
    uint64_t buf = ah_alloc(&H, 512, 2);
    struct ah_prd prd = { buf, 512 };
    ah_cmd(&H, 0, 0, 0xec, 0, 0, 0, 0, &prd, 1, false);
    uint32_t is = ah_issue(&H, 0, 0);
    cr_assert(is & PXIS_PSS, "PxIS 0x%x", is);
    cr_assert_not(is & PXIS_TFES);
    uint16_t w[256];
    memcpy(w, ah_ptr(&H, buf, 512), 512);
    cr_assert_eq(le16toh(w[75]), 31);                 /* queue depth 32 */
    cr_assert(le16toh(w[76]) & (1 << 8));             /* NCQ */
    cr_assert(le16toh(w[83]) & (1 << 10));            /* LBA48 */
    cr_assert(le16toh(w[169]) & 1);                   /* TRIM */
    cr_assert(le16toh(w[85]) & (1 << 5));             /* write cache on */
    uint64_t n = 0;
    for (int i = 3; i >= 0; i--)
        n = n << 16 | le16toh(w[100 + i]);
    cr_assert_eq(n, IMG_SIZE / 512);
    /* Model string: "BLKEMU HARDDISK", first character in the high byte. */
    cr_assert_eq(le16toh(w[27]) >> 8, 'B');
    cr_assert_eq(le16toh(w[27]) & 0xff, 'L');
    cr_assert_eq(le16toh(w[10]) >> 8, 'a');           /* serial */
    /* Integrity word: bytes sum to 0. */
    uint8_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum = (uint8_t)(sum + ((uint8_t *)ah_ptr(&H, buf, 512))[i]);
    cr_assert_eq(sum, 0);
    /* PRDBC written back; the PIO Setup FIS carries E_Status. */
    uint32_t prdbc;
    memcpy(&prdbc, ah_ptr(&H, H.p[0].clb + 4, 4), 4);
    cr_assert_eq(le32toh(prdbc), 512);
    uint8_t *ps = ah_ptr(&H, H.p[0].fb + RFIS_PSFIS, 20);
    cr_assert_eq(ps[0], FIS_PIO_SETUP);
    cr_assert_eq(ps[15], ATA_STS_OK);
}

static void host_read(unsigned port, uint64_t off, void *buf, size_t len)
{
    int fd = open(H.path[port], O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

Test(ahci, dma_ext_write_read_round_trip)
{
    ah_port_start(&H, 0);
    uint64_t w = ah_pattern(&H, 8192, 7);
    uint32_t is = ah_do(&H, 0, 3, 0x35, 100, 16, w, 8192, true);
    cr_assert(is & PXIS_DHRS, "PxIS 0x%x", is);
    cr_assert_not(is & PXIS_TFES);
    uint8_t host[8192];
    host_read(0, 100 * 512, host, sizeof(host));
    cr_assert_arr_eq(host, ah_ptr(&H, w, 8192), 8192);
    uint64_t r = ah_alloc(&H, 8192, 4096);
    is = ah_do(&H, 0, 4, 0x25, 100, 16, r, 8192, false);
    cr_assert_not(is & PXIS_TFES);
    cr_assert_arr_eq(ah_ptr(&H, r, 8192), ah_ptr(&H, w, 8192), 8192);
    struct ahci_port_stats s = ahci_get_port_stats(H.a, 0);
    cr_assert_eq(s.bytes_written, 8192);
    cr_assert_eq(s.bytes_read, 8192);
}

Test(ahci, lba28_dma_uses_device_bits)
{
    ah_port_start(&H, 0);
    uint64_t w = ah_pattern(&H, 512, 1);
    struct ah_prd prd = { w, 512 };
    /* LBA 0x1000 via device bits 27:24 = 0 and LBA 23:0. */
    ah_cmd(&H, 0, 0, 0xca, 0, 0x1000, 1, 0x40, &prd, 1, true);
    cr_assert_not(ah_issue(&H, 0, 0) & PXIS_TFES);
    uint8_t host[512];
    host_read(0, 0x1000 * 512, host, 512);
    cr_assert_arr_eq(host, ah_ptr(&H, w, 512), 512);
}

Test(ahci, scatter_gather_over_several_prds)
{
    ah_port_start(&H, 0);
    uint64_t a = ah_pattern(&H, 1024, 3), b = ah_pattern(&H, 3072, 9);
    struct ah_prd prd[2] = { { a, 1024 }, { b, 3072 } };
    ah_cmd(&H, 0, 1, 0x35, 0, 8, 8, 0x40, prd, 2, true);
    cr_assert_not(ah_issue(&H, 0, 1) & PXIS_TFES);
    uint8_t host[4096];
    host_read(0, 8 * 512, host, sizeof(host));
    cr_assert_arr_eq(host, ah_ptr(&H, a, 1024), 1024);
    cr_assert_arr_eq(host + 1024, ah_ptr(&H, b, 3072), 3072);
}

/* NCQ: PxSACT then PxCI for many tags; each completes with an SDB FIS
 * that clears its PxSACT bit. */
Test(ahci, ncq_32_tags_write_then_read)
{
    ah_port_start(&H, 0);
    uint64_t w[AHCI_SLOTS];
    for (unsigned t = 0; t < AHCI_SLOTS; t++) {
        w[t] = ah_pattern(&H, 4096, (uint8_t)t);
        struct ah_prd prd = { w[t], 4096 };
        ah_cmd(&H, 0, t, 0x61, 8, 8ull * t, (uint16_t)(t << 3), 0x40, &prd, 1,
               true);
    }
    ah_pwr(&H, 0, PX_SACT, 0xffffffff);
    ah_pwr(&H, 0, PX_CI, 0xffffffff);
    cr_assert(ah_wait(&H, 0, PX_SACT, 0xffffffff, 0), "SACT 0x%x",
              ah_prd(&H, 0, PX_SACT));
    cr_assert_eq(ah_prd(&H, 0, PX_CI), 0);
    uint32_t is = ah_prd(&H, 0, PX_IS);
    cr_assert(is & PXIS_SDBS);
    cr_assert_not(is & PXIS_TFES);
    ah_pwr(&H, 0, PX_IS, is);
    uint64_t r[AHCI_SLOTS];
    for (unsigned t = 0; t < AHCI_SLOTS; t++) {
        r[t] = ah_alloc(&H, 4096, 4096);
        struct ah_prd prd = { r[t], 4096 };
        ah_cmd(&H, 0, t, 0x60, 8, 8ull * t, (uint16_t)(t << 3), 0x40, &prd, 1,
               false);
    }
    ah_pwr(&H, 0, PX_SACT, 0xffffffff);
    ah_pwr(&H, 0, PX_CI, 0xffffffff);
    cr_assert(ah_wait(&H, 0, PX_SACT, 0xffffffff, 0));
    for (unsigned t = 0; t < AHCI_SLOTS; t++)
        cr_assert_arr_eq(ah_ptr(&H, r[t], 4096), ah_ptr(&H, w[t], 4096), 4096);
    struct ahci_port_stats s = ahci_get_port_stats(H.a, 0);
    cr_assert_eq(s.ncq, 64);
    uint8_t *sdb = ah_ptr(&H, H.p[0].fb + RFIS_SDBFIS, 8);
    cr_assert_eq(sdb[0], FIS_SDB);
}

Test(ahci, ncq_fua_write_counts_as_fua)
{
    ah_port_start(&H, 0);
    uint64_t w = ah_pattern(&H, 4096, 2);
    struct ah_prd prd = { w, 4096 };
    ah_cmd(&H, 0, 5, 0x61, 8, 0, 5 << 3, 0x40 | 0x80, &prd, 1, true);
    ah_pwr(&H, 0, PX_SACT, 1u << 5);
    ah_pwr(&H, 0, PX_CI, 1u << 5);
    cr_assert(ah_wait(&H, 0, PX_SACT, 1u << 5, 0));
    cr_assert_eq(ahci_get_blk_stats(H.a, 0).fua_writes, 1);
}

Test(ahci, flush_reaches_fdatasync)
{
    ah_port_start(&H, 0);
    cr_assert_not(ah_do(&H, 0, 0, 0xea, 0, 0, 0, 0, false) & PXIS_TFES);
    cr_assert_not(ah_do(&H, 0, 0, 0xe7, 0, 0, 0, 0, false) & PXIS_TFES);
    cr_assert_eq(ahci_get_blk_stats(H.a, 0).flushes, 2);
    cr_assert_eq(ahci_get_port_stats(H.a, 0).flushes, 2);
}

static void dsm_entry(uint64_t buf, unsigned i, uint64_t lba, uint16_t n)
{
    uint64_t e = htole64(lba | (uint64_t)n << 48);
    memcpy(ah_ptr(&H, buf + 8 * i, 8), &e, 8);
}

Test(ahci, trim_punches_the_host_file)
{
    ah_port_start(&H, 0);
    uint64_t w = ah_pattern(&H, 65536, 4);
    cr_assert_not(ah_do(&H, 0, 0, 0x35, 0, 128, w, 65536, true) & PXIS_TFES);
    cr_assert_not(ah_do(&H, 0, 0, 0xea, 0, 0, 0, 0, false) & PXIS_TFES);
    struct stat before, after;
    cr_assert_eq(stat(H.path[0], &before), 0);
    uint64_t d = ah_alloc(&H, 512, 512);
    dsm_entry(d, 0, 0, 64);
    dsm_entry(d, 1, 64, 64);      /* merged with the first */
    struct ah_prd prd = { d, 512 };
    ah_cmd(&H, 0, 2, 0x06, 1, 0, 1, 0x40, &prd, 1, true);
    cr_assert_not(ah_issue(&H, 0, 2) & PXIS_TFES);
    cr_assert_eq(stat(H.path[0], &after), 0);
    cr_assert_lt(after.st_blocks, before.st_blocks, "%ld -> %ld",
                 (long)before.st_blocks, (long)after.st_blocks);
    cr_assert_eq(ahci_get_blk_stats(H.a, 0).op[BLK_OP_DISCARD].ops, 1);
}

Test(ahci, trim_out_of_range_is_aborted)
{
    ah_port_start(&H, 0);
    uint64_t d = ah_alloc(&H, 512, 512);
    dsm_entry(d, 0, IMG_SIZE / 512 - 4, 8);
    struct ah_prd prd = { d, 512 };
    ah_cmd(&H, 0, 0, 0x06, 1, 0, 1, 0x40, &prd, 1, true);
    cr_assert(ah_issue(&H, 0, 0) & PXIS_TFES);
    cr_assert_eq(ahci_get_blk_stats(H.a, 0).op[BLK_OP_DISCARD].ops, 0);
}

Test(ahci, set_features_write_cache)
{
    ah_port_start(&H, 0);
    ah_cmd(&H, 0, 0, 0xef, 0x82, 0, 0, 0, NULL, 0, false);
    cr_assert_not(ah_issue(&H, 0, 0) & PXIS_TFES);
    uint64_t buf = ah_alloc(&H, 512, 2);
    struct ah_prd prd = { buf, 512 };
    ah_cmd(&H, 0, 0, 0xec, 0, 0, 0, 0, &prd, 1, false);
    ah_issue(&H, 0, 0);
    uint16_t w85;
    memcpy(&w85, ah_ptr(&H, buf + 170, 2), 2);
    cr_assert_not(le16toh(w85) & (1 << 5));
    /* Writes are now write-through. */
    uint64_t w = ah_pattern(&H, 512, 1);
    ah_do(&H, 0, 0, 0x35, 0, 1, w, 512, true);
    cr_assert_eq(ahci_get_blk_stats(H.a, 0).fua_writes, 1);
    /* Transfer mode UDMA/5 is accepted, an unknown subcommand is not. */
    ah_cmd(&H, 0, 0, 0xef, 0x03, 0, 0x45, 0, NULL, 0, false);
    cr_assert_not(ah_issue(&H, 0, 0) & PXIS_TFES);
    ah_cmd(&H, 0, 0, 0xef, 0x77, 0, 0, 0, NULL, 0, false);
    cr_assert(ah_issue(&H, 0, 0) & PXIS_TFES);
}

Test(ahci, check_power_mode_reports_active)
{
    ah_port_start(&H, 0);
    ah_cmd(&H, 0, 0, 0xe5, 0, 0, 0, 0, NULL, 0, false);
    cr_assert_not(ah_issue(&H, 0, 0) & PXIS_TFES);
    cr_assert_eq(((uint8_t *)ah_ptr(&H, H.p[0].fb + RFIS_RFIS, 20))[12], 0xff);
}

Test(ahci, read_log_directory_and_empty_ncq_log)
{
    ah_port_start(&H, 0);
    uint64_t buf = ah_alloc(&H, 512, 2);
    struct ah_prd prd = { buf, 512 };
    ah_cmd(&H, 0, 0, 0x2f, 0, 0x00, 1, 0, &prd, 1, false);
    cr_assert_not(ah_issue(&H, 0, 0) & PXIS_TFES);
    uint8_t *b = ah_ptr(&H, buf, 512);
    cr_assert_eq(b[0], 1);
    cr_assert_eq(b[0x20], 1);
    ah_cmd(&H, 0, 0, 0x47, 0, 0x10, 1, 0, &prd, 1, false);
    cr_assert_not(ah_issue(&H, 0, 0) & PXIS_TFES);
    cr_assert_eq(b[0], 0x80);   /* NQ: no NCQ error */
    /* An unknown log, or two pages, is aborted. */
    ah_cmd(&H, 0, 0, 0x2f, 0, 0x30, 1, 0, &prd, 1, false);
    cr_assert(ah_issue(&H, 0, 0) & PXIS_TFES);
}

Test(ahci, unsupported_command_is_abrt)
{
    ah_port_start(&H, 0);
    ah_cmd(&H, 0, 7, 0x00 /* NOP */, 0, 0, 0, 0, NULL, 0, false);
    uint32_t is = ah_issue(&H, 0, 7);
    cr_assert(is & PXIS_TFES);
    cr_assert(is & PXIS_DHRS);
    uint32_t tfd = ah_prd(&H, 0, PX_TFD);
    cr_assert_eq(tfd & 0xff, ATA_STS_DRDY | ATA_STS_ERR);
    cr_assert_eq(tfd >> 8 & 0xff, ATA_ERR_ABRT);
    /* The failed slot stays issued until the driver restarts the port. */
    cr_assert(ah_prd(&H, 0, PX_CI) & (1u << 7));
    ah_restart(&H, 0);
    cr_assert_eq(ah_prd(&H, 0, PX_CI), 0);
    /* And the port works again. */
    cr_assert_not(ah_do(&H, 0, 0, 0xea, 0, 0, 0, 0, false) & PXIS_TFES);
}

Test(ahci, interrupt_follows_is_and_ghc_ie)
{
    ah_port_start(&H, 0);
    unsigned line = pci_intx_swizzle(AH_SLOT, 1);
    ah_cmd(&H, 0, 0, 0xea, 0, 0, 0, 0, NULL, 0, false);
    ah_pwr(&H, 0, PX_CI, 1);
    cr_assert(ah_wait(&H, 0, PX_CI, 1, 0));
    cr_assert(atomic_load(&H.line[line]));
    cr_assert_eq(ah_rd(&H, HBA_IS), 1);
    /* IS stays latched while PxIS has enabled bits (§10.6.2). */
    ah_wr(&H, HBA_IS, 1);
    cr_assert_eq(ah_rd(&H, HBA_IS), 1);
    ah_pwr(&H, 0, PX_IS, ah_prd(&H, 0, PX_IS));
    cr_assert(atomic_load(&H.line[line]));
    ah_wr(&H, HBA_IS, 1);
    cr_assert_not(atomic_load(&H.line[line]));
    /* GHC.IE gates the line. */
    ah_wr(&H, HBA_GHC, GHC_AE);
    ah_cmd(&H, 0, 0, 0xea, 0, 0, 0, 0, NULL, 0, false);
    ah_pwr(&H, 0, PX_CI, 1);
    cr_assert(ah_wait(&H, 0, PX_CI, 1, 0));
    cr_assert_not(atomic_load(&H.line[line]));
    ah_wr(&H, HBA_GHC, GHC_AE | GHC_IE);
    cr_assert(atomic_load(&H.line[line]));
}

Test(ahci, two_ports_work_independently)
{
    ah_port_start(&H, 0);
    ah_port_start(&H, 1);
    uint64_t a = ah_pattern(&H, 4096, 1), b = ah_pattern(&H, 4096, 2);
    cr_assert_not(ah_do(&H, 0, 0, 0x35, 0, 8, a, 4096, true) & PXIS_TFES);
    cr_assert_not(ah_do(&H, 1, 0, 0x35, 0, 8, b, 4096, true) & PXIS_TFES);
    uint8_t h0[4096], h1[4096];
    host_read(0, 0, h0, 4096);
    host_read(1, 0, h1, 4096);
    cr_assert_arr_eq(h0, ah_ptr(&H, a, 4096), 4096);
    cr_assert_arr_eq(h1, ah_ptr(&H, b, 4096), 4096);
}

/* io_uring with O_DIRECT, where the host allows it. */
Test(ahci_uring, ncq_round_trip_with_o_direct, .fini = teardown,
     .timeout = 30)
{
    struct ah_opts o = { .nports = 1, .image_size = IMG_SIZE,
                         .aio = BLK_AIO_IO_URING, .cache = BLK_CACHE_NONE };
    char path[] = "/var/tmp/blkemu-ah-probe-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    fd = open(path, O_RDONLY | O_DIRECT);
    unlink(path);
    if (fd < 0)
        cr_skip_test("no O_DIRECT in /var/tmp");
    close(fd);
    ah_setup(&H, &o);
    ah_port_start(&H, 0);
    uint64_t w = ah_pattern(&H, 65536, 5), r = ah_alloc(&H, 65536, 4096);
    struct ah_prd prd = { w, 65536 };
    ah_cmd(&H, 0, 9, 0x61, 128, 256, 9 << 3, 0x40, &prd, 1, true);
    ah_pwr(&H, 0, PX_SACT, 1u << 9);
    ah_pwr(&H, 0, PX_CI, 1u << 9);
    cr_assert(ah_wait(&H, 0, PX_SACT, 1u << 9, 0));
    prd.addr = r;
    ah_cmd(&H, 0, 9, 0x60, 128, 256, 9 << 3, 0x40, &prd, 1, false);
    ah_pwr(&H, 0, PX_SACT, 1u << 9);
    ah_pwr(&H, 0, PX_CI, 1u << 9);
    cr_assert(ah_wait(&H, 0, PX_SACT, 1u << 9, 0));
    cr_assert_arr_eq(ah_ptr(&H, r, 65536), ah_ptr(&H, w, 65536), 65536);
}
