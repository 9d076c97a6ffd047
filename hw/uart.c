/*
 * hw/uart.c — a 16550A UART (see uart.h). Section names refer to the
 * PC16550D datasheet ("8.0 Registers").
 */
#include "hw/uart.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/log.h"

enum {
    REG_RBR_THR = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3,
    REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};

enum {
    IER_ERBFI = 0x01, IER_ETBEI = 0x02, IER_ELSI = 0x04, IER_EDSSI = 0x08,
};

enum {
    IIR_NONE = 0x01, IIR_MSR = 0x00, IIR_THRE = 0x02, IIR_RDA = 0x04,
    IIR_RLS = 0x06, IIR_TIMEOUT = 0x0c, IIR_ID_MASK = 0x0f, IIR_FIFO = 0xc0,
};

enum {
    FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02, FCR_CLEAR_TX = 0x04,
    FCR_DMA = 0x08, FCR_TRIGGER = 0xc0,
};

enum { LCR_DLAB = 0x80 };

enum {
    MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08,
    MCR_LOOP = 0x10,
};

enum {
    LSR_DR = 0x01, LSR_OE = 0x02, LSR_PE = 0x04, LSR_FE = 0x08,
    LSR_BI = 0x10, LSR_THRE = 0x20, LSR_TEMT = 0x40,
    LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI,
};

enum {
    MSR_DCTS = 0x01, MSR_DDSR = 0x02, MSR_TERI = 0x04, MSR_DDCD = 0x08,
    MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80,
};

struct uart {
    pthread_mutex_t lock;               /* everything below */
    struct irq_line irq;
    bool irq_level;
    uart_tx_fn *tx;
    void *tx_opaque;
    void (*rx_ready)(void *opaque);
    void *rx_ready_opaque;

    uint8_t rx[UART_FIFO_SIZE];
    unsigned rx_head, rx_count;
    bool rx_blocked;    /* a uart_receive() left bytes behind */

    uint8_t ier, lcr, mcr, fcr, scr, dll, dlm;
    uint8_t lsr_err;    /* OE/PE/FE/BI, cleared by reading LSR */
    uint8_t msr_delta;  /* DCTS/DDSR/TERI/DDCD, cleared by reading MSR */
    bool thr_ipending;  /* THRE interrupt armed (see uart.h) */
    struct uart_stats stats;
};

static bool uart_fifo_on(const struct uart *u)
{
    return u->fcr & FCR_ENABLE;
}

/* Receive capacity: the FIFO, or the single holding register of 16450
 * mode (FCR.0 = 0). Loopback disconnects the serial input. */
static unsigned uart_rx_cap(const struct uart *u)
{
    return uart_fifo_on(u) ? UART_FIFO_SIZE : 1;
}

static unsigned uart_rx_trigger(const struct uart *u)
{
    static const unsigned level[4] = { 1, 4, 8, 14 };
    return uart_fifo_on(u) ? level[u->fcr >> 6] : 1;
}

/* Modem inputs: in loopback MCR's outputs, else a cable that is always
 * ready (DCD, DSR, CTS), as QEMU presents it. */
static uint8_t uart_msr_status(const struct uart *u)
{
    if (!(u->mcr & MCR_LOOP))
        return MSR_DCD | MSR_DSR | MSR_CTS;
    uint8_t s = 0;
    if (u->mcr & MCR_RTS)
        s |= MSR_CTS;
    if (u->mcr & MCR_DTR)
        s |= MSR_DSR;
    if (u->mcr & MCR_OUT1)
        s |= MSR_RI;
    if (u->mcr & MCR_OUT2)
        s |= MSR_DCD;
    return s;
}

static uint8_t uart_lsr(const struct uart *u)
{
    uint8_t lsr = LSR_THRE | LSR_TEMT | u->lsr_err;
    if (u->rx_count)
        lsr |= LSR_DR;
    return lsr;
}

/* IIR: the highest-priority pending interrupt ("Interrupt Identification
 * Register", table IV): line status, received data (or timeout), THRE,
 * modem status. */
static uint8_t uart_iir(const struct uart *u)
{
    uint8_t id = IIR_NONE;
    if ((u->ier & IER_ELSI) && u->lsr_err)
        id = IIR_RLS;
    else if ((u->ier & IER_ERBFI) && u->rx_count)
        id = u->rx_count >= uart_rx_trigger(u) ? IIR_RDA : IIR_TIMEOUT;
    else if ((u->ier & IER_ETBEI) && u->thr_ipending)
        id = IIR_THRE;
    else if ((u->ier & IER_EDSSI) && u->msr_delta)
        id = IIR_MSR;
    return id | (uart_fifo_on(u) ? IIR_FIFO : 0);
}

/* Drive the interrupt line from the state. Caller holds the lock, so line
 * changes reach the PLIC in the order they happen. */
static void uart_update(struct uart *u)
{
    bool level = !(uart_iir(u) & IIR_NONE);
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

/* Append to the receive FIFO; false (overrun) when full. */
static bool uart_rx_push(struct uart *u, uint8_t b)
{
    if (u->rx_count >= uart_rx_cap(u)) {
        u->lsr_err |= LSR_OE;
        return false;
    }
    u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
    u->rx_count++;
    return true;
}

static void uart_rx_clear(struct uart *u)
{
    u->rx_head = u->rx_count = 0;
}

/* Space appeared in the FIFO: if the host was refused bytes, tell it (after
 * the caller drops the lock). */
static bool uart_rx_unblock(struct uart *u)
{
    if (!u->rx_blocked || !u->rx_ready || u->rx_count >= uart_rx_cap(u) ||
        (u->mcr & MCR_LOOP))
        return false;
    u->rx_blocked = false;
    return true;
}

/* ---- register access (lock held; *notify set when rx_ready must run) ---- */

static uint8_t uart_read_reg(struct uart *u, unsigned reg, bool *notify)
{
    uint8_t v = 0;
    switch (reg) {
    case REG_RBR_THR:
        if (u->lcr & LCR_DLAB)
            return u->dll;
        if (u->rx_count) {
            v = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
            u->rx_count--;
            *notify = uart_rx_unblock(u);
        }
        break;
    case REG_IER:
        return u->lcr & LCR_DLAB ? u->dlm : u->ier;
    case REG_IIR_FCR:
        v = uart_iir(u);
        /* Reading IIR while it names THRE clears that interrupt. */
        if ((v & IIR_ID_MASK) == IIR_THRE)
            u->thr_ipending = false;
        break;
    case REG_LCR:
        return u->lcr;
    case REG_MCR:
        return u->mcr;
    case REG_LSR:
        v = uart_lsr(u);
        u->lsr_err = 0;
        break;
    case REG_MSR:
        v = uart_msr_status(u) | u->msr_delta;
        u->msr_delta = 0;
        break;
    case REG_SCR:
        return u->scr;
    }
    uart_update(u);
    return v;
}

static void uart_write_thr(struct uart *u, uint8_t b)
{
    if (u->mcr & MCR_LOOP)
        uart_rx_push(u, b);
    else if (u->tx)
        u->tx(u->tx_opaque, &b, 1);
    u->stats.tx_bytes++;
    /* Sent at once: THR is empty again, so THRE interrupts anew. */
    u->thr_ipending = true;
}

static void uart_write_mcr(struct uart *u, uint8_t v)
{
    uint8_t before = uart_msr_status(u);
    u->mcr = v & 0x1f;
    uint8_t after = uart_msr_status(u);
    uint8_t changed = before ^ after;
    if (changed & MSR_CTS)
        u->msr_delta |= MSR_DCTS;
    if (changed & MSR_DSR)
        u->msr_delta |= MSR_DDSR;
    if (changed & MSR_DCD)
        u->msr_delta |= MSR_DDCD;
    if ((before & MSR_RI) && !(after & MSR_RI))
        u->msr_delta |= MSR_TERI;   /* trailing edge of RI */
}

static void uart_write_reg(struct uart *u, unsigned reg, uint8_t v,
                           bool *notify)
{
    switch (reg) {
    case REG_RBR_THR:
        if (u->lcr & LCR_DLAB)
            u->dll = v;
        else
            uart_write_thr(u, v);
        break;
    case REG_IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
        } else {
            /* Enabling ETBEI while THR is empty (always, here) raises the
             * THRE interrupt even if an IIR read had cleared it: Linux's
             * THRE and TXEN probes rely on it. */
            if ((v & IER_ETBEI) && !(u->ier & IER_ETBEI))
                u->thr_ipending = true;
            else if (!(v & IER_ETBEI))
                u->thr_ipending = false;
            u->ier = v & 0x0f;
        }
        break;
    case REG_IIR_FCR:
        /* Toggling FIFO enable empties the FIFOs ("FIFO Control
         * Register"). */
        if ((v ^ u->fcr) & FCR_ENABLE || (v & FCR_CLEAR_RX))
            uart_rx_clear(u);
        u->fcr = v & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
        *notify = uart_rx_unblock(u);
        break;
    case REG_LCR:
        u->lcr = v;
        break;
    case REG_MCR:
        uart_write_mcr(u, v);
        *notify = uart_rx_unblock(u);
        break;
    case REG_LSR:
    case REG_MSR:
        break;      /* factory test registers: writes ignored */
    case REG_SCR:
        u->scr = v;
        break;
    }
    uart_update(u);
}

static bool uart_read(void *opaque, uint64_t off, unsigned size,
                      uint64_t *val)
{
    struct uart *u = opaque;
    *val = 0;
    if (off > REG_SCR)
        return true;
    bool notify = false;
    pthread_mutex_lock(&u->lock);
    *val = uart_read_reg(u, (unsigned)off, &notify);
    pthread_mutex_unlock(&u->lock);
    if (notify)
        u->rx_ready(u->rx_ready_opaque);
    return true;
}

static bool uart_write(void *opaque, uint64_t off, unsigned size,
                       uint64_t val)
{
    struct uart *u = opaque;
    if (off > REG_SCR) {
        log_guest_error("uart: write to +0x%llx ignored",
                        (unsigned long long)off);
        return true;
    }
    bool notify = false;
    pthread_mutex_lock(&u->lock);
    uart_write_reg(u, (unsigned)off, (uint8_t)val, &notify);
    pthread_mutex_unlock(&u->lock);
    if (notify)
        u->rx_ready(u->rx_ready_opaque);
    return true;
}

const struct mmio_ops uart_mmio_ops = {
    .read = uart_read,
    .write = uart_write,
};

/* ---- host side ---- */

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
    size_t took = 0;
    pthread_mutex_lock(&u->lock);
    if (!(u->mcr & MCR_LOOP)) {
        while (took < len && u->rx_count < uart_rx_cap(u))
            uart_rx_push(u, buf[took++]);
    }
    if (took < len)
        u->rx_blocked = true;
    u->stats.rx_bytes += took;
    uart_update(u);
    pthread_mutex_unlock(&u->lock);
    return took;
}

size_t uart_rx_space(struct uart *u)
{
    pthread_mutex_lock(&u->lock);
    size_t n = u->mcr & MCR_LOOP ? 0 : uart_rx_cap(u) - u->rx_count;
    pthread_mutex_unlock(&u->lock);
    return n;
}

void uart_set_rx_ready(struct uart *u, void (*cb)(void *opaque),
                       void *opaque)
{
    pthread_mutex_lock(&u->lock);
    u->rx_ready = cb;
    u->rx_ready_opaque = opaque;
    pthread_mutex_unlock(&u->lock);
}

struct uart *uart_new(struct irq_line irq, uart_tx_fn *tx, void *tx_opaque)
{
    struct uart *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    pthread_mutex_init(&u->lock, NULL);
    u->irq = irq;
    u->tx = tx;
    u->tx_opaque = tx_opaque;
    return u;
}

void uart_free(struct uart *u)
{
    if (!u)
        return;
    pthread_mutex_destroy(&u->lock);
    free(u);
}

void uart_reset(struct uart *u)
{
    pthread_mutex_lock(&u->lock);
    uart_rx_clear(u);
    u->ier = u->lcr = u->mcr = u->fcr = u->scr = u->dll = u->dlm = 0;
    u->lsr_err = u->msr_delta = 0;
    u->thr_ipending = false;
    bool notify = uart_rx_unblock(u);
    uart_update(u);
    pthread_mutex_unlock(&u->lock);
    if (notify)
        u->rx_ready(u->rx_ready_opaque);
}

struct uart_stats uart_get_stats(struct uart *u)
{
    pthread_mutex_lock(&u->lock);
    struct uart_stats s = u->stats;
    pthread_mutex_unlock(&u->lock);
    return s;
}
