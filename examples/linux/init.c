/* /init for a stock Linux guest: checks that the (virtual) machine gives
 * Linux what it needs, prints one line per check and a verdict, and powers
 * off.
 *
 *   cpus     the CPUs online are as many as `axvcpu.cpus=N` on the kernel
 *            command line says (secondary CPUs came up: PSCI CPU_ON / SBI HSM)
 *   hotplug  only with 2 or more CPUs: each secondary CPU, twice, goes
 *            offline (PSCI CPU_OFF / SBI hart_stop) and online again
 *            (CPU_ON / hart_start), and after each return /init is moved
 *            to it (the scheduler's IPI) and sleeps 10 ms there (its
 *            timer interrupt; a lost one hangs, which the runner's
 *            time-out fails)
 *   timer    CLOCK_MONOTONIC advances and a 100 ms nanosleep takes at least
 *            100 ms (timer interrupts arrive)
 *   console  /dev/console opens as a tty whose active console is a real
 *            device, not the dummy VT, and every line written to it is
 *            taken whole and sent out (the tty drains: its interrupt works)
 *   input    only with `axvcpu.input=WORD` on the command line: after the
 *            line "axvcpu-init: waiting for console input", a line typed on
 *            the console reads back as WORD within 10 s (the UART's receive
 *            interrupt works)
 *
 * Verdict: "axvcpu-init: PASS" or "axvcpu-init: FAIL (<checks>)", written
 * to /dev/console and to /dev/kmsg. A runner that wants to know the tty
 * works looks for the line exactly as written: the kernel-log copy reaches
 * the console with a "[    1.234567] " time stamp in front.
 * Then reboot(RB_POWER_OFF), whatever the verdict; if that returns, init
 * exits and the kernel panics (with panic=-1 a reset).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h> /* sched_setaffinity, sched_getcpu: _GNU_SOURCE (meson.build) */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int console_fd = -1;      /* /dev/console, once opened */
static int kmsg_fd = -1;         /* /dev/kmsg: reaches the log even when the tty is dead */
static int console_wrote = 1;    /* every write to /dev/console took the whole line */
static int console_drained = 1;  /* and the tty sent it out within DRAIN_S seconds */
enum { DRAIN_S = 5 };

/* Only to interrupt tcdrain: init ignores any signal it has no handler for. */
static void on_alarm(int sig) { (void)sig; }

/* Waits until the tty has sent what was written, for DRAIN_S seconds at most:
 * a tty whose transmit interrupt never comes never drains. */
static int drain(int fd) {
    struct sigaction action = {.sa_handler = on_alarm}; /* no SA_RESTART: tcdrain gets EINTR */
    sigaction(SIGALRM, &action, NULL);
    alarm(DRAIN_S);
    int ok = tcdrain(fd) == 0;
    alarm(0);
    return ok;
}

/* One line to the console, then to the kernel log. The tty sends in the
 * background and the kernel prints its log straight to the UART, so the
 * line is drained first, else the copy can land in the middle of it. */
static void say(const char* fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    if (console_fd >= 0) {
        if (write(console_fd, line, n) != n) console_wrote = 0;
        else if (console_drained) console_drained = drain(console_fd);
    }
    if (kmsg_fd >= 0 && write(kmsg_fd, line, n) < 0) { /* nowhere left to say so */ }
}

/* The whole of a small text file (first line kept, newline dropped). */
static int read_line(const char* path, char* buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/* Mounts that fail are not fatal: the check that needs one reports it. */
static void mount_filesystems(void) {
    if (mount("proc", "/proc", "proc", 0, NULL) < 0 && errno != EBUSY) perror("mount /proc");
    if (mount("sysfs", "/sys", "sysfs", 0, NULL) < 0 && errno != EBUSY) perror("mount /sys");
    /* Over the initramfs' own /dev nodes, which stay usable if this fails. */
    if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) < 0 && errno != EBUSY && errno != ENODEV)
        perror("mount /dev");
}

/* CPUs in a sysfs list such as "0-1,3". */
static int count_cpu_list(const char* list) {
    int count = 0;
    for (const char* p = list; *p;) {
        char* end;
        long first = strtol(p, &end, 10), last = first;
        if (end == p) return -1;
        if (*end == '-') {
            p = end + 1;
            last = strtol(p, &end, 10);
            if (end == p || last < first) return -1;
        }
        count += (int)(last - first + 1);
        p = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0') return -1;
    }
    return count;
}

/* The value of `key=value` on the kernel command line, in out; 0 if absent
 * (or /proc/cmdline cannot be read). */
static int cmdline_value(const char* key, char* out, size_t size) {
    char cmdline[4096];
    if (read_line("/proc/cmdline", cmdline, sizeof cmdline) < 0) return 0;
    size_t length = strlen(key);
    for (char* word = strtok(cmdline, " "); word; word = strtok(NULL, " ")) {
        if (strncmp(word, key, length) == 0 && word[length] == '=') {
            snprintf(out, size, "%s", word + length + 1);
            return 1;
        }
    }
    return 0;
}

/* The CPUs the command line expects go to *expected (0 if it says none). */
static int check_cpus(long* expected_out) {
    char value[32], online[256];
    long expected = cmdline_value("axvcpu.cpus", value, sizeof value) ? strtol(value, NULL, 10) : -1;
    if (expected < 1) {
        say("axvcpu-init: cpus: no axvcpu.cpus=N on the kernel command line");
        return 0;
    }
    *expected_out = expected;
    if (read_line("/sys/devices/system/cpu/online", online, sizeof online) < 0) {
        say("axvcpu-init: cpus: cannot read /sys/devices/system/cpu/online");
        return 0;
    }
    int count = count_cpu_list(online);
    int ok = count == expected;
    say("axvcpu-init: cpus: %d online (%s), expected %ld: %s", count, online, expected, ok ? "ok" : "WRONG");
    return ok;
}

/* Writes text to a sysfs file; the write's errno (0 if it took). */
static int write_file(const char* path, const char* text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int error = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : errno;
    close(fd);
    return error;
}

/* /init pinned to `cpu`: it must be moved there (the scheduler wakes that
 * CPU with an IPI), then sleep 10 ms there (its own timer wakes it; if
 * neither comes, this hangs and the runner's time-out fails the boot). The
 * affinity is given back after. */
static int runs_on(int cpu) {
    cpu_set_t one, all;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_getaffinity(0, sizeof all, &all) < 0 || sched_setaffinity(0, sizeof one, &one) < 0) return 0;
    int moved = sched_getcpu() == cpu;
    struct timespec sleep = {0, 10 * 1000000L};
    int slept = nanosleep(&sleep, NULL) == 0;
    sched_setaffinity(0, sizeof all, &all);
    return moved && slept;
}

/* Each secondary CPU off and on again, twice: the second round finds what
 * the first one left behind (an interrupt lost in flight, a vCPU not reset). */
static int check_hotplug(long cpus) {
    int ok = 1;
    for (int cpu = 1; cpu < cpus; ++cpu) {
        char path[64], state[8];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/online", cpu);
        const char* wrong = NULL;
        int error = 0, round = 1;
        for (; round <= 2; ++round) {
            if ((error = write_file(path, "0")) != 0) wrong = "offline failed";
            else if (read_line(path, state, sizeof state) < 0 || strcmp(state, "0") != 0) wrong = "still online";
            else if ((error = write_file(path, "1")) != 0) wrong = "online failed";
            else if (read_line(path, state, sizeof state) < 0 || strcmp(state, "1") != 0) wrong = "still offline";
            else if (!runs_on(cpu)) wrong = "/init does not run there";
            if (wrong) break;
        }
        if (wrong) {
            say("axvcpu-init: hotplug: cpu%d, round %d: %s%s%s: WRONG", cpu, round, wrong, error ? ": " : "",
                error ? strerror(error) : "");
            ok = 0;
        } else {
            say("axvcpu-init: hotplug: cpu%d off and on twice, /init ran on it after each: ok", cpu);
        }
    }
    return ok;
}

static long long now_ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int check_timer(void) {
    long long t0 = now_ns(CLOCK_MONOTONIC);
    /* If timer interrupts never come, this never returns: the runner's
     * time-out then fails the boot, after the line above it on the console. */
    struct timespec sleep = {0, 100 * 1000000L};
    int slept = nanosleep(&sleep, NULL) == 0;
    long long t1 = now_ns(CLOCK_MONOTONIC);
    int ok = slept && t1 - t0 >= 100 * 1000000LL;
    say("axvcpu-init: timer: 100 ms nanosleep %s after %lld.%03lld ms of CLOCK_MONOTONIC: %s",
        slept ? "returned" : "failed", (t1 - t0) / 1000000, (t1 - t0) / 1000 % 1000, ok ? "ok" : "WRONG");
    return ok;
}

/* Judged on the lines the other checks wrote through /dev/console. */
static int check_console(void) {
    if (console_fd < 0) {
        say("axvcpu-init: console: /dev/console does not open: WRONG");
        return 0;
    }
    /* The console ttys, the one behind /dev/console last. With no real one
     * it is empty, or tty0: the virtual terminal, which goes nowhere on a
     * machine with no display (the dummy console). */
    char active[128];
    if (read_line("/sys/class/tty/console/active", active, sizeof active) < 0) strcpy(active, "?");
    const char* last = strrchr(active, ' ') ? strrchr(active, ' ') + 1 : active;
    int real = last[0] != '\0' && strcmp(last, "?") != 0 && strcmp(last, "tty0") != 0;
    int tty = isatty(console_fd);
    int ok = real && tty && console_wrote && console_drained;
    say("axvcpu-init: console: active '%s', %s, writes %s, %s: %s", active, tty ? "a tty" : "NOT a tty",
        console_wrote ? "whole" : "SHORT", console_drained ? "sent" : "NOT SENT", ok ? "ok" : "WRONG");
    return ok;
}

/* A line typed on the console must read back as `expected`. */
static int check_input(const char* expected) {
    int fd = open("/dev/console", O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        say("axvcpu-init: input: /dev/console does not open for reading: WRONG");
        return 0;
    }
    say("axvcpu-init: waiting for console input");
    char line[128];
    size_t length = 0;
    struct sigaction action = {.sa_handler = on_alarm}; /* no SA_RESTART: read gets EINTR */
    sigaction(SIGALRM, &action, NULL);
    alarm(10);
    while (length < sizeof line - 1) {
        ssize_t n = read(fd, line + length, sizeof line - 1 - length);
        if (n <= 0) break;
        length += (size_t)n;
        if (memchr(line, '\n', length)) break;
    }
    alarm(0);
    close(fd);
    line[length] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    int ok = strcmp(line, expected) == 0;
    say("axvcpu-init: input: read '%s', expected '%s': %s", line, expected, ok ? "ok" : "WRONG");
    return ok;
}

int main(void) {
    mount_filesystems();
    console_fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

    say("axvcpu-init: started");

    char failed[64] = "";
    long cpus = 0;
    if (!check_cpus(&cpus)) strcat(failed, " cpus");
    if (cpus > 1 && !check_hotplug(cpus)) strcat(failed, " hotplug");
    if (!check_timer()) strcat(failed, " timer");
    if (!check_console()) strcat(failed, " console");
    char input[64];
    if (cmdline_value("axvcpu.input", input, sizeof input) && !check_input(input)) strcat(failed, " input");

    if (failed[0] == '\0')
        say("axvcpu-init: PASS");
    else
        say("axvcpu-init: FAIL (%s)", failed + 1);

    reboot(RB_POWER_OFF);
    say("axvcpu-init: reboot(RB_POWER_OFF) returned: %s", strerror(errno));
    return 1;
}
