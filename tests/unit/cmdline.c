/* tests/unit/cmdline.c — the command line: defaults, QEMU spellings, and a
 * clear error for every bad value. */
#include <criterion/criterion.h>
#include <string.h>

#include "boards/cmdline.h"
#include "util/opts.h"

static bool parse(struct blkemu_config *cfg, char *err, int n, ...)
{
    char *argv[32] = { "blkemu" };
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    return cmdline_parse(n + 1, argv, cfg, err, 256);
}

Test(cmdline, defaults_match_qemu_virt)
{
    struct blkemu_config c;
    char err[256];
    cr_assert(parse(&c, err, 0));
    cr_expect_str_eq(c.machine, "virt");
    cr_expect_eq(c.ram_size, 128ull << 20);
    cr_expect_eq(c.smp, 1);
    cr_expect_null(c.bios);
    cr_expect_not(c.no_reboot);
}

Test(cmdline, full_boot_line)
{
    struct blkemu_config c;
    char err[256];
    cr_assert(parse(&c, err, 14, "-M", "virt", "-m", "1G", "-smp", "4", "-bios",
                    "fw.bin", "-kernel", "Image", "-initrd", "rd.gz", "-append",
                    "console=ttyS0 quiet"), "%s", err);
    cr_expect_eq(c.ram_size, 1ull << 30);
    cr_expect_eq(c.smp, 4);
    cr_expect_str_eq(c.bios, "fw.bin");
    cr_expect_str_eq(c.kernel, "Image");
    cr_expect_str_eq(c.initrd, "rd.gz");
    cr_expect_str_eq(c.append, "console=ttyS0 quiet");
}

Test(cmdline, bare_m_is_mib_and_equals_form)
{
    struct blkemu_config c;
    char err[256];
    cr_assert(parse(&c, err, 2, "-m=512", "--smp=cpus=2"), "%s", err);
    cr_expect_eq(c.ram_size, 512ull << 20);
    cr_expect_eq(c.smp, 2);
    cr_assert(parse(&c, err, 2, "-m", "size=64M"), "%s", err);
    cr_expect_eq(c.ram_size, 64ull << 20);
}

Test(cmdline, flags)
{
    struct blkemu_config c;
    char err[256];
    cr_assert(parse(&c, err, 5, "-no-reboot", "--stats", "-nographic",
                    "--dump-dtb", "x.dtb"), "%s", err);
    cr_expect(c.no_reboot);
    cr_expect(c.stats);
    cr_expect_str_eq(c.dump_dtb, "x.dtb");
    cr_assert(parse(&c, err, 1, "--help"));
    cr_expect(c.help);
    cr_assert(parse(&c, err, 1, "--version"));
    cr_expect(c.version);
}

static void expect_error(const char *needle, int n, char *a, char *b)
{
    struct blkemu_config c;
    char err[256] = "";
    bool ok = n == 1 ? parse(&c, err, 1, a) : parse(&c, err, 2, a, b);
    cr_expect_not(ok, "'%s %s' was accepted", a, n > 1 ? b : "");
    cr_expect(strstr(err, needle) != NULL, "error '%s' lacks '%s'", err, needle);
    cr_expect(strchr(err, '\n') == NULL, "error is not one line");
}

Test(cmdline, bad_values_give_one_line_errors)
{
    expect_error("unknown option", 1, "-frobnicate", NULL);
    expect_error("needs a value", 1, "-kernel", NULL);
    expect_error("-smp '0'", 2, "-smp", "0");
    expect_error("-smp '9'", 2, "-smp", "9");
    expect_error("-smp 'two'", 2, "-smp", "two");
    expect_error("below the minimum", 2, "-m", "1M");
    expect_error("more than the host", 2, "-m", "64T");
    expect_error("not a size", 2, "-m", "lots");
    expect_error("not a size", 2, "-m", "-5");
    expect_error("unknown machine", 2, "-M", "sifive_u");
    expect_error("takes no value", 1, "-no-reboot=yes", NULL);
    expect_error("unexpected argument", 1, "Image", NULL);
    expect_error("--log 'loud'", 2, "--log", "loud");
}

Test(opts, sizes)
{
    uint64_t v;
    cr_expect(opts_parse_size("4096", 1, &v) && v == 4096);
    cr_expect(opts_parse_size("64K", 1, &v) && v == 65536);
    cr_expect(opts_parse_size("1.5G", 1, &v) && v == 3ull << 29);
    cr_expect(opts_parse_size("2GiB", 1, &v) && v == 2ull << 30);
    cr_expect(opts_parse_size("7", 1ull << 20, &v) && v == 7ull << 20);
    cr_expect_not(opts_parse_size("", 1, &v));
    cr_expect_not(opts_parse_size("G", 1, &v));
    cr_expect_not(opts_parse_size("5X", 1, &v));
    cr_expect_not(opts_parse_size("99999999999T", 1, &v));
    cr_expect_not(opts_parse_size("0.5", 1, &v));
}
