/* SPDX-License-Identifier: ISC */
/*
 * etrnd: ask secondary MX servers to flush their queues (ETRN, RFC 1985)
 * the moment a watched link comes up, on an interval, or on request.
 *
 * main owns the event base, the resolver, the configuration, the link
 * monitor and the scheduler; it turns signals into events, keeps
 * metrics-file up to date, and tears down in the reverse order of start-up.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "conf.h"
#include "check.h"
#include "control.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "report.h"
#include "resolver.h"
#include "sched.h"
#include "sig.h"
#include "util.h"

#define STOP_DEADLINE_MS	3000	/* SIGTERM: QUIT, then exit by this */
#define METRICS_FILE_MS		1000	/* metrics-file: one write a second */
/* Another etrnd serves the control socket: distinct from every other
 * status, and not in the unit's RestartPreventExitStatus= (78), so the
 * unit retries and takes over once the other instance is stopped. */
#define EXIT_RUNNING		73	/* EX_CANTCREAT */
#define EXIT_STARTUP		1	/* no netlink, no control socket */
/* systemd's DynamicUser= range (src/basic/uid-range.h). */
#define DYNAMIC_UID_MIN		61184
#define DYNAMIC_UID_MAX		65519

struct etrnd {
	struct event_base	*base;
	struct resolver		*resolver;
	const char		*conf_path;
	struct conf		*conf;
	char			*helo_default;	/* the host's name, from start */
	bool			 helo_qualified;
	struct sched		*sched;
	struct linkmon		*link;
	struct control		*control;
	struct sig_events	 sigs;
	struct event		*stop_ev;
	/* metrics-file: a write after a change, at most one a second. */
	struct event		*metrics_ev;
	uint64_t		 metrics_last;	/* now_ms() of the last write */
	int			 metrics_err;	/* warned of; 0: writes work */
	bool			 metrics_written; /* the file is ours to remove */
	int64_t			 started;	/* wall seconds */
	int64_t			 reload_time;	/* wall seconds, 0 = never */
	bool			 reload_ok;
	char			*reload_error;	/* first line, or NULL */
	bool			 once;
	bool			 check;		/* --check: ask for nothing */
	bool			 stopping;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: etrnd [-c FILE] [-t] [--once [--watch]] [--check [RELAY...]] "
	    "[-v] [-V] [-h]\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -t, --test         check the configuration, print a summary, exit\n"
	    "      --once         ask every relay now, print the results, exit\n"
	    "      --watch        with --once: then wait for what comes back "
	    "(flush-window)\n"
	    "      --check        connect, greet, STARTTLS and AUTH as "
	    "configured,\n"
	    "                     report what each relay offers; no ETRN\n"
	    "  -v, --verbose      trace SMTP conversations and state changes\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this help and exit\n",
	    ETRND_CONF_PATH);
}

/* Print a parse error text line by line, so each gets a priority. */
static void
log_conf_errors(const char *errors)
{
	const char	*p = errors, *nl;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		log_err("%.*s", (int)(nl != NULL ? nl - p : (long)strlen(p)), p);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

/* Settings that work but that an admin should see in the log. */
static void
conf_warnings(const struct conf *conf)
{
	size_t	i;

	for (i = 0; i < conf->nrelays; i++) {
		const struct conf_relay *r = &conf->relays[i];

		if (r->tls != CONF_TLS_NO && !r->tls_verify)
			log_warnx("relay %s: tls-verify = no: the secondary's "
			    "certificate is not checked, so TLS does not "
			    "stop an impostor", r->name);
		if (r->auth_user != NULL && r->auth_cleartext)
			log_warnx("relay %s: auth-cleartext = yes: the "
			    "password may cross the network unencrypted",
			    r->name);
	}
}

/* The host's FQDN, looked up once at start: the loop must never block. */
static void
helo_notice(const struct etrnd *d, const struct conf *conf)
{
	if (conf->helo == NULL && !d->helo_qualified)
		log_notice("helo: host name \"%s\" is not fully qualified; set "
		    "helo in %s if a secondary insists", d->helo_default,
		    conf->path);
}

/*
 * Enough descriptors for max-sessions sessions, the control clients and
 * our own sockets: systemd's default soft limit is 1024, max-sessions may
 * be 4096.  The soft limit goes up to what is needed, within the hard one.
 */
static void
etrnd_fd_limit(const struct conf *conf)
{
	struct rlimit	rl;
	rlim_t		want = (rlim_t)conf->max_sessions + 128;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ?
	    rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur < want)
		log_warnx("max-sessions = %u needs about %llu file descriptors; "
		    "the limit is %llu (LimitNOFILE=)", conf->max_sessions,
		    (unsigned long long)want, (unsigned long long)rl.rlim_cur);
}

/* No core dump may carry a password. */
static void
etrnd_protect_secrets(const struct conf *conf)
{
	size_t	i;

	for (i = 0; i < conf->nrelays; i++) {
		if (conf->relays[i].auth_password == NULL)
			continue;
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
			log_warn("prctl(PR_SET_DUMPABLE)");
		return;
	}
}

/* The name to greet with: helo=, else the host's. */
static const char *
helo_name(const struct etrnd *d, const struct conf *conf)
{
	return conf->helo != NULL ? conf->helo : d->helo_default;
}

/*
 * Write metrics-file now.  A failure is warned of when it first happens
 * or changes, then only traced until a write works again.
 */
static void
etrnd_metrics_write(struct etrnd *d)
{
	const char		*path = d->conf->metrics_file;
	struct report_relays	 rr = report_relays_of(d->sched);
	int			 err;

	d->metrics_last = now_ms();
	if (metrics_write_file(sched_metrics(d->sched), path, &rr,
	    linkmon_state(d->link)) == 0) {
		if (d->metrics_err != 0)
			log_info("metrics-file %s: written again", path);
		d->metrics_err = 0;
		d->metrics_written = true;
		return;
	}
	err = errno;
	if (err != d->metrics_err)
		log_warnx("metrics-file %s: %s; trying again at the next "
		    "change or reload", path, strerror(err));
	else
		log_debug("metrics-file %s: %s, still", path, strerror(err));
	d->metrics_err = err;
}

static void
etrnd_metrics_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct etrnd	*d = arg;

	(void)fd;
	(void)ev;
	if (d->conf->metrics_file != NULL)
		etrnd_metrics_write(d);
}

/*
 * Something metrics show changed: write metrics-file once the last write
 * is a second old, so a burst of changes costs one write, and an idle
 * daemon none.  Only the daemon has the timer (not --once or --check).
 */
static void
etrnd_metrics_soon(struct etrnd *d)
{
	uint64_t	now = now_ms(), wait = 0;
	struct timeval	tv;

	if (d->metrics_ev == NULL || d->conf->metrics_file == NULL ||
	    evtimer_pending(d->metrics_ev, NULL))
		return;
	if (d->metrics_last != 0 && now < d->metrics_last + METRICS_FILE_MS)
		wait = d->metrics_last + METRICS_FILE_MS - now;
	tv = ms_to_tv(wait);
	evtimer_add(d->metrics_ev, &tv);
}

/*
 * A reload moved metrics-file or dropped it, or the daemon stops (new
 * NULL): the old file, ours, goes, so that the textfile collector does not
 * show series nobody updates and an absent() alert can fire.  The new one
 * is written as after any reload.
 */
static void
etrnd_metrics_moved(struct etrnd *d, const char *old, const char *new)
{
	if (old == NULL || (new != NULL && strcmp(old, new) == 0))
		return;
	if (d->metrics_written && unlink(old) == -1 && errno != ENOENT)
		log_warn("metrics-file %s: cannot remove it", old);
	d->metrics_written = false;
	d->metrics_err = 0;
	d->metrics_last = 0;
}

/* STATUS= and metrics-file, after anything they show changed. */
static void
etrnd_update_status(struct etrnd *d)
{
	struct report_relays	rr;
	char			line[512];

	if (d->sched == NULL)
		return;
	rr = report_relays_of(d->sched);
	report_status_line(line, sizeof(line), &rr, d->link != NULL ?
	    linkmon_state(d->link) : NULL, d->conf_path);
	notify_status("%s", line);
	etrnd_metrics_soon(d);
}

/*
 * Re-read resolv.conf and the hosts file if they changed: a link coming up
 * (pppd's usepeerdns, DHCP) often brings the name servers the relays need,
 * and an admin may have moved a relay's name in /etc/hosts.
 */
static void
etrnd_before_session(void *arg)
{
	struct etrnd	*d = arg;

	resolver_refresh(d->resolver, false);
}

static void
etrnd_changed(void *arg)
{
	etrnd_update_status(arg);
}

static void
etrnd_idle(void *arg)
{
	struct etrnd	*d = arg;

	event_base_loopexit(d->base, NULL);
}

static bool
etrnd_watched(const char *ifname, void *arg)
{
	struct etrnd	*d = arg;

	return d->link == NULL ||
	    linkstate_watches(linkmon_state(d->link), ifname);
}

static void
etrnd_link_cb(enum linkstate_event ev, const char *ifname, void *arg)
{
	struct etrnd	*d = arg;

	(void)ifname;
	/* linkmon_new() reports nothing: its first dump is the state at
	 * start, not a change. */
	if (d->stopping)
		return;
	sched_set_online(d->sched, linkstate_online(linkmon_state(d->link)));
	switch (ev) {
	case LINKSTATE_UP:
		sched_on_link_up(d->sched);
		break;
	case LINKSTATE_ADDRESS:
		if (d->conf->linkup == CONF_LINKUP_ADDRESS)
			sched_on_link_up(d->sched);
		break;
	case LINKSTATE_ROUTE:
	case LINKSTATE_DOWN:
		break;
	}
	sched_on_network_change(d->sched);
	etrnd_update_status(d);
}

/* A rejected reload: say why (errors is consumed), keep what runs. */
static int
etrnd_reload_reject(struct etrnd *d, char *errors, char **errorsp)
{
	d->reload_ok = false;
	d->reload_error = xstrdup(errors != NULL ? errors : "");
	d->reload_error[strcspn(d->reload_error, "\n")] = '\0';
	log_conf_errors(errors);
	log_err("%s: not reloaded; keeping the previous configuration",
	    d->conf_path);
	if (errorsp != NULL)
		*errorsp = errors;
	else
		free(errors);
	notify_ready();
	etrnd_update_status(d);
	return -1;
}

/*
 * Re-read the configuration; keep the old one when the new one is invalid.
 * 0, or -1 with *errors (file:line lines) when errors is not NULL.
 */
static int
etrnd_reload(struct etrnd *d, char **errorsp)
{
	struct conf	*conf;
	char		*errors = NULL;

	notify_reloading();
	log_info("reloading %s", d->conf_path);
	d->reload_time = wall_s();
	free(d->reload_error);
	d->reload_error = NULL;
	if ((conf = conf_load(d->conf_path, &errors)) == NULL)
		return etrnd_reload_reject(d, errors, errorsp);
	/*
	 * etrnctl, ExecReload= and the ppp hook find the socket through the
	 * file: a file naming another socket than the one we listen on would
	 * cut them off (and let a second etrnd start).  Moving it takes a
	 * restart.
	 */
	if (strcmp(conf->control_socket, d->conf->control_socket) != 0) {
		if (asprintf(&errors, "%s: control-socket changed from %s to "
		    "%s: a reload cannot move the socket; restart etrnd "
		    "(systemctl restart etrnd)\n", d->conf_path,
		    d->conf->control_socket, conf->control_socket) == -1)
			fatal("asprintf");
		conf_free(conf);
		return etrnd_reload_reject(d, errors, errorsp);
	}
	if (d->conf->helo != NULL)
		helo_notice(d, conf);
	etrnd_fd_limit(conf);
	etrnd_protect_secrets(conf);
	conf_warnings(conf);
	/* The new watch list first: new relays run only if a link is up. */
	if (d->link != NULL) {
		linkstate_set_watch(linkmon_state(d->link), conf->watch,
		    conf->nwatch);
		sched_set_online(d->sched,
		    linkstate_online(linkmon_state(d->link)));
	}
	/* A reload is also how an admin says "look again": names too. */
	resolver_refresh(d->resolver, true);
	sched_reconfigure(d->sched, conf, helo_name(d, conf));
	etrnd_metrics_moved(d, d->conf->metrics_file, conf->metrics_file);
	conf_free(d->conf);
	d->conf = conf;
	d->reload_ok = true;
	log_info("reloaded %s: %zu relay%s", d->conf_path, conf->nrelays,
	    conf->nrelays == 1 ? "" : "s");
	if (conf->nrelays == 0)
		log_notice("no relays configured in %s: nothing to do until a "
		    "reload adds one", d->conf_path);
	notify_ready();
	etrnd_update_status(d);
	return 0;
}

/* A missing configuration file: point at the documented sample. */
static void
conf_missing_hint(const char *path)
{
	struct stat	st;

	if (stat(path, &st) == -1 && errno == ENOENT)
		log_err("%s does not exist: copy the documented sample %s/"
		    "etrnd.conf there and edit it (etrnd.conf(5))", path,
		    ETRND_EXAMPLES_DIR);
}

/*
 * etrnd -t: a password file that this uid (often root) can read may still
 * be closed to the service, which runs as a dynamic user.
 */
static void
conf_check_uid(const struct conf *conf)
{
	uid_t	uid = geteuid();
	size_t	i;

	if (uid >= DYNAMIC_UID_MIN && uid <= DYNAMIC_UID_MAX)
		return;
	for (i = 0; i < conf->nrelays; i++) {
		const struct conf_relay *r = &conf->relays[i];

		if (r->auth_password_file == NULL)
			continue;
		log_warnx("relay %s: auth-password-file %s was checked as uid "
		    "%u%s, but the etrnd service runs as a dynamic user that "
		    "cannot read root-only files: use auth-password-credential "
		    "with LoadCredential= in the unit (etrnd.conf(5))", r->name,
		    r->auth_password_file, (unsigned)uid, uid == 0 ? " (root)" :
		    "");
	}
}

/* Another etrnd serves our control socket: say which, and refuse. */
static int
etrnd_control_refuse(const struct etrnd *d)
{
	const char	*path = d->conf->control_socket;
	pid_t		 pid;

	if ((pid = control_serving_pid(path)) > 0)
		log_err("another etrnd (pid %ld) is serving %s; stop it first "
		    "(systemctl stop etrnd)", (long)pid, path);
	else
		log_err("another etrnd is serving %s, or this user may not use "
		    "it; stop it first (systemctl stop etrnd), or run as root",
		    path);
	notify_failure(EADDRINUSE, "another etrnd is serving the control "
	    "socket");
	return EXIT_RUNNING;
}

/*
 * Listen on the control socket, or say why not and what to do: 0, or the
 * exit status.  As root outside systemd, create the default directory.
 */
static int
etrnd_control_open(struct etrnd *d, const struct control_ops *ops)
{
	const char	*path = d->conf->control_socket;
	const char	*slash = strrchr(path, '/');
	struct group	*gr;
	char		 dir[256];
	bool		 made = false;
	int		 err;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	d->control = control_new(d->base, path, d->sched,
	    linkmon_state(d->link), ops);
	if (d->control == NULL && errno == ENOENT && geteuid() == 0 &&
	    strcmp(path, CONF_CONTROL_SOCKET) == 0) {
		/* What RuntimeDirectory=etrnd would have made. */
		if (mkdir(dir, 0750) == 0 && chmod(dir, 0750) == 0) {
			log_info("created %s (mode 0750) for the control socket",
			    dir);
			made = true;
		}
		d->control = control_new(d->base, path, d->sched,
		    linkmon_state(d->link), ops);
	}
	/*
	 * Root outside systemd: give the admin group what the unit's
	 * Group= gives it, so that etrnctl works for its members too.
	 */
	if (d->control != NULL && geteuid() == 0 &&
	    (gr = getgrnam(CONTROL_ADMIN_GROUP)) != NULL) {
		if ((made && fchownat(AT_FDCWD, dir, 0, gr->gr_gid,
		    AT_SYMLINK_NOFOLLOW) == -1) || fchownat(AT_FDCWD, path, 0,
		    gr->gr_gid, AT_SYMLINK_NOFOLLOW) == -1)
			log_warn("control socket %s: group %s", path,
			    CONTROL_ADMIN_GROUP);
	}
	if (d->control != NULL)
		return 0;
	err = errno;
	switch (err) {
	case EADDRINUSE:
		return etrnd_control_refuse(d);
	case ENOENT:
	case ENOTDIR:
		log_err("control socket %s: %s does not exist: run under "
		    "systemd (RuntimeDirectory=etrnd), create it, or set "
		    "control-socket in %s", path, dir, d->conf_path);
		break;
	case EACCES:
	case EPERM:
	case EROFS:
		log_err("control socket %s: cannot create it in %s: %s: run "
		    "as root or under systemd, or set control-socket in %s to "
		    "a directory this user may write", path, dir, strerror(err),
		    d->conf_path);
		break;
	default:
		log_err("control socket %s: %s: set control-socket in %s",
		    path, strerror(err), d->conf_path);
		break;
	}
	notify_failure(err, "cannot create the control socket");
	return EXIT_STARTUP;
}

static int
etrnd_control_reload(void *arg, char **errors)
{
	struct etrnd	*d = arg;

	if (d->stopping) {
		*errors = xstrdup("etrnd is stopping");
		return -1;
	}
	return etrnd_reload(d, errors);
}

static void
etrnd_control_info(void *arg, struct control_daemon_info *di)
{
	struct etrnd	*d = arg;

	di->conf_path = d->conf_path;
	di->started = d->started;
	di->reload_time = d->reload_time;
	di->reload_ok = d->reload_ok;
	di->reload_error = d->reload_error;
}

static void
etrnd_stop_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct etrnd	*d = arg;

	(void)fd;
	(void)ev;
	log_warnx("sessions still open after %d ms; exiting anyway",
	    STOP_DEADLINE_MS);
	event_base_loopbreak(d->base);
}

static void
etrnd_stop(struct etrnd *d, const char *why)
{
	struct timeval	tv = ms_to_tv(STOP_DEADLINE_MS);

	if (d->stopping) {
		log_info("%s again: exiting now", why);
		event_base_loopbreak(d->base);
		return;
	}
	d->stopping = true;
	log_info("%s: stopping", why);
	notify_stopping();
	d->stop_ev = evtimer_new(d->base, etrnd_stop_deadline_cb, d);
	if (d->stop_ev != NULL)
		evtimer_add(d->stop_ev, &tv);
	sched_shutdown(d->sched);
}

/* What etrnd turns into events: reload, stop, stop, ask every relay. */
static const int	etrnd_sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };

static void
etrnd_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct etrnd	*d = arg;

	(void)ev;
	switch (sig) {
	case SIGHUP:
		if (!d->once && !d->stopping)
			etrnd_reload(d, NULL);
		break;
	case SIGUSR1:
		if (!d->stopping) {
			log_info("SIGUSR1: asking every relay now");
			sched_trigger_all(d->sched, RELAY_T_MANUAL);
		}
		break;
	case SIGTERM:
		etrnd_stop(d, "SIGTERM");
		break;
	case SIGINT:
		etrnd_stop(d, "SIGINT");
		break;
	}
}

static void
etrnd_free(struct etrnd *d)
{
	/* The reverse of construction in main(). */
	if (d->stop_ev != NULL)
		event_free(d->stop_ev);
	if (d->metrics_ev != NULL)
		event_free(d->metrics_ev);
	control_free(d->control);	/* its clients may wait on sched */
	linkmon_free(d->link);
	notify_deinit();
	sched_free(d->sched);
	sig_events_deinit(&d->sigs);
	resolver_free(d->resolver);
	if (d->base != NULL)
		event_base_free(d->base);
	conf_free(d->conf);
	free(d->helo_default);
	free(d->reload_error);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "test",	no_argument,		NULL, 't' },
		{ "once",	no_argument,		NULL, 'o' },
		{ "watch",	no_argument,		NULL, 'w' },
		{ "check",	no_argument,		NULL, 'C' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 },
	};
	struct etrnd		 d;
	struct sched_hooks	 hooks;
	struct control_ops	 ops;
	struct event_config	*cfg;
	char			*errors = NULL;
	int			 ch, verbose = 0, test = 0, status = 0;
	bool			 watch = false;

	memset(&d, 0, sizeof(d));
	d.conf_path = ETRND_CONF_PATH;
	while ((ch = getopt_long(argc, argv, "c:thvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.conf_path = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'o':
			d.once = true;
			break;
		case 'w':
			watch = true;
			break;
		case 'C':
			d.check = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("etrnd %s\n", ETRND_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (test + d.once + d.check > 1) {
		fprintf(stderr, "etrnd: -t, --once and --check go alone: "
		    "choose one\n");
		usage(stderr);
		return EX_USAGE;
	}
	if (watch && !d.once) {
		fprintf(stderr, "etrnd: --watch goes with --once\n");
		usage(stderr);
		return EX_USAGE;
	}
	if (optind != argc && !d.check) {
		fprintf(stderr, "etrnd: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	log_init(verbose);
	if ((d.conf = conf_load_flags(d.conf_path,
	    test || d.check ? CONF_CHECK_ONLY : 0, &errors)) == NULL) {
		log_conf_errors(errors);
		free(errors);
		conf_missing_hint(d.conf_path);
		notify_failure(EINVAL, "invalid configuration");
		return EX_CONFIG;
	}
	/*
	 * From here, lines outside the journal say when and who; the
	 * configuration's errors above stay "file:line: message".
	 */
	if (!test && !d.check)
		log_set_tag("etrnd");
	if (test) {
		conf_print_summary(d.conf, stdout);
		fflush(stdout);
		if (d.conf->nrelays == 0)
			log_warnx("%s: no relays configured: etrnd would start "
			    "and do nothing until a reload adds one",
			    d.conf_path);
		conf_check_uid(d.conf);
		conf_free(d.conf);
		return 0;
	}
	if (d.conf->nrelays == 0 && d.once) {
		log_err("no relays configured in %s: nothing to do",
		    d.conf_path);
		conf_free(d.conf);
		return EX_CONFIG;
	}
	d.started = wall_s();
	/* Before any slow start-up work; control_new() checks again. */
	if (!d.once && !d.check &&
	    control_serving_pid(d.conf->control_socket) >= 0) {
		status = etrnd_control_refuse(&d);
		conf_free(d.conf);
		return status;
	}
	signal(SIGPIPE, SIG_IGN);
	conf_warnings(d.conf);
	/*
	 * Looked up once, here: getaddrinfo() may block, and a reload that
	 * drops helo = runs inside the event loop.
	 */
	d.helo_default = host_fqdn(&d.helo_qualified);
	helo_notice(&d, d.conf);
	etrnd_fd_limit(d.conf);
	etrnd_protect_secrets(d.conf);

	/*
	 * Precise timers: with libevent's default 4 ms clock a 1 s watchdog
	 * sleep often wakes 3 ms early and sleeps again, and settle = 5ms
	 * takes 7.
	 */
	if ((cfg = event_config_new()) == NULL ||
	    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER) == -1 ||
	    (d.base = event_base_new_with_config(cfg)) == NULL)
		fatalx("event_base_new");
	event_config_free(cfg);
	d.resolver = resolver_new(d.base);
	if (d.check) {
		status = check_run(d.base, resolver_dns(d.resolver), d.conf,
		    helo_name(&d, d.conf),
		    argv + optind, (size_t)(argc - optind), ETRND_SBINDIR,
		    stdout);
		etrnd_free(&d);
		return status;
	}
	sig_events_init(&d.sigs, d.base, etrnd_sigs, nitems(etrnd_sigs),
	    etrnd_signal_cb, &d);

	memset(&hooks, 0, sizeof(hooks));
	hooks.before_session = etrnd_before_session;
	hooks.changed = etrnd_changed;
	hooks.idle = etrnd_idle;
	hooks.watched = etrnd_watched;
	hooks.arg = &d;
	/* --once waits for what comes back only when asked to. */
	if (d.once && !watch)
		d.conf->flush_window_ms = 0;
	d.sched = sched_new(d.base, resolver_dns(d.resolver), d.conf,
	    helo_name(&d, d.conf), d.once, &hooks);

	if (d.once) {
		sched_trigger_all(d.sched, RELAY_T_MANUAL);
		if (sched_busy(d.sched))
			event_base_dispatch(d.base);
		struct report_relays rr = report_relays_of(d.sched);

		status = report_results(&rr, NULL, 0, report_line_stdio,
		    stdout);
		/* --watch: sched_busy() held until the windows had their
		 * verdicts. */
		report_flush_results(&rr, NULL, 0, report_line_stdio, stdout);
		etrnd_free(&d);
		return status;
	}

	if (notify_init(d.base) == -1)
		log_warn("systemd watchdog");
	d.link = linkmon_new(d.base, d.conf->watch, d.conf->nwatch,
	    etrnd_link_cb, &d);
	if (d.link == NULL) {
		ch = errno;
		log_warn("netlink: cannot watch links");
		notify_failure(ch, "cannot open a netlink socket");
		etrnd_free(&d);
		return EXIT_STARTUP;
	}
	sched_set_online(d.sched, linkstate_online(linkmon_state(d.link)));
	memset(&ops, 0, sizeof(ops));
	ops.reload = etrnd_control_reload;
	ops.info = etrnd_control_info;
	ops.arg = &d;
	if ((status = etrnd_control_open(&d, &ops)) != 0) {
		etrnd_free(&d);
		return status;
	}
	if ((d.metrics_ev = evtimer_new(d.base, etrnd_metrics_cb, &d)) == NULL)
		fatalx("evtimer_new");
	log_info("etrnd %s started: %zu relay%s, %s", ETRND_VERSION,
	    d.conf->nrelays, d.conf->nrelays == 1 ? "" : "s",
	    linkstate_online(linkmon_state(d.link)) ? "a watched link is up" :
	    "no watched link is up");
	if (d.conf->nrelays == 0)
		log_notice("no relays configured in %s: nothing to do until a "
		    "reload adds one", d.conf_path);
	if (d.conf->run_at_start && linkstate_online(linkmon_state(d.link)))
		sched_trigger_all(d.sched, RELAY_T_START);
	notify_ready();
	etrnd_update_status(&d);

	if (event_base_dispatch(d.base) == -1)
		log_warnx("event loop failed");
	/* Stopped by SIGTERM or SIGINT: no stale series left exported. */
	if (d.stopping)
		etrnd_metrics_moved(&d, d.conf->metrics_file, NULL);
	log_info("stopped");
	etrnd_free(&d);
	return 0;
}
