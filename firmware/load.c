/*
 * firmware/load.c — boot image loading with every length checked.
 */
#include "firmware/load.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hw/machine.h"

bool blob_read(const char *path, size_t max, struct blob *out, char *err,
               size_t errlen)
{
    *out = (struct blob){ 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "'%s' is not a regular file", path);
        close(fd);
        return false;
    }
    if ((uint64_t)st.st_size > max) {
        snprintf(err, errlen, "'%s' is too large (%lld bytes; at most %zu fit)",
                 path, (long long)st.st_size, max);
        close(fd);
        return false;
    }
    uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading '%s'", path);
        close(fd);
        return false;
    }
    size_t done = 0;
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "cannot read '%s': %s", path,
                     n < 0 ? strerror(errno) : "unexpected end of file");
            free(buf);
            close(fd);
            return false;
        }
        done += (size_t)n;
    }
    close(fd);
    out->data = buf;
    out->size = done;
    return true;
}

void blob_free(struct blob *b)
{
    free(b->data);
    *b = (struct blob){ 0 };
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

bool image_parse(const uint8_t *buf, size_t size, struct image_info *out,
                 char *err, size_t errlen)
{
    /* Header layout: code0 code1 (u32 each), text_offset u64 @8,
     * image_size u64 @16, flags u64 @24, version u32 @32, res1 u32 @36,
     * res2 u64 @40, magic "RISCV\0\0\0" @48 (deprecated), magic2 "RSC\x05"
     * @56, res3 u32 @60. */
    if (size < IMAGE_HEADER_SIZE) {
        snprintf(err, errlen, "not a RISC-V Image: %zu bytes, shorter than its "
                 "64-byte header", size);
        return false;
    }
    bool magic = !memcmp(buf + 48, "RISCV\0\0\0", 8);
    bool magic2 = rd32(buf + 56) == 0x05435352;     /* "RSC\x05" */
    if (!magic && !magic2) {
        snprintf(err, errlen, "not a RISC-V Image: no 'RSC\\x05' magic at offset 56");
        return false;
    }
    uint64_t flags = rd64(buf + 24);
    if (flags & 1) {
        snprintf(err, errlen, "RISC-V Image is big-endian; only little-endian is supported");
        return false;
    }
    uint64_t text_offset = rd64(buf + 8);
    uint64_t image_size = rd64(buf + 16);
    if (image_size == 0)
        image_size = size;      /* headers before version 0.2 may leave it 0 */
    if (image_size < size) {
        snprintf(err, errlen, "RISC-V Image header says %llu bytes but the file "
                 "has %zu", (unsigned long long)image_size, size);
        return false;
    }
    if (text_offset & 0xfff) {
        snprintf(err, errlen, "RISC-V Image text offset 0x%llx is not page aligned",
                 (unsigned long long)text_offset);
        return false;
    }
    out->text_offset = text_offset;
    out->image_size = image_size;
    return true;
}

bool elf_is_elf(const uint8_t *buf, size_t size)
{
    return size >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG);
}

bool elf_load(struct machine *m, const uint8_t *buf, size_t size,
              uint64_t *entry, uint64_t *lo, uint64_t *hi, char *err,
              size_t errlen)
{
    if (size < sizeof(Elf64_Ehdr) || !elf_is_elf(buf, size)) {
        snprintf(err, errlen, "not an ELF file");
        return false;
    }
    Elf64_Ehdr eh;
    memcpy(&eh, buf, sizeof(eh));
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_machine != EM_RISCV) {
        snprintf(err, errlen, "not a 64-bit little-endian RISC-V ELF");
        return false;
    }
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
        snprintf(err, errlen, "ELF is not an executable");
        return false;
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > size ||
        (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff) {
        snprintf(err, errlen, "ELF program headers lie outside the file");
        return false;
    }
    uint64_t min = UINT64_MAX, max = 0;
    unsigned loaded = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz || ph.p_offset > size ||
            ph.p_filesz > size - ph.p_offset) {
            snprintf(err, errlen, "ELF segment %u lies outside the file", i);
            return false;
        }
        uint8_t *dst = machine_ram_ptr(m, ph.p_paddr, ph.p_memsz);
        if (!dst) {
            snprintf(err, errlen, "ELF segment %u (0x%llx, %llu bytes) is not "
                     "inside guest RAM (0x%llx, %llu bytes)", i,
                     (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz,
                     (unsigned long long)m->ram_base, (unsigned long long)m->ram_size);
            return false;
        }
        memcpy(dst, buf + ph.p_offset, ph.p_filesz);
        memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
        if (ph.p_paddr < min)
            min = ph.p_paddr;
        if (ph.p_paddr + ph.p_memsz - 1 > max)
            max = ph.p_paddr + ph.p_memsz - 1;
        loaded++;
    }
    if (!loaded) {
        snprintf(err, errlen, "ELF has no loadable segment");
        return false;
    }
    *entry = eh.e_entry;
    *lo = min;
    *hi = max;
    return true;
}

bool load_blob_at(struct machine *m, const struct blob *b, uint64_t gpa,
                  const char *what, char *err, size_t errlen)
{
    uint8_t *dst = machine_ram_ptr(m, gpa, b->size);
    if (!dst) {
        snprintf(err, errlen, "%s (%zu bytes) does not fit in guest RAM at 0x%llx "
                 "(RAM ends at 0x%llx; try a larger -m)", what, b->size,
                 (unsigned long long)gpa,
                 (unsigned long long)(m->ram_base + m->ram_size));
        return false;
    }
    memcpy(dst, b->data, b->size);
    return true;
}
