/*
 * The benchmark's reference: the leanest fork-per-connection HTTP server in C,
 * the article's webserver3g without Python. `make bench` builds it with
 * `musl-gcc -static -O2` and measures forkhttpd against it, side by side.
 *
 * Per connection: accept, fork; the child reads once (whatever the request is),
 * writes one fixed response, closes and _exits; the parent closes its copy.
 * A SIGCHLD handler reaps with a waitpid(-1, WNOHANG) loop, so each child's
 * CPU time and page faults land in the parent's cutime/cstime/cminflt, which
 * is what the bench reads from /proc/PID/stat.
 *
 * No deadline, no parsing, no Date header, no log: the floor of what a fork
 * server costs, not a server anyone should deploy.
 *
 * Usage: forkserver [PORT [ADDR]]   (default 0: any free port; 127.0.0.1)
 * Prints "Serving HTTP on port N ..." like forkhttpd once it listens.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char response[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 14\r\n"
	"Connection: close\r\n"
	"\r\n"
	"Hello, World!\n";

static void reap(int sig)
{
	int saved = errno; /* the interrupted code may be about to read errno */
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof addr;
	struct sigaction sa = { .sa_handler = reap, .sa_flags = SA_RESTART };
	int one = 1, s;

	addr.sin_port = htons(argc > 1 ? atoi(argv[1]) : 0);
	if (inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.1", &addr.sin_addr) != 1) {
		fprintf(stderr, "forkserver: bad IPv4 address\n");
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) < 0
	    || (s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
	    || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0
	    || listen(s, 1024) < 0
	    || getsockname(s, (struct sockaddr *)&addr, &len) < 0) {
		perror("forkserver");
		return 1;
	}
	printf("Serving HTTP on port %d ...\n", ntohs(addr.sin_port));
	fflush(stdout);

	for (;;) {
		char buf[1024];
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue; /* EINTR from SIGCHLD, or a transient failure: retry */
		pid_t pid = fork();
		if (pid == 0) {
			close(s);
			if (read(c, buf, sizeof buf) > 0)
				(void)!write(c, response, sizeof response - 1);
			close(c);
			_exit(0);
		}
		close(c); /* the child has its own copy; on fork failure this drops the client */
	}
}
