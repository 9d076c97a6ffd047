/*
 * util/console.h — the host's stdio as the guest's serial console.
 *
 * Input: an fd handler on the main loop reads the input fd and hands bytes
 * to a sink (the UART's receive function). Ctrl-A is an escape key, as in
 * QEMU: C-a x quits, C-a h prints help, C-a C-a sends one C-a, any other
 * C-a <key> is dropped. When the sink is full, reading stops until
 * console_resume(); EOF on input removes the handler (the machine keeps
 * running, and nothing spins).
 *
 * If the input fd is a terminal it is put in raw mode, and its settings are
 * restored on every way out: console_close(), return from main or exit()
 * (atexit), and SIGINT/SIGTERM/SIGHUP/SIGQUIT and fatal signals (SIGSEGV,
 * SIGBUS, SIGILL, SIGFPE, SIGABRT), whose handlers restore the terminal and
 * re-raise the signal with its default action.
 *
 * Output: console_write(), from any thread. Bytes are written unchanged; in
 * raw mode the terminal adds no "\r" either (the guest sends "\r\n").
 * While a console is open SIGPIPE is ignored, so a closed output pipe drops
 * output instead of killing the emulator.
 */
#ifndef UTIL_CONSOLE_H
#define UTIL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct console;

struct console_ops {
    /* Offer guest input; returns how many bytes were taken (0..len). Taking
     * fewer than offered pauses input until console_resume(). Main loop
     * thread. */
    size_t (*sink)(void *opaque, const uint8_t *buf, size_t len);
    /* C-a x: the user asks to quit. Main loop thread. */
    void (*quit)(void *opaque);
    void *opaque;
};

/* Open the console on `in_fd` (read; normally 0) and `out_fd` (write;
 * normally 1), with the input handler on `loop` (the main loop). A terminal
 * `in_fd` is put in raw mode. NULL on failure (logged). Main thread.
 * At most one console may own a terminal at a time. */
struct console *console_open(struct loop *loop, int in_fd, int out_fd,
                             const struct console_ops *ops);

/* Remove the handler, restore the terminal and the signal dispositions,
 * free. Main thread; the fds are not closed. */
void console_close(struct console *c);

/* Write `len` bytes to the output fd, whole (retrying on EINTR, partial
 * writes and EAGAIN). Any thread; writers do not interleave. Output errors
 * (a closed pipe, a vanished terminal) drop the bytes. */
void console_write(struct console *c, const uint8_t *buf, size_t len);

/* The sink has room again: retry the bytes it refused, then read more
 * input. Any thread (e.g. a vCPU reading the UART's RX FIFO); lock-free,
 * wakes the main loop. */
void console_resume(struct console *c);

/* True if the input is a terminal in raw mode. */
bool console_is_raw(const struct console *c);

/* Restore the terminal now, if a console put one in raw mode. Safe to call
 * more than once and from fatal-error paths. */
void console_restore_terminal(void);

#endif
