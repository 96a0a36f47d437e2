package engines

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
const stopGrace = 3 * time.Second

// startAttempts bounds the retries when a port picked by freePort is taken
// by someone else before the engine binds it.
const startAttempts = 3

// process is a child process running in its own process group.
//
// The child starts with Setpgid, so Stop can signal every process it spawned
// (moto_server here is a pyenv shim that execs python), and with Pdeathsig, so
// the kernel kills it when the parent dies, even by SIGKILL or a panic.
// Pdeathsig fires when the OS thread that started the child exits; the Go
// runtime keeps its threads alive unless a goroutine exits while locked to one
// with runtime.LockOSThread, which this package never does.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *tail

	done    chan struct{} // closed when the child has been reaped
	waitErr error         // set before done is closed

	stopOnce sync.Once
	stopErr  error
}

// startProcess starts path with args and env. Its output goes to log (when
// not nil) and to a tail kept for error messages.
func startProcess(name, path string, args, env []string, log io.Writer) (*process, error) {
	p := &process{name: name, out: newTail(64 << 10), done: make(chan struct{})}
	var w io.Writer = p.out
	if log != nil {
		w = io.MultiWriter(p.out, log)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.cmd = cmd
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process ID of the child, which is also its process group ID.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the child has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the child's whole process group: SIGTERM, then SIGKILL after
// stopGrace. It is idempotent and safe to call from any goroutine, including
// a signal handler's.
func (p *process) stop() error {
	p.stopOnce.Do(func() {
		pgid := p.pid()
		if !p.exited() {
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
		}
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		// The leader is gone; anything it left behind in its group goes too.
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			p.stopErr = fmt.Errorf("stop %s: kill group %d: %w", p.name, pgid, err)
		}
	})
	return p.stopErr
}

// failure describes an engine that did not come up, with its last output.
func (p *process) failure(reason string) error {
	return fmt.Errorf("%s %s; last output:\n%s", p.name, reason, p.out.lastLines(20))
}

// addressInUse reports whether the child's output says its port was taken.
func (p *process) addressInUse() bool {
	s := strings.ToLower(p.out.String())
	return strings.Contains(s, "address already in use") || strings.Contains(s, "address in use")
}

// waitHTTP waits until url answers with any HTTP response. It fails when the
// child exits first, when ctx ends, or after timeout.
func (p *process) waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("health check %s: %w", p.name, err)
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.done:
			return p.failure(fmt.Sprintf("exited before answering on %s (%v)", url, p.waitErr))
		case <-ctx.Done():
			return p.failure(fmt.Sprintf("did not answer on %s in time (%v)", url, ctx.Err()))
		case <-tick.C:
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree checks that port can be bound on loopback.
func portFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("port %d is not free: %w", port, err)
	}
	return l.Close()
}

// startEngine runs launch on port (or on a fresh free port when port is 0)
// and waits for health. When the engine loses a race for a port it picked
// itself, it retries on another.
func startEngine(ctx context.Context, port int, launch func(port int) (*process, string, error)) (*process, int, error) {
	fixed := port != 0
	var lastErr error
	for attempt := 0; attempt < startAttempts; attempt++ {
		if !fixed {
			var err error
			if port, err = freePort(); err != nil {
				return nil, 0, err
			}
		} else if err := portFree(port); err != nil {
			// Otherwise the health check could succeed against whoever holds it.
			return nil, 0, err
		}
		p, healthURL, err := launch(port)
		if err != nil {
			return nil, 0, err
		}
		err = p.waitHTTP(ctx, healthURL, 60*time.Second)
		if err == nil && !p.exited() {
			return p, port, nil
		}
		if err == nil {
			err = p.failure(fmt.Sprintf("exited right after answering (%v)", p.waitErr))
		}
		_ = p.stop()
		lastErr = err
		if fixed || !p.addressInUse() || ctx.Err() != nil {
			break
		}
	}
	return nil, 0, lastErr
}

// childEnv returns the parent's environment without the variables that
// start with one of drop, plus set.
func childEnv(drop []string, set ...string) []string {
	var env []string
outer:
	for _, kv := range os.Environ() {
		for _, prefix := range drop {
			if strings.HasPrefix(kv, prefix) {
				continue outer
			}
		}
		env = append(env, kv)
	}
	return append(env, set...)
}

// tail is an io.Writer that keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// lastLines returns at most n trailing lines of the output.
func (t *tail) lastLines(n int) string {
	lines := bytes.Split(bytes.TrimRight([]byte(t.String()), "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
