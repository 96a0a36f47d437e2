package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ctrl-C on the local cloud stops every engine it started: run the real command on free ports,
// wait until it is up (seeded demo included), interrupt it, and look for its children.
func TestInterruptLeavesNoEngines(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "local")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-sfn-addr", "127.0.0.1:0", "-dir", "../..", "-state", t.TempDir())
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ctrl-C stops everything") {
				close(up)
			}
		}
	}()
	select {
	case <-up:
	case <-time.After(2 * time.Minute):
		t.Fatal("the local cloud did not come up")
	}
	engines := childrenOf(t, cmd.Process.Pid)
	require.Len(t, engines, 2, "moto_server and versitygw run as children")

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "a clean exit on Ctrl-C")
	case <-time.After(30 * time.Second):
		t.Fatal("the local cloud did not stop on Ctrl-C")
	}
	for _, pid := range engines {
		assert.False(t, alive(pid), "engine %d outlived the local cloud", pid)
	}
}

// childrenOf lists the live processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var kids []int
	for _, d := range dirs {
		child, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if ppid, state := statOf(child); ppid == pid && state != "Z" {
			kids = append(kids, child)
		}
	}
	return kids
}

func alive(pid int) bool {
	_, state := statOf(pid)
	return state != "" && state != "Z"
}

// statOf reads a process's parent and state from /proc/<pid>/stat ("" when it is gone).
func statOf(pid int) (ppid int, state string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0, ""
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0]
}
