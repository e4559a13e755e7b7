/* SPDX-License-Identifier: ISC */
/*
 * fuzz_conf: /etc/etrnd.conf through conf_parse(), as `etrnd -t` and a
 * reload see it.  A file that parses is printed as the -t summary and each
 * relay compared with itself, as a reload does to keep relay state.
 *
 * Beyond the sanitizers, it checks the contract of conf_parse(): a config or
 * an error text, never both; every error line names the file; every relay
 * is found by its name and has valid domains.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define FUZZ_PATH	"fuzz.conf"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

static FILE	*devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	return 0;
}

/* One "fuzz.conf[:N]: message\n" per line, nothing else. */
static void
fuzz_check_errors(const char *errors)
{
	const char	*line, *nl;

	if (errors == NULL || *errors == '\0')
		abort();
	for (line = errors; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			abort();
		if (strncmp(line, FUZZ_PATH ":", strlen(FUZZ_PATH ":")) != 0)
			abort();
	}
}

static void
fuzz_check_conf(const struct conf *conf)
{
	const struct conf_relay	*r;
	size_t			 i, j;

	/* No relay is a valid, idle configuration. */
	for (i = 0; i < conf->nrelays; i++) {
		r = &conf->relays[i];
		if (!conf_relay_equal(r, r))
			abort();
		if (conf_relay_find(conf, r->name) != r)
			abort();
		if (r->ndomains == 0)
			abort();
		for (j = 0; j < r->ndomains; j++)
			if (conf_domain_check(r->domains[j]) != NULL)
				abort();
		if (i > 0 && conf_relay_equal(r, &conf->relays[i - 1]) !=
		    conf_relay_equal(&conf->relays[i - 1], r))
			abort();
	}
	conf_print_summary(conf, devnull);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 unset;
	struct conf	*conf;
	char		*errors = &unset;

	conf = conf_parse(FUZZ_PATH, (const char *)data, size, &errors);
	if (errors == &unset)
		abort();
	if (conf != NULL) {
		if (errors != NULL)
			abort();
		fuzz_check_conf(conf);
	} else
		fuzz_check_errors(errors);
	free(errors);
	conf_free(conf);
	return 0;
}
