/**
 * ABI constants the /dev/ksm programs of 2008/2009 use besides linux/ksm.h,
 * with their Linux spelling, grouped by the header they come from.
 */

/** include/linux/miscdevice.h (the hunk in seeds 001 and 002) */
export const KVM_MINOR = 232;
export const KSM_MINOR = 233;
export const MISC_DYNAMIC_MINOR = 255;
/** The misc character devices' major number (include/linux/major.h). */
export const MISC_MAJOR = 10;

/** The device node: the name of ksm_dev ("ksm") under /dev. */
export const KSM_DEVICE_PATH = '/dev/ksm';

/** asm-generic/fcntl.h (x86) */
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;

/** include/linux/fs.h: the access a file mode check asks for. */
export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;

/** asm-generic/ioctls.h: requests the VFS answers itself before the driver (do_vfs_ioctl). */
export const FIONBIO = 0x5421;
export const FIONCLEX = 0x5450;
export const FIOCLEX = 0x5451;
export const FIOASYNC = 0x5452;
export const FIOQSIZE = 0x5460;

/** include/linux/fs.h: NR_OPEN_DEFAULT / INR_OPEN, the RLIMIT_NOFILE soft limit every process starts with. */
export const INR_OPEN = 1024;

/** include/linux/mman.h-era helpers a C program of the time uses. */
export const MAP_FAILED = -1;
