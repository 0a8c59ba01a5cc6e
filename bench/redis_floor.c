/* redis_floor: the least a login's Redis exchange can cost on this
 * machine, without flowtotp: per iteration a new connection (blocking
 * socket), AUTH and EVALSHA of a script that returns 1 in one write, both
 * replies read, close.  What the module does on top of it (the password
 * file's checks, the deadlines, the real script, the PAM login around it)
 * is what bench/redis.sh's rows add.
 *
 *   redis_floor (-t HOST:PORT | -s SOCKET) -a PASSWORD_FILE [-n COUNT]
 *               [-g GAP_US]
 *
 * -g sleeps that long between exchanges (untimed), as a login's own work
 * keeps the server waiting between its exchanges: an idle server (and on
 * a VM, an idle virtual CPU) takes longer to wake.
 * Prints "floor_med_us=... floor_mean_us=...".  Plain TCP or a Unix
 * socket only.  A benchmark tool, not installed. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 4096U
#define COUNT_DEFAULT 1000UL
#define COUNT_MAX 1000000UL
#define USEC_PER_SEC 1e6
#define NSEC_PER_USEC 1e3
#define SHA_LEN 40U
#define SCRIPT "return 1"
#define GAP_MAX_US 1000000L
#define NSEC_PER_USEC_L 1000L

struct target {
	struct sockaddr_storage sa;
	socklen_t len;
	char cmd[BUF_SIZE]; /* AUTH and EVALSHA, RESP */
	size_t cmdlen;
};

static double
now_us(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * USEC_PER_SEC +
	    (double)t.tv_nsec / NSEC_PER_USEC;
}

static int
parse_target(struct target *t, const char *tcp, const char *sock)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&t->sa;
	struct sockaddr_un *un = (struct sockaddr_un *)&t->sa;
	char host[64];
	const char *colon = tcp != NULL ? strrchr(tcp, ':') : NULL;

	memset(&t->sa, 0, sizeof(t->sa));
	if (sock != NULL && strlen(sock) < sizeof(un->sun_path)) {
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, sock, strlen(sock) + 1U);
		t->len = sizeof(*un);
		return 0;
	}
	if (colon == NULL || (size_t)(colon - tcp) >= sizeof(host))
		return -1;
	memcpy(host, tcp, (size_t)(colon - tcp));
	host[colon - tcp] = '\0';
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)atoi(colon + 1));
	t->len = sizeof(*in);
	return inet_pton(AF_INET, host, &in->sin_addr) == 1 ? 0 : -1;
}

/* One connection: send t->cmd, read until want CRLF-ended lines came. */
static int
exchange(const struct target *t, const char *cmd, size_t len, int want,
    char *out, size_t outlen)
{
	const int one = 1;
	size_t got = 0;
	ssize_t n;
	int fd, lines = 0, rc = -1;
	char *p;

	fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&t->sa, t->len) != 0)
		goto out;
	if (t->sa.ss_family == AF_INET)
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (send(fd, cmd, len, MSG_NOSIGNAL) != (ssize_t)len)
		goto out;
	while (lines < want && got + 1U < outlen) {
		n = recv(fd, out + got, outlen - got - 1U, 0);
		if (n <= 0)
			goto out;
		got += (size_t)n;
		out[got] = '\0';
		for (lines = 0, p = out; (p = strstr(p, "\r\n")) != NULL;
		     p += 2)
			lines++;
	}
	rc = out[0] == '+' && strstr(out, "-") == NULL ? 0 : -1;
out:
	(void)close(fd);
	return rc;
}

static int
read_password(const char *path, char *pw, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok = f != NULL && fgets(pw, (int)len, f) != NULL;

	if (f != NULL)
		(void)fclose(f);
	pw[strcspn(pw, "\r\n")] = '\0';
	return ok ? 0 : -1;
}

/* SCRIPT LOAD once, then the per-login command: AUTH + EVALSHA. */
static int
prepare(struct target *t, const char *pw)
{
	char cmd[BUF_SIZE], rep[BUF_SIZE], *sha;
	int n;

	n = snprintf(cmd, sizeof(cmd),
	    "*2\r\n$4\r\nAUTH\r\n$%zu\r\n%s\r\n*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD"
	    "\r\n$%zu\r\n%s\r\n",
	    strlen(pw), pw, strlen(SCRIPT), SCRIPT);
	if (n < 0 || (size_t)n >= sizeof(cmd) ||
	    exchange(t, cmd, (size_t)n, 3, rep, sizeof(rep)) != 0 ||
	    (sha = strstr(rep, "$40\r\n")) == NULL)
		return -1;
	sha += 5;
	sha[SHA_LEN] = '\0';
	n = snprintf(t->cmd, sizeof(t->cmd),
	    "*2\r\n$4\r\nAUTH\r\n$%zu\r\n%s\r\n*3\r\n$7\r\nEVALSHA\r\n$40\r\n%s"
	    "\r\n$1\r\n0\r\n",
	    strlen(pw), pw, sha);
	if (n < 0 || (size_t)n >= sizeof(t->cmd))
		return -1;
	t->cmdlen = (size_t)n;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	const char *tcp = NULL, *sock = NULL, *pwfile = NULL;
	unsigned long count = COUNT_DEFAULT, i;
	struct timespec gap = {0, 0};
	struct target t;
	char pw[BUF_SIZE], rep[BUF_SIZE];
	double *us, t0, sum = 0;
	int opt;

	while ((opt = getopt(argc, argv, "t:s:a:n:g:")) != -1) {
		if (opt == 't')
			tcp = optarg;
		else if (opt == 's')
			sock = optarg;
		else if (opt == 'a')
			pwfile = optarg;
		else if (opt == 'n')
			count = strtoul(optarg, NULL, 10);
		else if (opt == 'g')
			gap.tv_nsec =
			    strtol(optarg, NULL, 10) * NSEC_PER_USEC_L;
		else
			return 2;
	}
	if (pwfile == NULL || count == 0 || count > COUNT_MAX ||
	    gap.tv_nsec < 0 || gap.tv_nsec >= GAP_MAX_US * NSEC_PER_USEC_L ||
	    parse_target(&t, tcp, sock) != 0 ||
	    read_password(pwfile, pw, sizeof(pw)) != 0 ||
	    prepare(&t, pw) != 0) {
		fprintf(stderr, "redis_floor: bad arguments or no server\n");
		return 1;
	}
	us = calloc(count, sizeof(*us));
	if (us == NULL)
		return 1;
	for (i = 0; i < count; i++) {
		if (gap.tv_nsec > 0)
			(void)nanosleep(&gap, NULL);
		t0 = now_us();
		if (exchange(&t, t.cmd, t.cmdlen, 2, rep, sizeof(rep)) != 0) {
			fprintf(stderr, "redis_floor: exchange failed\n");
			free(us);
			return 1;
		}
		us[i] = now_us() - t0;
		sum += us[i];
	}
	qsort(us, count, sizeof(*us), cmp_double);
	printf("floor_med_us=%.1f floor_mean_us=%.1f\n", us[count / 2],
	    sum / (double)count);
	free(us);
	return 0;
}
