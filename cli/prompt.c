/* Reading answers from the person at the terminal (or from a pipe, for
 * scripts).  Prompts go to stderr so stdout carries only results.  With echo
 * off, a signal (Ctrl-C) restores the terminal before the program dies. */
#include <config.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "rc.h"
#include "wipe.h"

static const int restore_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NRESTORE (sizeof(restore_signals) / sizeof(restore_signals[0]))

/* The terminal settings to put back from the signal handler. */
static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

static void
restore_and_die(int sig)
{
	if (tio_saved)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	if (write(STDERR_FILENO, "\n", 1) < 0) {
		/* nothing to do: we are dying anyway */
	}
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

static int
echo_off(struct sigaction *old)
{
	struct sigaction sa;
	struct termios tio;
	size_t i;

	if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
		return FT_ERR_IO;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_and_die;
	(void)sigemptyset(&sa.sa_mask);
	for (i = 0; i < NRESTORE; i++)
		(void)sigaction(restore_signals[i], &sa, &old[i]);
	tio_saved = 1;
	tio = saved_tio;
	tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	tio.c_lflag |= (tcflag_t)ECHONL; /* still show the newline */
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) != 0) {
		tio_saved = 0;
		for (i = 0; i < NRESTORE; i++)
			(void)sigaction(restore_signals[i], &old[i], NULL);
		return FT_ERR_IO;
	}
	return FT_OK;
}

static void
echo_restore(const struct sigaction *old)
{
	size_t i;

	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	tio_saved = 0;
	for (i = 0; i < NRESTORE; i++)
		(void)sigaction(restore_signals[i], &old[i], NULL);
}

/* Read up to the newline; FT_ERR_TOOBIG (rest of the line discarded) if it
 * does not fit. */
static int
read_line(char *buf, size_t buflen)
{
	size_t n;
	int c;

	if (fgets(buf, (int)buflen, stdin) == NULL)
		return FT_ERR_NOENT;
	n = strcspn(buf, "\r\n");
	if (buf[n] != '\0') {
		buf[n] = '\0';
		return FT_OK;
	}
	if (feof(stdin) || n + 1 < buflen)
		return FT_OK; /* last line without a newline */
	while ((c = getchar()) != EOF && c != '\n')
		;
	ft_wipe(buf, buflen);
	return FT_ERR_TOOBIG;
}

int
cli_read_line(const char *prompt, bool echo, char *buf, size_t buflen)
{
	struct sigaction old[NRESTORE];
	bool noecho = !echo && isatty(STDIN_FILENO);
	int rc;

	if (buflen < 2)
		return FT_ERR_ARG;
	buf[0] = '\0';
	(void)fputs(prompt, stderr);
	(void)fflush(stderr);
	(void)fflush(stdout);
	/* A terminal that refuses the change is read with echo. */
	if (noecho && echo_off(old) != FT_OK)
		noecho = false;
	rc = read_line(buf, buflen);
	if (noecho)
		echo_restore(old);
	/* Nothing echoed the answer's newline: end the prompt's line. */
	if (!isatty(STDIN_FILENO))
		(void)fputc('\n', stderr);
	return rc;
}

bool
cli_confirm(const char *question)
{
	char ans[CLI_LINE_MAX];

	if (cli_read_line(question, true, ans, sizeof(ans)) != FT_OK)
		return false;
	return ans[0] == 'y' || ans[0] == 'Y';
}
