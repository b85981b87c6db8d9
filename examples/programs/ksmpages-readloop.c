/* ksmpages.c: exercise KSM (C) Red Hat Inc. GPL'd */

#include <stdlib.h>
#include <malloc.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdio.h>
#include "ksm.h"

#define SIZE (1UL*1024*1024*1024)

#define PAGE_SIZE 4096
#define PAGES (SIZE/PAGE_SIZE)

unsigned long global;

int ksm_register_memory(char * p)
{
	int fd;
	int ksm_fd;
	int r = 1;
	struct ksm_memory_region ksm_region;
 
	fd = open("/dev/ksm", O_RDWR | O_TRUNC, (mode_t)0600);
	if (fd == -1)
		goto out;
 
	ksm_fd = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA);
	if (ksm_fd == -1)
		goto out_free;
 
	ksm_region.npages = PAGES;
	ksm_region.addr = (unsigned long) p;
	r = ioctl(ksm_fd, KSM_REGISTER_MEMORY_REGION, &ksm_region);
	if (r)
		goto out_free1;
 
	return r;
 
out_free1:
	close(ksm_fd);
out_free:
	close(fd);
out:
	return r;
}

int main(void)
{
	unsigned long page;
	char *p = memalign(PAGE_SIZE, PAGES*PAGE_SIZE);
	if (!p)
		perror("memalign"), exit(1);

	if (ksm_register_memory(p))
		printf("failed to register into ksm, run inside VM\n");
	else
		printf("registered into ksm, run outside VM\n");

	for (page = 0; page < PAGES; page++) {
		char *ppage;
		ppage = p + page * PAGE_SIZE +
			PAGE_SIZE - sizeof(unsigned long);
		*(unsigned long *)ppage = page;
	}
	for (;;) {
		long before, after;
		struct timeval tv;
		sleep(1);
		gettimeofday(&tv, NULL);
		before = tv.tv_sec * 1000000 + tv.tv_usec;
		for (page = 0; page < PAGES; page++) {
			char *ppage;
			ppage = p + page * PAGE_SIZE +
				PAGE_SIZE - sizeof(unsigned long);
			global = *(unsigned long *)ppage;
		}
		gettimeofday(&tv, NULL);
		after = tv.tv_sec * 1000000 + tv.tv_usec;
		printf("%d usec\n", after-before);
	}

	pause();

	return 0;
}
