package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ctrl-C on the local cloud, at any moment, is a clean stop: run the real command on free
// ports, interrupt it as a terminal does (SIGINT to its process group) about 3 s in (starting
// engines or seeding, depending on the machine's load), right after the demo's first upload
// arrived (seeding for sure), or once it is up; it exits 0 with a short "stopped" line and no
// error, and every engine it started is gone.
func TestInterrupt(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "local")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	wait := func(t *testing.T, what string, ch <-chan struct{}) {
		select {
		case <-ch:
		case <-time.After(2 * time.Minute):
			t.Errorf("the local cloud never got to %s", what)
		}
	}
	for _, tc := range []struct {
		name  string
		after func(t *testing.T, seeding, up <-chan struct{})
	}{
		{"at 3 s", func(*testing.T, <-chan struct{}, <-chan struct{}) { time.Sleep(3 * time.Second) }},
		{"while seeding", func(t *testing.T, seeding, _ <-chan struct{}) { wait(t, "seeding", seeding) }},
		{"after the banner", func(t *testing.T, _, up <-chan struct{}) { wait(t, "the banner", up) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-sfn-addr", "127.0.0.1:0", "-dir", "../..", "-state", t.TempDir())
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, as a terminal's foreground job
			var output syncBuffer
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			cmd.Stderr = &output
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Process.Kill() })

			seeding, up := make(chan struct{}), make(chan struct{})
			go func() {
				sc := bufio.NewScanner(stdout)
				sc.Buffer(make([]byte, 64<<10), 1<<20)
				seen := false
				for sc.Scan() {
					output.Write([]byte(sc.Text() + "\n"))
					if !seen && strings.Contains(sc.Text(), "UploadsReceived") { // the demo's first deck arrived
						seen = true
						close(seeding)
					}
					if strings.Contains(sc.Text(), "Ctrl-C stops everything") {
						close(up)
					}
				}
			}()
			// Every engine it starts, however briefly, must be gone at the end.
			engines := map[int]bool{}
			watch := make(chan struct{})
			watched := make(chan struct{})
			go func() {
				defer close(watched)
				for {
					for _, pid := range childrenOf(t, cmd.Process.Pid) {
						engines[pid] = true
					}
					select {
					case <-watch:
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			}()
			tc.after(t, seeding, up)
			require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGINT))
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				assert.NoError(t, err, "a clean exit on Ctrl-C; output:\n%s", output.String())
			case <-time.After(30 * time.Second):
				t.Fatal("the local cloud did not stop on Ctrl-C")
			}
			close(watch)
			<-watched
			text := output.String()
			assert.Regexp(t, `(?m)^stopped$`, text)
			for _, bad := range []string{"level=ERROR", "local:", "panic", "context canceled"} {
				assert.NotContains(t, text, bad)
			}
			for pid := range engines {
				assert.False(t, alive(pid), "engine %d outlived the local cloud", pid)
			}
			if tc.name == "after the banner" {
				assert.Len(t, engines, 2, "moto_server and versitygw ran as children")
			}
		})
	}
}

// syncBuffer collects a process's output from two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
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
