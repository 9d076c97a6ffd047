/*
 * boards/virt_qmp.h — blkemu's QMP commands on the virt machine, and the
 * control socket that serves them (-qmp). docs/qmp.md describes every
 * command, its replies, and how they differ from QEMU's.
 *
 * Main loop thread only.
 */
#ifndef BOARDS_VIRT_QMP_H
#define BOARDS_VIRT_QMP_H

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct virt;
struct json_object;
struct qmp_session;

struct virt_qmp;

/* The commands for machine `v`, and with `spec` (a -qmp value) the socket
 * serving them on `loop`; spec NULL: no socket (unit tests drive
 * virt_qmp_dispatch()). With wait=on the harts start paused and run when
 * the first client connects. NULL with one line in err. */
struct virt_qmp *virt_qmp_new(struct virt *v, struct loop *loop,
                              const char *spec, char *err, size_t errlen);

/* The main loop returned because the machine stopped; `rebooting` if it
 * will start again (a reset without -no-reboot). Sends the RESET or
 * SHUTDOWN event, as QEMU would, and when not rebooting gives the clients
 * up to half a second to receive what is queued for them. NULL no-op. */
void virt_qmp_stopped(struct virt_qmp *q, bool rebooting);

/* One request (borrowed) as if a client in session `s` had sent it; the
 * reply is owned by the caller. */
struct json_object *virt_qmp_dispatch(struct virt_qmp *q, struct qmp_session *s,
                                      struct json_object *req);

/* Close the socket (removing its file) and free. NULL is a no-op. */
void virt_qmp_free(struct virt_qmp *q);

#endif
