/*
 * include/linux/ksm.h as published with "[4/4] add ksm kernel shared memory
 * driver" (Izik Eidus, 30 Mar 2009, message id
 * 1238457560-7613-5-git-send-email-ieidus@redhat.com; the project's seed
 * 002), the /dev/ksm ABI of March 2009 (reserved_bits, KSM_START_STOP_KTHREAD
 * renumbered, no KSM_CREATE_SCAN), byte for byte below this comment.
 * Shipped by ksm-compat so that `ksmctl cc --era v1:2009` builds a program
 * of the time against it.
 */
#ifndef __LINUX_KSM_H
#define __LINUX_KSM_H

/*
 * Userspace interface for /dev/ksm - kvm shared memory
 */

#include <linux/types.h>
#include <linux/ioctl.h>

#include <asm/types.h>

#define KSM_API_VERSION 1

#define ksm_control_flags_run 1

/* for KSM_REGISTER_MEMORY_REGION */
struct ksm_memory_region {
	__u32 npages; /* number of pages to share */
	__u32 pad;
	__u64 addr; /* the begining of the virtual address */
        __u64 reserved_bits;
};

struct ksm_kthread_info {
	__u32 sleep; /* number of microsecoends to sleep */
	__u32 pages_to_scan; /* number of pages to scan */
	__u32 flags; /* control flags */
        __u32 pad;
        __u64 reserved_bits;
};

#define KSMIO 0xAB

/* ioctls for /dev/ksm */

#define KSM_GET_API_VERSION              _IO(KSMIO,   0x00)
/*
 * KSM_CREATE_SHARED_MEMORY_AREA - create the shared memory reagion fd
 */
#define KSM_CREATE_SHARED_MEMORY_AREA    _IO(KSMIO,   0x01) /* return SMA fd */
/*
 * KSM_START_STOP_KTHREAD - control the kernel thread scanning speed
 * (can stop the kernel thread from working by setting running = 0)
 */
#define KSM_START_STOP_KTHREAD		 _IOW(KSMIO,  0x02,\
					      struct ksm_kthread_info)
/*
 * KSM_GET_INFO_KTHREAD - return information about the kernel thread
 * scanning speed.
 */
#define KSM_GET_INFO_KTHREAD		 _IOW(KSMIO,  0x03,\
					      struct ksm_kthread_info)


/* ioctls for SMA fds */

/*
 * KSM_REGISTER_MEMORY_REGION - register virtual address memory area to be
 * scanned by kvm.
 */
#define KSM_REGISTER_MEMORY_REGION       _IOW(KSMIO,  0x20,\
					      struct ksm_memory_region)
/*
 * KSM_REMOVE_MEMORY_REGION - remove virtual address memory area from ksm.
 */
#define KSM_REMOVE_MEMORY_REGION         _IO(KSMIO,   0x21)

#endif
