/*
 * hw/ahci_ata.c — the ATA command set of an AHCI port's disk (ACS-3,
 * T13/2161-D): IDENTIFY DEVICE, READ/WRITE DMA (EXT), WRITE DMA FUA EXT,
 * READ/WRITE FPDMA QUEUED (NCQ, 32 tags, FUA), FLUSH CACHE (EXT), SET
 * FEATURES, DATA SET MANAGEMENT (TRIM), READ LOG (DMA) EXT for the log
 * directory and the NCQ error log, CHECK POWER MODE, the standby/idle
 * commands and READ VERIFY. Anything else ends with ABRT — never a hang.
 *
 * Every command is parsed and checked (opcode, count, LBA range without
 * overflow, read-only drive, PRDT covering the transfer) before a request
 * reaches the block layer.
 */
#include "hw/ahci_int.h"

#include <endian.h>
#include <pthread.h>
#include <string.h>

#include "block/block.h"
#include "util/log.h"

#define ATA_CMD_DSM              0x06
#define ATA_CMD_READ_DMA_EXT     0x25
#define ATA_CMD_READ_LOG_EXT     0x2f
#define ATA_CMD_WRITE_DMA_EXT    0x35
#define ATA_CMD_WRITE_FUA_EXT    0x3d
#define ATA_CMD_VERIFY           0x40
#define ATA_CMD_VERIFY_EXT       0x42
#define ATA_CMD_READ_LOG_DMA_EXT 0x47
#define ATA_CMD_FPDMA_READ       0x60
#define ATA_CMD_FPDMA_WRITE      0x61
#define ATA_CMD_READ_DMA         0xc8
#define ATA_CMD_WRITE_DMA        0xca
#define ATA_CMD_STANDBY_NOW      0xe0
#define ATA_CMD_IDLE_NOW         0xe1
#define ATA_CMD_STANDBY          0xe2
#define ATA_CMD_IDLE             0xe3
#define ATA_CMD_CHK_POWER        0xe5
#define ATA_CMD_FLUSH            0xe7
#define ATA_CMD_FLUSH_EXT        0xea
#define ATA_CMD_IDENTIFY         0xec
#define ATA_CMD_SET_FEATURES     0xef

#define ATA_LOG_DIRECTORY 0x00
#define ATA_LOG_NCQ       0x10

#define AHCI_MODEL    "BLKEMU HARDDISK"
#define AHCI_FIRMWARE "0.1"

/* ---- IDENTIFY DEVICE (ACS-3 §7.12.7) --------------------------------- */

/* ATA strings: two characters per word, the first in the high byte. */
static void id_string(uint16_t *w, unsigned words, const char *s)
{
    size_t n = strlen(s);
    for (unsigned i = 0; i < 2 * words; i++) {
        uint8_t ch = i < n ? (uint8_t)s[i] : ' ';
        if (i & 1)
            w[i / 2] |= ch;
        else
            w[i / 2] = (uint16_t)(ch << 8);
    }
}

static unsigned log2u(uint32_t v)
{
    unsigned l = 0;
    while (v > 1) {
        v >>= 1;
        l++;
    }
    return l;
}

void ahci_ata_identify(struct ahci_port *p, uint8_t out[512])
{
    uint16_t w[256];
    memset(w, 0, sizeof(w));
    pthread_mutex_lock(&p->a->lock);
    bool wce = p->wce;
    uint8_t mode = p->udma;
    pthread_mutex_unlock(&p->a->lock);
    uint64_t n = p->sectors;
    uint64_t n28 = n > 0x0fffffff ? 0x0fffffff : n;
    uint64_t chs = n > 16383ull * 16 * 63 ? 16383ull * 16 * 63 : n;
    w[0] = 0x0040;                      /* fixed ATA device */
    w[1] = (uint16_t)(chs / (16 * 63));
    w[3] = 16;
    w[6] = 63;
    id_string(&w[10], 10, p->serial);
    id_string(&w[23], 4, AHCI_FIRMWARE);
    id_string(&w[27], 20, AHCI_MODEL);
    w[47] = 0x8000 | 16;                /* READ/WRITE MULTIPLE: 16 */
    w[49] = 1 << 11 | 1 << 9 | 1 << 8;  /* IORDY, LBA, DMA */
    w[50] = 0x4000;
    w[53] = 0x0006;                     /* words 64-70 and 88 valid */
    w[54] = w[1];
    w[55] = 16;
    w[56] = 63;
    w[57] = (uint16_t)chs;
    w[58] = (uint16_t)(chs >> 16);
    w[60] = (uint16_t)n28;
    w[61] = (uint16_t)(n28 >> 16);
    w[63] = 0x0007 | (mode >= 0x20 && mode <= 0x22 ? 1u << (8 + (mode & 7)) : 0);
    w[64] = 0x0003;                     /* PIO 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[75] = AHCI_SLOTS - 1;             /* NCQ queue depth 32 */
    w[76] = 1 << 8 | 1 << 3 | 1 << 2 | 1 << 1;  /* NCQ; Gen1-3 */
    w[80] = 0x03f0;                     /* ATA/ATAPI-4 .. ACS-2 */
    w[82] = 1 << 14 | 1 << 6 | 1 << 5 | 1 << 3;  /* NOP, look-ahead, WC, PM */
    w[83] = 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10; /* FLUSH EXT, FLUSH, LBA48 */
    w[84] = 1 << 14 | 1 << 6 | 1 << 5;  /* WRITE DMA FUA EXT, GPL */
    w[85] = 1 << 14 | 1 << 6 | (wce ? 1 << 5 : 0) | 1 << 3;
    w[86] = 1 << 15 | 1 << 13 | 1 << 12 | 1 << 10;
    w[87] = 1 << 14 | 1 << 6 | 1 << 5;
    w[88] = 0x007f | (mode >= 0x40 && mode <= 0x46 ? 1u << (8 + (mode & 7)) : 0);
    for (unsigned i = 0; i < 4; i++)
        w[100 + i] = (uint16_t)(n >> (16 * i));
    w[105] = AHCI_DSM_MAX_BLOCKS;
    uint32_t pbs = blk_physical_block_size(p->blk);
    w[106] = 0x4000;
    if (pbs > p->ss)
        w[106] |= (uint16_t)(1 << 13 | log2u(pbs / p->ss));
    if (p->ss > 512) {                  /* a 4Kn drive: words 117-118 */
        w[106] |= 1 << 12;
        w[117] = (uint16_t)(p->ss / 2);
        w[118] = (uint16_t)(p->ss / 2 >> 16);
    }
    w[119] = w[120] = 0x4000;
    if (!p->readonly)
        w[169] = 1;                     /* DSM TRIM */
    w[217] = 1;                         /* non-rotating medium */
    w[255] = 0xa5;
    for (unsigned i = 0; i < 256; i++) {
        out[2 * i] = (uint8_t)w[i];
        out[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
    /* Integrity word: all 512 bytes sum to zero (ACS-3 §7.12.7.94). */
    uint8_t sum = 0;
    for (unsigned i = 0; i < 511; i++)
        sum = (uint8_t)(sum + out[i]);
    out[511] = (uint8_t)-sum;
}

/* ---- reads and writes ------------------------------------------------ */

static bool range_ok(const struct ahci_port *p, uint64_t lba, uint64_t n)
{
    return n <= p->sectors && lba <= p->sectors - n;
}

static void fail_now(struct ahci_cmd *c, uint8_t err)
{
    ahci_cmd_fail(c, err);
    ahci_cmd_finish(c);
}

/* READ/WRITE DMA (EXT), WRITE DMA FUA EXT, READ/WRITE FPDMA QUEUED. */
static void ata_rw(struct ahci_cmd *c, bool write, bool ext, bool ncq,
                   bool fua)
{
    struct ahci_port *p = c->p;
    const struct ata_tf *tf = &c->tf;
    uint64_t lba = tf->lba, n;
    if (ncq) {
        /* §13.6.4: count in FEATURE, tag in COUNT 7:3, FUA in DEVICE 7. */
        c->done = DONE_NCQ;
        n = tf->features ? tf->features : 65536;
        fua = tf->device & 0x80;
        if ((unsigned)(tf->count >> 3 & 0x1f) != c->slot) {
            log_guest_error("%s: slot %u: NCQ tag %u differs from the slot",
                            p->name, c->slot, tf->count >> 3 & 0x1f);
            return fail_now(c, ATA_ERR_ABRT);
        }
        AHCI_INC(p->st.ncq);
    } else if (ext) {
        n = tf->count ? tf->count : 65536;
    } else {
        lba = (lba & 0xffffff) | (uint64_t)(tf->device & 0xf) << 24;
        n = (tf->count & 0xff) ? (tf->count & 0xff) : 256;
    }
    if (write)
        AHCI_INC(p->st.writes);
    else
        AHCI_INC(p->st.reads);
    if (write && p->readonly)
        return fail_now(c, ATA_ERR_ABRT);
    if (!range_ok(p, lba, n))
        return fail_now(c, ATA_ERR_IDNF | ATA_ERR_ABRT);
    c->len = n * p->ss;
    c->is_read = !write;
    c->res.lba = lba;           /* reported if the command fails */
    if (!ahci_cmd_map(c))
        return;
    if (ncq)
        ahci_cmd_ncq_accept(c);
    /* Write cache off: every write is write-through (ACS-3 §7.45.8). */
    unsigned flags = write && (fua || !c->wce) ? BLK_REQ_FUA : 0;
    ahci_cmd_submit(c, write ? BLK_OP_WRITE : BLK_OP_READ, lba * p->ss, 0,
                    flags);
}

/* DATA SET MANAGEMENT with TRIM (ACS-3 §7.5): COUNT 512-byte blocks of
 * 8-byte entries, LBA in bits 47:0 and length in 63:48 (0: unused). The
 * whole list is copied and checked before any discard goes out. */
static void ata_dsm(struct ahci_cmd *c)
{
    struct ahci_port *p = c->p;
    AHCI_INC(p->st.trims);
    unsigned blocks = c->tf.count;
    if (!(c->tf.features & 1) || blocks == 0 ||
        blocks > AHCI_DSM_MAX_BLOCKS || p->readonly)
        return fail_now(c, ATA_ERR_ABRT);
    uint32_t len = 512 * blocks;
    if (!ahci_cmd_copy_out(c, c->buf, len))
        return;
    unsigned nent = len / 8;
    for (unsigned i = 0; i < nent; i++) {
        uint64_t e;
        memcpy(&e, c->buf + 8 * i, 8);
        e = le64toh(e);
        if ((e >> 48) && !range_ok(p, e & 0xffffffffffffull, e >> 48))
            return fail_now(c, ATA_ERR_IDNF | ATA_ERR_ABRT);
    }
    c->len = 0;     /* no data moves to or from the medium */
    for (unsigned i = 0; i < nent; i++) {
        uint64_t e;
        memcpy(&e, c->buf + 8 * i, 8);
        e = le64toh(e);
        uint64_t lba = e & 0xffffffffffffull, n = e >> 48;
        /* Merge entries that continue the previous one. */
        while (n && i + 1 < nent) {
            uint64_t f;
            memcpy(&f, c->buf + 8 * (i + 1), 8);
            f = le64toh(f);
            if (!(f >> 48) || (f & 0xffffffffffffull) != lba + n)
                break;
            n += f >> 48;
            i++;
        }
        if (n)
            ahci_cmd_submit(c, BLK_OP_DISCARD, lba * p->ss, n * p->ss, 0);
    }
    if (!c->parts)
        ahci_cmd_finish(c);
}

/* ---- logs (ACS-3 §9) ------------------------------------------------- */

static void ata_read_log(struct ahci_cmd *c, bool dma)
{
    struct ahci_port *p = c->p;
    AHCI_INC(p->st.other);
    unsigned log = c->tf.lba & 0xff, page = (unsigned)(c->tf.lba >> 8) & 0xffff;
    unsigned count = c->tf.count;
    uint8_t b[512];
    memset(b, 0, sizeof(b));
    if (count != 1 || page != 0)        /* every log we have is one page */
        return fail_now(c, ATA_ERR_ABRT);
    if (log == ATA_LOG_DIRECTORY) {
        b[0] = 1;                       /* general purpose logging v1 */
        b[2 * ATA_LOG_NCQ] = 1;
    } else if (log == ATA_LOG_NCQ) {
        /* §9.13: the failed NCQ command, or NQ set when there is none;
         * reading the log clears the error. */
        pthread_mutex_lock(&p->a->lock);
        if (p->ncq_err) {
            b[0] = p->ncq_err_tag & 0x1f;
            b[2] = p->ncq_err_status;
            b[3] = p->ncq_err_error;
            for (unsigned i = 0; i < 3; i++) {
                b[4 + i] = (uint8_t)(p->ncq_err_lba >> (8 * i));
                b[8 + i] = (uint8_t)(p->ncq_err_lba >> (8 * (i + 3)));
            }
            b[7] = 0x40;
            p->ncq_err = false;
        } else {
            b[0] = 0x80;
        }
        pthread_mutex_unlock(&p->a->lock);
        uint8_t sum = 0;
        for (unsigned i = 0; i < 511; i++)
            sum = (uint8_t)(sum + b[i]);
        b[511] = (uint8_t)-sum;
    } else {
        return fail_now(c, ATA_ERR_ABRT);
    }
    c->done = dma ? DONE_D2H : DONE_PIO_IN;
    if (ahci_cmd_copy_in(c, b, sizeof(b)))
        ahci_cmd_finish(c);
}

/* ---- SET FEATURES (ACS-3 §7.45) -------------------------------------- */

static void ata_set_features(struct ahci_cmd *c)
{
    struct ahci_port *p = c->p;
    AHCI_INC(p->st.other);
    uint8_t sub = (uint8_t)c->tf.features, arg = (uint8_t)c->tf.count;
    bool ok = true;
    pthread_mutex_lock(&p->a->lock);
    switch (sub) {
    case 0x02: p->wce = true; break;
    case 0x82: p->wce = false; break;
    case 0x03:      /* transfer mode: PIO default/0-4, MWDMA 0-2, UDMA 0-6 */
        if (arg <= 0x01 || (arg >= 0x08 && arg <= 0x0c) ||
            (arg >= 0x20 && arg <= 0x22) || (arg >= 0x40 && arg <= 0x46)) {
            if (arg >= 0x20)
                p->udma = arg;
        } else {
            ok = false;
        }
        break;
    case 0x55: case 0xaa:   /* read look-ahead off/on */
    case 0x66: case 0xcc:   /* power-on defaults: keep / revert */
        break;
    default:
        ok = false;
        break;
    }
    pthread_mutex_unlock(&p->a->lock);
    if (!ok)
        ahci_cmd_fail(c, ATA_ERR_ABRT);
    ahci_cmd_finish(c);
}

/* ---- dispatch -------------------------------------------------------- */

void ahci_ata_exec(struct ahci_cmd *c)
{
    struct ahci_port *p = c->p;
    switch (c->tf.command) {
    case ATA_CMD_READ_DMA_EXT:   return ata_rw(c, false, true, false, false);
    case ATA_CMD_READ_DMA:       return ata_rw(c, false, false, false, false);
    case ATA_CMD_WRITE_DMA_EXT:  return ata_rw(c, true, true, false, false);
    case ATA_CMD_WRITE_DMA:      return ata_rw(c, true, false, false, false);
    case ATA_CMD_WRITE_FUA_EXT:  return ata_rw(c, true, true, false, true);
    case ATA_CMD_FPDMA_READ:     return ata_rw(c, false, true, true, false);
    case ATA_CMD_FPDMA_WRITE:    return ata_rw(c, true, true, true, false);
    case ATA_CMD_FLUSH:
    case ATA_CMD_FLUSH_EXT:
        AHCI_INC(p->st.flushes);
        return ahci_cmd_submit(c, BLK_OP_FLUSH, 0, 0, 0);
    case ATA_CMD_DSM:
        return ata_dsm(c);
    case ATA_CMD_IDENTIFY: {
        AHCI_INC(p->st.other);
        uint8_t id[512];
        ahci_ata_identify(p, id);
        c->done = DONE_PIO_IN;
        if (ahci_cmd_copy_in(c, id, sizeof(id)))
            ahci_cmd_finish(c);
        return;
    }
    case ATA_CMD_SET_FEATURES:
        return ata_set_features(c);
    case ATA_CMD_READ_LOG_EXT:
        return ata_read_log(c, false);
    case ATA_CMD_READ_LOG_DMA_EXT:
        return ata_read_log(c, true);
    case ATA_CMD_CHK_POWER:
        c->res.count = 0xff;            /* active or idle */
        /* fall through */
    case ATA_CMD_STANDBY_NOW:
    case ATA_CMD_IDLE_NOW:
    case ATA_CMD_STANDBY:
    case ATA_CMD_IDLE:
        AHCI_INC(p->st.other);
        return ahci_cmd_finish(c);
    case ATA_CMD_VERIFY:
    case ATA_CMD_VERIFY_EXT: {
        AHCI_INC(p->st.other);
        bool ext = c->tf.command == ATA_CMD_VERIFY_EXT;
        uint64_t lba = ext ? c->tf.lba : (c->tf.lba & 0xffffff) |
                       (uint64_t)(c->tf.device & 0xf) << 24;
        uint64_t n = ext ? (c->tf.count ? c->tf.count : 65536)
                         : ((c->tf.count & 0xff) ? (c->tf.count & 0xff) : 256);
        if (!range_ok(p, lba, n))
            ahci_cmd_fail(c, ATA_ERR_IDNF | ATA_ERR_ABRT);
        return ahci_cmd_finish(c);
    }
    default:
        AHCI_INC(p->st.other);
        log_guest_error("%s: slot %u: ATA command 0x%02x not supported "
                        "(ABRT)", p->name, c->slot, c->tf.command);
        return fail_now(c, ATA_ERR_ABRT);
    }
}
