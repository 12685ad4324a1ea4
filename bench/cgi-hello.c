/*
 * The benchmark's static CGI program (RFC 3875): a header block, then the body.
 * Built with `musl-gcc -static -O2` so that what is measured is the server's
 * fork + execve + pipes, not the dynamic loader.
 */
#include <unistd.h>

static const char out[] =
	"Content-Type: text/plain\r\n"
	"Content-Length: 14\r\n"
	"\r\n"
	"Hello, World!\n";

int main(void)
{
	return write(1, out, sizeof out - 1) == sizeof out - 1 ? 0 : 1;
}
