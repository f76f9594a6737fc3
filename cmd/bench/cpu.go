package main

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU accounting (Linux; elsewhere the figures are absent): what each
// party of a cell spent, from /proc, so that a report can say where the
// two CPUs went: profiled, PostgreSQL, the load generator, and whatever
// else ran on the machine meanwhile.

// Keys of the CPU figures in a counter snapshot, in seconds.
const (
	cpuServer  = "cpu_profiled_seconds"     // the profiled processes of the cell
	cpuPG      = "cpu_postgres_seconds"     // the database's backends and PostgreSQL's writers
	cpuSelf    = "cpu_loadgen_seconds"      // the harness process (the load generator)
	cpuBusy    = "cpu_machine_busy_seconds" // every CPU of the machine, not idle
	cpuMachine = "cpu_machine_seconds"      // every CPU of the machine, in all
)

// clockTick is USER_HZ, the unit of /proc times: 100 on every Linux
// architecture Go supports.
const clockTick = 100.0

// procCPU is the user and system time of process pid, in seconds; 0 when
// it cannot be read (gone, or not Linux).
func procCPU(pid int) float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the rest follows ")".
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / clockTick
}

// selfCPU is the harness's own user and system time, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// machineCPU is the busy and total CPU time of the machine since boot, in
// seconds, from the first line of /proc/stat.
func machineCPU() (busy, total float64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0
	}
	for i, s := range f[1:] {
		if i >= 8 { // guest time is already in user
			break
		}
		v, _ := strconv.ParseFloat(s, 64)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy / clockTick, total / clockTick
}

// addCPU puts the CPU figures into a counter snapshot: the servers' (by
// pid), PostgreSQL's (pgPIDs, nil on bbolt), the harness's and the
// machine's.
func addCPU(m map[string]float64, servers []*process, pgPIDs []int) {
	for _, p := range servers {
		m[cpuServer] += procCPU(p.cmd.Process.Pid)
	}
	for _, pid := range pgPIDs {
		m[cpuPG] += procCPU(pid)
	}

	m[cpuSelf] = selfCPU()
	m[cpuBusy], m[cpuMachine] = machineCPU()
}

// pgServerPIDs lists the backends connected to database db and
// PostgreSQL's WAL writer, checkpointer and background writer, when the
// server runs on this machine (otherwise their /proc entries are not
// PostgreSQL's, and nothing is counted).
func pgServerPIDs(ctx context.Context, admin, db string) ([]int, error) {
	conn, err := pgConnect(ctx, admin)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE (datname = $1 AND pid <> pg_backend_pid()) OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`, db)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var pids []int
	for rows.Next() {
		var pid int32
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		if isPostgresProcess(int(pid)) {
			pids = append(pids, int(pid))
		}
	}
	return pids, rows.Err()
}

func isPostgresProcess(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && strings.HasPrefix(string(data), "postgres")
}

// cpuPerRequest is what the cell's successful requests cost on average
// in CPU time of one party (a snapshot key), 0 when not measured.
func (c cellResult) cpuPerRequest(key string) time.Duration {
	if c.ok == 0 || c.delta[key] <= 0 {
		return 0
	}
	return time.Duration(c.delta[key] / float64(c.ok) * float64(time.Second))
}

// machineBusy is the share of the machine's CPU time that was busy
// during the cell, and the share used by processes other than the
// harness, the servers and PostgreSQL (other users of the machine).
func (c cellResult) machineBusy() (busy, others float64, ok bool) {
	total := c.delta[cpuMachine]
	if total <= 0 {
		return 0, 0, false
	}
	busy = c.delta[cpuBusy] / total
	others = (c.delta[cpuBusy] - c.delta[cpuServer] - c.delta[cpuPG] - c.delta[cpuSelf]) / total
	return busy, max(others, 0), true
}

// cpuColumns renders the CPU figures of a cell: ms per request of each
// party, then machine busy (others).
func (c cellResult) cpuColumns(withPG bool) (perRequest, machine string) {
	f := func(key string) string {
		d := c.cpuPerRequest(key)
		if d <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
	}
	perRequest = f(cpuServer) + " / " + f(cpuSelf)
	if withPG {
		perRequest = f(cpuServer) + " / " + f(cpuPG) + " / " + f(cpuSelf)
	}
	if busy, others, ok := c.machineBusy(); ok {
		machine = fmt.Sprintf("%.0f%% (%.0f%%)", 100*busy, 100*others)
	}
	return perRequest, machine
}

// binaryRevision says which code a binary was built from, when the Go
// toolchain stamped it (a build inside a git checkout).
func binaryRevision(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return ""
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return ""
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += " with uncommitted changes"
	}
	return rev
}
