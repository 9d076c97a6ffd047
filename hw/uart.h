/*
 * hw/uart.h — a 16550A UART ("ns16550a") as on QEMU's virt: byte-wide
 * registers at stride 1 (reg-shift 0), a 16-byte receive FIFO, and an
 * interrupt line (PLIC source 10 on virt).
 *
 * Registers (PC16550D datasheet; offsets from the base, region UART_SIZE):
 *   0 RBR (read) / THR (write); DLL when LCR.DLAB
 *   1 IER;                      DLM when LCR.DLAB
 *   2 IIR (read) / FCR (write)
 *   3 LCR   4 MCR   5 LSR   6 MSR   7 SCR
 * Transmission is instant: each THR write goes to the tx callback at once,
 * so LSR.THRE and LSR.TEMT always read 1 and the THRE interrupt re-arms
 * after every THR write. Linux's 8250 driver's THRE and TXEN probes pass:
 * setting IER.ETBEI while THR is empty raises the THRE interrupt, which a
 * read of IIR naming it (or a THR write) clears.
 * The receive timeout interrupt (IIR 0xc) is raised as soon as the FIFO
 * holds data below its trigger level: host input arrives in bursts, so
 * waiting four character times would only add latency.
 * Loopback (MCR.LOOP) routes THR to the receive FIFO and MCR's outputs to
 * MSR's inputs; host input waits meanwhile.
 *
 * Thread-safe (one mutex): MMIO from vCPU threads, uart_receive() from the
 * main loop. Accesses of any width act on the byte register at `off`.
 */
#ifndef HW_UART_H
#define HW_UART_H

#include <stddef.h>
#include <stdint.h>

#include "hw/bus.h"
#include "hw/irq.h"

struct uart;

#define UART_SIZE 0x100ull
#define UART_FIFO_SIZE 16u

typedef void uart_tx_fn(void *opaque, const uint8_t *buf, size_t len);

extern const struct mmio_ops uart_mmio_ops;

/* A UART raising `irq` and sending transmitted bytes to `tx` (called on the
 * writing vCPU thread, under the UART's lock, in order). NULL when out of
 * memory. */
struct uart *uart_new(struct irq_line irq, uart_tx_fn *tx, void *tx_opaque);
void uart_free(struct uart *u);

/* Machine reset: registers to their reset values, FIFO emptied, line low. */
void uart_reset(struct uart *u);

/* Host input (any thread): put up to `len` bytes into the receive FIFO;
 * returns how many were taken. Taking fewer than `len` arms the rx_ready
 * callback. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);

/* Free space in the receive FIFO now (any thread). */
size_t uart_rx_space(struct uart *u);

/* `cb(opaque)` is called (on the guest's vCPU thread, without the UART's
 * lock held) when the receive FIFO gains room after a uart_receive() that
 * could not take everything: the board passes console_resume. */
void uart_set_rx_ready(struct uart *u, void (*cb)(void *opaque),
                       void *opaque);

struct uart_stats {
    uint64_t tx_bytes;  /* THR writes sent to tx */
    uint64_t rx_bytes;  /* bytes taken by uart_receive */
};
struct uart_stats uart_get_stats(struct uart *u);

#endif
