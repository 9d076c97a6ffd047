/*
 * firmware/load.h — reading boot images into guest RAM: the RISC-V Linux
 * Image header, ELF executables, raw blobs. Every function checks its input
 * (a truncated or hostile file gives an error message, never a crash).
 */
#ifndef FIRMWARE_LOAD_H
#define FIRMWARE_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;

/* A file read whole into memory. */
struct blob {
    uint8_t *data;
    size_t size;
};

/* Read `path` (at most max bytes). False with err set ("cannot open X: …"). */
bool blob_read(const char *path, size_t max, struct blob *out, char *err,
               size_t errlen);
void blob_free(struct blob *b);

/* The RISC-V Linux Image header (Documentation/riscv/boot-image-header.rst). */
struct image_info {
    uint64_t text_offset;   /* load offset from the start of RAM */
    uint64_t image_size;    /* bytes the kernel occupies once running */
};

#define IMAGE_HEADER_SIZE 64

/* Parse and check the header of a candidate Image. False with err set when
 * the file is too short, lacks the magic, is big-endian, or its sizes are
 * inconsistent. */
bool image_parse(const uint8_t *buf, size_t size, struct image_info *out,
                 char *err, size_t errlen);

/* True if buf starts with an ELF magic. */
bool elf_is_elf(const uint8_t *buf, size_t size);

/* Load the PT_LOAD segments of a 64-bit little-endian RISC-V ELF at their
 * physical addresses into guest RAM. Every segment must lie entirely in RAM.
 * Sets *entry, and *lo and *hi to the lowest and highest byte loaded. */
bool elf_load(struct machine *m, const uint8_t *buf, size_t size,
              uint64_t *entry, uint64_t *lo, uint64_t *hi, char *err,
              size_t errlen);

/* Copy `b` into guest RAM at gpa. False with err if it does not fit. */
bool load_blob_at(struct machine *m, const struct blob *b, uint64_t gpa,
                  const char *what, char *err, size_t errlen);

#endif
