/*
 * tests/unit/uart.c — 16550A register semantics through its mmio_ops: THR
 * to tx, the RX FIFO and flow control with rx_ready, LSR bits, IIR
 * priority and FIFO bits, the THRE interrupt as Linux's 8250 probes it,
 * DLAB, scratch, loopback, and the interrupt line.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "hw/uart.h"

struct line {
    bool level;
    unsigned changes;
};

static void line_set(void *opaque, unsigned n, bool level)
{
    struct line *l = opaque;
    cr_assert_eq(n, 10);
    l->level = level;
    l->changes++;
}

static uint8_t txbuf[256];
static size_t txlen;

static void tx(void *opaque, const uint8_t *buf, size_t len)
{
    memcpy(txbuf + txlen, buf, len);
    txlen += len;
}

static int ready_calls;

static void rx_ready(void *opaque)
{
    ready_calls++;
}

static struct line line;
static struct uart *uart;

static void setup(void)
{
    uart = uart_new((struct irq_line){ line_set, &line, 10 }, tx, NULL);
    cr_assert(uart);
    uart_set_rx_ready(uart, rx_ready, NULL);
}

static void teardown(void)
{
    uart_free(uart);
}

TestSuite(uart, .init = setup, .fini = teardown);

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2,
       LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static uint8_t rd(unsigned reg)
{
    uint64_t v = 0xdead;
    cr_assert(uart_mmio_ops.read(uart, reg, 1, &v));
    cr_assert_leq(v, 0xff);
    return (uint8_t)v;
}

static void wr(unsigned reg, uint8_t v)
{
    cr_assert(uart_mmio_ops.write(uart, reg, 1, v));
}

static size_t rx(const char *s)
{
    return uart_receive(uart, (const uint8_t *)s, strlen(s));
}

Test(uart, reset_state)
{
    cr_assert_eq(rd(IER), 0);
    cr_assert_eq(rd(IIR), 0x01);
    cr_assert_eq(rd(LSR), 0x60);        /* THRE | TEMT */
    cr_assert_eq(rd(MSR) & 0xf0, 0xb0); /* DCD DSR CTS */
    cr_assert(!line.level);
}

Test(uart, thr_goes_to_tx_in_order)
{
    wr(THR, 'h');
    wr(THR, 'i');
    cr_assert_eq(txlen, 2);
    cr_assert_eq(memcmp(txbuf, "hi", 2), 0);
    cr_assert_eq(rd(LSR) & 0x60, 0x60);
    cr_assert_eq(uart_get_stats(uart).tx_bytes, 2);
}

Test(uart, dlab_banks_divisor_latch)
{
    wr(LCR, 0x83);
    wr(DLL, 0x12);
    wr(DLM, 0x34);
    cr_assert_eq(rd(DLL), 0x12);
    cr_assert_eq(rd(DLM), 0x34);
    cr_assert_eq(txlen, 0);             /* DLL is not THR */
    wr(LCR, 0x03);
    cr_assert_eq(rd(LCR), 0x03);
    cr_assert_eq(rd(IER), 0);           /* DLM is not IER */
    wr(THR, 'x');
    cr_assert_eq(txlen, 1);
    wr(LCR, 0x83);
    cr_assert_eq(rd(DLL), 0x12);
}

Test(uart, scratch_register)
{
    wr(SCR, 0xa5);
    cr_assert_eq(rd(SCR), 0xa5);
}

Test(uart, rx_fifo_lsr_dr_and_order)
{
    wr(FCR, 0x01);
    cr_assert_eq(rx("abc"), 3);
    cr_assert_eq(rd(LSR) & 0x01, 0x01);
    cr_assert_eq(rd(RBR), 'a');
    cr_assert_eq(rd(RBR), 'b');
    cr_assert_eq(rd(RBR), 'c');
    cr_assert_eq(rd(LSR) & 0x01, 0);
    cr_assert_eq(uart_get_stats(uart).rx_bytes, 3);
}

Test(uart, rx_fifo_holds_16_and_rx_ready_fires_on_room)
{
    wr(FCR, 0x01);
    cr_assert_eq(uart_rx_space(uart), 16);
    cr_assert_eq(rx("0123456789abcdefXYZ"), 16);
    cr_assert_eq(uart_rx_space(uart), 0);
    cr_assert_eq(rx("XYZ"), 0);
    cr_assert_eq(ready_calls, 0);
    cr_assert_eq(rd(RBR), '0');
    cr_assert_eq(ready_calls, 1);       /* once per refusal */
    cr_assert_eq(rd(RBR), '1');
    cr_assert_eq(ready_calls, 1);
    cr_assert_eq(uart_rx_space(uart), 2);
    /* No overrun was reported: the host waited instead. */
    cr_assert_eq(rd(LSR) & 0x02, 0);
}

Test(uart, without_fifo_one_byte_holding_register)
{
    cr_assert_eq(rx("ab"), 1);
    cr_assert_eq(rd(IIR) & 0xc0, 0);
    cr_assert_eq(rd(RBR), 'a');
    cr_assert_eq(ready_calls, 1);
    wr(FCR, 0x01);
    cr_assert_eq(rd(IIR) & 0xc0, 0xc0);
}

Test(uart, fcr_clears_rx_fifo)
{
    wr(FCR, 0x01);
    rx("abc");
    wr(FCR, 0x03);
    cr_assert_eq(rd(LSR) & 0x01, 0);
    rx("d");
    wr(FCR, 0x00);                      /* disabling empties it too */
    cr_assert_eq(rd(LSR) & 0x01, 0);
}

Test(uart, rx_interrupt_data_available_and_timeout)
{
    wr(FCR, 0x81);                      /* FIFO, trigger 8 */
    wr(IER, 0x01);
    cr_assert(!line.level);
    rx("abc");
    cr_assert(line.level);
    cr_assert_eq(rd(IIR), 0xcc);        /* below trigger: timeout */
    rx("defgh");
    cr_assert_eq(rd(IIR), 0xc4);        /* at trigger: data available */
    for (int i = 0; i < 8; i++)
        rd(RBR);
    cr_assert_eq(rd(IIR), 0xc1);
    cr_assert(!line.level);
}

Test(uart, thre_interrupt_as_linux_probes_it)
{
    /* serial8250_do_startup's THRE test. */
    wr(IER, 0x02);
    cr_assert(line.level);
    uint8_t iir1 = rd(IIR);
    cr_assert_eq(iir1 & 0x0f, 0x02);
    cr_assert(!line.level, "reading IIR naming THRE clears it");
    cr_assert_eq(rd(IIR) & 0x0f, 0x01);
    wr(IER, 0);
    wr(IER, 0x02);
    cr_assert_eq(rd(IIR) & 0x0f, 0x02, "re-enabling ETBEI re-raises THRE");
    wr(IER, 0);
    cr_assert(!line.level);
}

Test(uart, thr_write_rearms_thre_and_disable_clears_it)
{
    wr(IER, 0x02);
    rd(IIR);                            /* cleared */
    cr_assert(!line.level);
    wr(THR, 'a');                       /* sent: THR empty again */
    cr_assert(line.level);
    wr(IER, 0x00);                      /* driver's stop_tx */
    cr_assert(!line.level);
    cr_assert_eq(rd(IIR) & 0x0f, 0x01);
}

Test(uart, iir_priority_rx_before_thre_before_modem)
{
    wr(FCR, 0x01);
    wr(IER, 0x0f);
    rx("a");
    wr(MCR, 0x10);                      /* loopback: modem deltas appear */
    cr_assert_eq(rd(IIR) & 0x0f, 0x04); /* received data first */
    rd(RBR);
    cr_assert_eq(rd(IIR) & 0x0f, 0x02); /* then THRE (cleared by reading) */
    cr_assert_eq(rd(IIR) & 0x0f, 0x00); /* then modem status */
    rd(MSR);
    cr_assert_eq(rd(IIR) & 0x0f, 0x01);
    cr_assert(!line.level);
}

Test(uart, loopback_routes_thr_to_rx_and_mcr_to_msr)
{
    wr(FCR, 0x01);
    wr(MCR, 0x10 | 0x0a);               /* LOOP | RTS | OUT2 (Linux probe) */
    cr_assert_eq(rd(MSR) & 0xf0, 0x90); /* DCD | CTS */
    wr(THR, 'L');
    cr_assert_eq(txlen, 0);
    cr_assert_eq(rd(LSR) & 0x01, 0x01);
    cr_assert_eq(rd(RBR), 'L');
    /* Host input waits during loopback and is invited back after. */
    cr_assert_eq(uart_rx_space(uart), 0);
    cr_assert_eq(rx("h"), 0);
    wr(MCR, 0x00);
    cr_assert_eq(ready_calls, 1);
    cr_assert_eq(rx("h"), 1);
}

Test(uart, any_width_and_offsets_past_registers)
{
    uint64_t v;
    cr_assert(uart_mmio_ops.write(uart, SCR, 4, 0x1234));
    cr_assert(uart_mmio_ops.read(uart, SCR, 4, &v));
    cr_assert_eq(v, 0x34);
    cr_assert(uart_mmio_ops.read(uart, 0x80, 1, &v));
    cr_assert_eq(v, 0);
    cr_assert(uart_mmio_ops.write(uart, 0x80, 1, 1));
}

Test(uart, reset_lowers_line_and_empties_fifo)
{
    wr(FCR, 0x01);
    wr(IER, 0x01);
    rx("a");
    cr_assert(line.level);
    uart_reset(uart);
    cr_assert(!line.level);
    cr_assert_eq(rd(LSR), 0x60);
}
