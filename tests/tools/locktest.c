// SPDX-License-Identifier: MIT
/*
 * locktest FILE: takes and drops a BSD lock (flock) and a POSIX record lock
 * (fcntl), and asks for the lock's holder in between; on a 9P share those
 * are the TLOCK and TGETLOCK requests. Busybox has no flock command.
 * Prints "locktest ok"; exit status 1 with the failing call otherwise.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: locktest FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (flock(fd, LOCK_EX) || flock(fd, LOCK_UN)) {
		perror("flock");
		return 1;
	}
	if (fcntl(fd, F_SETLK, &fl)) {
		perror("F_SETLK");
		return 1;
	}
	fl.l_type = F_WRLCK;
	if (fcntl(fd, F_GETLK, &fl)) {
		perror("F_GETLK");
		return 1;
	}
	fl.l_type = F_UNLCK;
	if (fcntl(fd, F_SETLK, &fl)) {
		perror("F_SETLK unlock");
		return 1;
	}
	close(fd);
	printf("locktest ok\n");
	return 0;
}
