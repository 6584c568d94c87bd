/* stopinit: a container init for the stop tests. It blocks the signals
 * named by number on its command line and waits for one of them, with
 * signalfd (mode "signalfd") or sigwaitinfo (mode "sigwait"), the way
 * systemd and other careful inits take their stop signal: the signals show
 * in SigBlk of /proc/PID/status, never in SigCgt. It exits 0 when the
 * first signal listed arrives, else with the number of the one that did,
 * so a test reads from the exit status which signal the init got.
 *
 * With MODE=FILE it also writes that number to FILE, for tests whose
 * container's exit status is gone with it (rm -f, foreign containers).
 *
 *   stopinit signalfd 15             exit 0 on SIGTERM
 *   systemd sigwait=/t/got 37 15     exit 0 on SIGRTMIN+3, 15 on SIGTERM
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

int main(int argc, char **argv) {
	sigset_t set;
	int first, got, i;
	char mode[16], *out;

	if (argc < 3) {
		fprintf(stderr, "usage: %s signalfd|sigwait SIGNO...\n", argv[0]);
		return 2;
	}
	sigemptyset(&set);
	for (i = 2; i < argc; i++)
		sigaddset(&set, atoi(argv[i]));
	first = atoi(argv[2]);
	/* argv stays as it was: tests find the init by its command line. */
	snprintf(mode, sizeof mode, "%s", argv[1]);
	mode[strcspn(mode, "=")] = '\0';
	out = strchr(argv[1], '=');
	if (out)
		out++;
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
		perror("sigprocmask");
		return 2;
	}
	if (strcmp(mode, "signalfd") == 0) {
		struct signalfd_siginfo si;
		int fd = signalfd(-1, &set, SFD_CLOEXEC);
		if (fd < 0) {
			perror("signalfd");
			return 2;
		}
		for (;;) {
			ssize_t n = read(fd, &si, sizeof si);
			if (n == (ssize_t)sizeof si)
				break;
			if (n < 0)
				continue; /* EINTR */
		}
		got = (int)si.ssi_signo;
	} else {
		do
			got = sigwaitinfo(&set, NULL);
		while (got < 0);
	}
	printf("stopinit: got signal %d\n", got);
	fflush(stdout);
	if (out) {
		FILE *f = fopen(out, "w");
		if (!f || fprintf(f, "%d\n", got) < 0 || fclose(f) != 0)
			return 3;
	}
	return got == first ? 0 : got;
}
