// SPDX-License-Identifier: GPL-2.0-only
/*
 * merge-check.c: a mainline KSM user as C programs since 2.6.32 write one
 * (ksm-compat's own example, not a historical program): N equal pages made
 * mergeable with madvise(MADV_MERGEABLE) (or, with -p, the whole process
 * with prctl(PR_SET_MEMORY_MERGE), Linux 6.4+), ksmd started through
 * /sys/kernel/mm/ksm/run, two full scans waited for by polling full_scans
 * with fscanf and usleep, the counters read, one page written (its
 * copy-on-write break), one more scan, the counters again, and on kernels
 * that have it /proc/self/ksm_stat. Exit status 0 when the counts are what
 * KSM promises (N pages: 1 shared, N-1 sharing; after the write, N-2
 * sharing), 1 otherwise.
 *
 *   merge-check [-p] [PAGES]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define KSM "/sys/kernel/mm/ksm/"

static long read_knob(const char *name)
{
	char path[128];
	long v = -1;
	snprintf(path, sizeof path, KSM "%s", name);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "merge-check: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static void write_knob(const char *name, const char *value)
{
	char path[128];
	snprintf(path, sizeof path, KSM "%s", name);
	int fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value)) {
		fprintf(stderr, "merge-check: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	close(fd);
}

static void wait_scans(int n)
{
	long start = read_knob("full_scans");
	while (read_knob("full_scans") < start + n)
		usleep(10000);
}

int main(int argc, char **argv)
{
	int use_prctl = argc > 1 && !strcmp(argv[1], "-p");
	long pages = argc > 1 + use_prctl ? atol(argv[1 + use_prctl]) : 16;
	long size = pages * 4096;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || pages < 3) {
		fprintf(stderr, "merge-check: mmap of %ld pages: %s\n", pages, strerror(errno));
		return 2;
	}
	memset(p, 'k', size);
#ifndef PR_SET_MEMORY_MERGE
	/* Headers before Linux 6.4 have no such option: the call a program of the time could not make. */
	if (use_prctl) {
		fprintf(stderr, "merge-check: -p: this kernel's headers have no PR_SET_MEMORY_MERGE\n");
		return 2;
	}
#define PR_SET_MEMORY_MERGE 0
#endif
	if (use_prctl ? prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) : madvise(p, size, MADV_MERGEABLE)) {
		perror(use_prctl ? "prctl(PR_SET_MEMORY_MERGE)" : "madvise(MADV_MERGEABLE)");
		return 2;
	}
	write_knob("pages_to_scan", "100");
	write_knob("sleep_millisecs", "20");
	write_knob("run", "1");
	wait_scans(2);
	long shared = read_knob("pages_shared"), sharing = read_knob("pages_sharing");
	printf("merged: pages_shared %ld pages_sharing %ld\n", shared, sharing);
	p[0] = 'x';
	wait_scans(1);
	long shared2 = read_knob("pages_shared"), sharing2 = read_knob("pages_sharing");
	printf("after one write: pages_shared %ld pages_sharing %ld\n", shared2, sharing2);
	FILE *st = fopen("/proc/self/ksm_stat", "r");
	if (st) {
		char line[256];
		while (fgets(line, sizeof line, st))
			printf("ksm_stat: %s", line);
		fclose(st);
	}
	write_knob("run", "0");
	return shared == 1 && sharing == pages - 1 && shared2 == 1 && sharing2 == pages - 2 ? 0 : 1;
}
