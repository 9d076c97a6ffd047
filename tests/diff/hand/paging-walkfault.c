/* paging-walkfault — a page-table walk that reads outside RAM (Sv39 and
 * Sv48). The spec says access fault; QEMU 7.2 raises a page fault. Kept
 * apart from paging.c so that a deliberate divergence is one test. */
#define PAGING_WALKFAULT_ONLY
#include "paging.c"
