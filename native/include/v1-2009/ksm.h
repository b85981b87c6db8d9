/*
 * "ksm.h": the programs of the time kept a copy of the kernel's
 * include/linux/ksm.h beside their source (ksmpages.c: #include "ksm.h").
 * This is that copy for --era v1:2009: the header as published (linux/ksm.h).
 */
#include <linux/ksm.h>
