// SPDX-License-Identifier: GPL-2.0-only
/*
 * guest.c: a stand-in for a qemu guest, for the tuning daemons that look
 * for one (ksm-compat's own example, not a historical program): N pages
 * (argument 1, default 1024) of one content, made mergeable with
 * madvise(MADV_MERGEABLE) as qemu does its guest RAM since 0.12, then it
 * waits in pause() until a signal ends it. Started as
 * `exec -a qemu-system-x86_64 ./guest N -enable-kvm` it is what ksmtuned's
 * `pgrep -f '^qemu-system.*-enable-kvm'` finds (docs/exec.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long pages = argc > 1 ? atol(argv[1]) : 1024;
	size_t len = (size_t)pages * 4096;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(p, 0x5a, len);
	if (madvise(p, len, MADV_MERGEABLE)) {
		perror("madvise");
		return 1;
	}
	pause();
	return 0;
}
