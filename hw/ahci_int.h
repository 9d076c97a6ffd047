/*
 * hw/ahci_int.h — what hw/ahci.c (registers), hw/ahci_cmd.c (command
 * list, FIS and PRDT handling on the iothread) and hw/ahci_ata.c (the ATA
 * command set) share. Not for other users: see hw/ahci.h.
 *
 * Section numbers are AHCI 1.3.1 unless said otherwise; ATA ones are
 * ACS-3 (T13/2161-D), SATA ones SATA 3.2.
 */
#ifndef HW_AHCI_INT_H
#define HW_AHCI_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "hw/ahci.h"
#include "hw/iostats.h"
#include "hw/pci.h"

/* ---- generic host control (§3.1) ---- */
#define HBA_CAP      0x00
#define HBA_GHC      0x04
#define HBA_IS       0x08
#define HBA_PI       0x0c
#define HBA_VS       0x10
#define HBA_CCC_CTL  0x14
#define HBA_CCC_PORTS 0x18
#define HBA_EM_LOC   0x1c
#define HBA_EM_CTL   0x20
#define HBA_CAP2     0x24
#define HBA_BOHC     0x28
#define HBA_PORT_BASE 0x100
#define HBA_PORT_SIZE 0x80

#define CAP_S64A   (1u << 31)
#define CAP_SNCQ   (1u << 30)
#define CAP_SAM    (1u << 18)   /* AHCI only: GHC.AE reads 1 */
#define CAP_SCLO   (1u << 24)
#define CAP_PMD    (1u << 15)
#define CAP_ISS_GEN3 (3u << 20)

#define GHC_HR     (1u << 0)
#define GHC_IE     (1u << 1)
#define GHC_AE     (1u << 31)

#define AHCI_VERSION 0x00010301u

/* ---- port registers (§3.3) ---- */
#define PX_CLB   0x00
#define PX_CLBU  0x04
#define PX_FB    0x08
#define PX_FBU   0x0c
#define PX_IS    0x10
#define PX_IE    0x14
#define PX_CMD   0x18
#define PX_TFD   0x20
#define PX_SIG   0x24
#define PX_SSTS  0x28
#define PX_SCTL  0x2c
#define PX_SERR  0x30
#define PX_SACT  0x34
#define PX_CI    0x38
#define PX_SNTF  0x3c
#define PX_FBS   0x40

/* PxIS / PxIE bits (§3.3.5) */
#define PXIS_DHRS  (1u << 0)    /* D2H Register FIS */
#define PXIS_PSS   (1u << 1)    /* PIO Setup FIS */
#define PXIS_DSS   (1u << 2)
#define PXIS_SDBS  (1u << 3)    /* Set Device Bits FIS */
#define PXIS_UFS   (1u << 4)
#define PXIS_DPS   (1u << 5)    /* a PRD with I set was processed */
#define PXIS_PCS   (1u << 6)
#define PXIS_OFS   (1u << 24)
#define PXIS_HBDS  (1u << 28)
#define PXIS_HBFS  (1u << 29)   /* host bus fatal error */
#define PXIS_TFES  (1u << 30)   /* task-file error */
#define PXIS_RWC   0xfd8000afu  /* bits software clears by writing 1 */
#define PXIE_MASK  0xfdc000ffu

/* PxCMD bits (§3.3.7) */
#define PXCMD_ST   (1u << 0)
#define PXCMD_SUD  (1u << 1)
#define PXCMD_POD  (1u << 2)
#define PXCMD_CLO  (1u << 3)
#define PXCMD_FRE  (1u << 4)
#define PXCMD_CCS_SHIFT 8
#define PXCMD_FR   (1u << 14)
#define PXCMD_CR   (1u << 15)
#define PXCMD_ATAPI (1u << 24)
#define PXCMD_DLAE (1u << 25)
#define PXCMD_ICC_MASK (0xfu << 28)

/* Task-file status and error bits (ACS-3 §6.2, §6.3). */
#define ATA_STS_ERR  0x01
#define ATA_STS_DRQ  0x08
#define ATA_STS_DSC  0x10
#define ATA_STS_DRDY 0x40
#define ATA_STS_BSY  0x80
#define ATA_STS_OK   (ATA_STS_DRDY | ATA_STS_DSC)
#define ATA_ERR_ABRT 0x04
#define ATA_ERR_IDNF 0x10
#define ATA_ERR_UNC  0x40

/* FIS types (SATA §10.5) and received-FIS area offsets (§4.2.1). */
#define FIS_REG_H2D  0x27
#define FIS_REG_D2H  0x34
#define FIS_PIO_SETUP 0x5f
#define FIS_SDB      0xa1
#define RFIS_PSFIS   0x20
#define RFIS_RFIS    0x40
#define RFIS_SDBFIS  0x58
#define RFIS_SIZE    0x100

/* Command header DW0 (§4.2.2). */
#define CMDH_CFL_MASK 0x1fu
#define CMDH_ATAPI  (1u << 5)
#define CMDH_WRITE  (1u << 6)
#define CMDH_RESET  (1u << 8)
#define CMDH_CLR_BUSY (1u << 10)
#define CMDH_PRDTL_SHIFT 16
#define CMD_TABLE_PRDT 0x80
#define PRD_DBC_MASK 0x3fffffu
#define PRD_I        (1u << 31)

/* Device signature of an ATA disk (PxSIG, §3.3.9). */
#define ATA_SIGNATURE 0x00000101u
#define SSTS_UP      0x133u     /* IPM active, Gen3, device + PHY ready */

/* Limits: IDENTIFY word 105, the bounce buffer for PRDTs with more
 * segments than the block layer takes. */
#define AHCI_DSM_MAX_BLOCKS 8
#define AHCI_BOUNCE_MAX (32u << 20)

/* The command FIS as the device sees it (ATA registers, LBA48 layout). */
struct ata_tf {
    uint8_t command, device, control;
    uint16_t features, count;   /* with their _exp halves */
    uint64_t lba;               /* 48 bits */
};

/* Result registers for the D2H / PIO Setup FIS. */
struct ata_result {
    uint8_t status, error, device;
    uint16_t count;
    uint64_t lba;
};

enum ahci_cmd_state { CMD_FREE = 0, CMD_BUSY };

/* How the command ends when it completes without an error. */
enum ahci_done_fis { DONE_D2H = 0, DONE_PIO_IN, DONE_NCQ };

struct ahci_port;

/* One command slot while the port's iothread owns it (from the time the
 * bottom half takes the slot to completion). A command whose generation
 * is older than the port's was aborted (ST cleared, reset): its
 * completion is dropped, but the slot stays busy until the block layer
 * has returned every request, so no buffer is reused early. */
struct ahci_cmd {
    struct ahci_port *p;
    unsigned slot;
    enum ahci_cmd_state state;
    uint32_t gen;
    uint64_t clb;               /* the command list it came from */
    uint64_t ctba;              /* its command table */
    uint32_t prdtl;             /* PRDT entries */
    struct ata_tf tf;
    struct ata_result res;
    enum ahci_done_fis done;
    bool wce;                   /* write cache enabled when taken */
    bool failed;
    uint8_t err;                /* first error (ATA error register) */
    unsigned parts;             /* block-layer requests still out */
    uint32_t prdbc;             /* bytes transferred (PxCLB DW1) */
    uint64_t len;               /* data bytes the command moves */
    bool is_read;               /* device to host */
    struct iovec *iov;          /* over guest RAM */
    unsigned niov, iov_cap;
    uint8_t *bounce;            /* when the PRDT has too many segments */
    struct iostats_req lat;     /* phase timestamps (hw/iostats.h) */
    enum blk_op lat_op;         /* the op of its first request */
    uint8_t buf[512 * AHCI_DSM_MAX_BLOCKS];  /* DSM ranges */
};

struct ahci_port {
    struct ahci *a;
    unsigned index;
    char name[40];
    /* The disk; fixed after ahci_attach(). */
    bool present;
    bool readonly;
    struct blk *blk;
    struct iothread *io;
    struct loop_bh *bh;
    struct iostats_drive *ios;  /* statistics: one queue per port */
    struct iostats_queue *iosq;
    uint64_t doorbell_ns;       /* of the commands the bottom half takes */
    uint64_t sectors;           /* in logical sectors */
    uint32_t ss;                /* logical sector size: 512 or 4096 */
    char serial[AHCI_SERIAL_MAX + 1];
    /* Registers: under a->lock. */
    uint64_t clb, fb;
    uint32_t is, ie, cmd, tfd, sig, ssts, sctl, serr, sact, ci;
    uint32_t pending;           /* issued slots the iothread has not taken */
    uint32_t busy;              /* slots the iothread owns (cmds[].state) */
    uint32_t ncq_tags;          /* NCQ tags in flight (current generation) */
    uint32_t gen;
    bool halted;                /* after TFES/HBFS: no more commands until
                                 * ST is cleared (§6.2.2.1) */
    bool srst;                  /* SRST seen in a control FIS */
    unsigned inflight;          /* busy slots: CR stays set until 0 */
    bool release_delays;        /* aborted: send held requests on (bh) */
    /* ATA device state: under a->lock. */
    bool wce;                   /* write cache enabled */
    uint8_t udma;               /* selected transfer mode */
    bool ncq_err;               /* log 10h holds an error */
    uint8_t ncq_err_tag, ncq_err_status, ncq_err_error;
    uint64_t ncq_err_lba;
    struct ahci_cmd cmds[AHCI_SLOTS];
    struct {
        _Atomic uint64_t cmds, reads, writes, ncq, flushes, trims, other,
            bytes_read, bytes_written, tf_errors, hbfs, doorbells, batches,
            interrupts, max_inflight;
    } st;
};

struct ahci {
    struct pci_dev pci;
    struct machine *m;
    char *name;
    pthread_mutex_t lock;       /* every register below and in the ports */
    pthread_cond_t idle;        /* signalled when a port's inflight hits 0 */
    uint32_t ghc, is;
    bool resetting;             /* GHC.HR reads 1 until requests drain */
    bool irq;                   /* the INTx level we drive */
    struct ahci_port ports[AHCI_PORTS];
};

#define AHCI_ADD(c, n) atomic_fetch_add_explicit(&(c), (n), memory_order_relaxed)
#define AHCI_INC(c) AHCI_ADD(c, 1)

/* hw/ahci.c — with a->lock held. */
void ahci_update_irq(struct ahci *a);
/* Total requests in flight went to zero on this port (lock held). */
void ahci_port_idle(struct ahci_port *p);
/* The device's reset (COMRESET, SRST): signature, ready, ATA settings
 * to their defaults (lock held). */
void ahci_port_device_reset(struct ahci_port *p);

/* hw/ahci_cmd.c */
void ahci_port_bh(void *opaque);       /* the port's bottom half */
/* Post a FIS into the received-FIS area at `off` (lock held); false (and
 * PxIS.HBFS) if the area is outside RAM. Nothing if FRE is off. */
bool ahci_post_fis(struct ahci_port *p, unsigned off, const uint8_t *fis,
                   unsigned len);
/* The signature D2H FIS after a reset (lock held). */
void ahci_post_signature(struct ahci_port *p);

/* hw/ahci_cmd.c — services for the ATA layer (iothread). */
/* Map the PRDT onto c->iov for c->len bytes. False after setting the
 * command's error (too short: ABRT) or HBFS (outside RAM). */
bool ahci_cmd_map(struct ahci_cmd *c);
/* Submit one block-layer request for the command. */
void ahci_cmd_submit(struct ahci_cmd *c, enum blk_op op, uint64_t off,
                     uint64_t len, unsigned flags);
/* Finish the command now (no request out): success unless failed. */
void ahci_cmd_finish(struct ahci_cmd *c);
/* An NCQ command was accepted (SATA §13.6.4.1): its PxCI bit clears, a
 * D2H FIS without the I bit, the tag is in flight until its SDB FIS. */
void ahci_cmd_ncq_accept(struct ahci_cmd *c);
/* Mark the command failed with ATA error `err` (first error wins). */
void ahci_cmd_fail(struct ahci_cmd *c, uint8_t err);
/* Copy `len` bytes from buf to the guest (PIO or DMA in), or from the
 * guest into buf (DMA out): maps the PRDT first. False after failing. */
bool ahci_cmd_copy_in(struct ahci_cmd *c, const void *buf, uint32_t len);
bool ahci_cmd_copy_out(struct ahci_cmd *c, void *buf, uint32_t len);

/* hw/ahci_ata.c (iothread): execute a parsed command FIS. */
void ahci_ata_exec(struct ahci_cmd *c);
/* The 256 IDENTIFY DEVICE words, little-endian, for port p. */
void ahci_ata_identify(struct ahci_port *p, uint8_t out[512]);

#endif
