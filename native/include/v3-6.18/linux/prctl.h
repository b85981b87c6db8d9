/*
 * <linux/prctl.h> for Linux 6.18: the system's header, plus the KSM
 * options Linux 6.4 added to include/uapi/linux/prctl.h where the system's
 * copy is older:
 *
 *   #define PR_SET_MEMORY_MERGE		67
 *   #define PR_GET_MEMORY_MERGE		68
 */
#include_next <linux/prctl.h>
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE		67
#define PR_GET_MEMORY_MERGE		68
#endif
