package engines

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// MotoOptions configures StartMoto.
type MotoOptions struct {
	// Port is the loopback port to bind; 0 picks a free one.
	Port int
	// Log receives moto_server's output; nil discards it (the last lines
	// still appear in start errors).
	Log io.Writer
}

// Moto is a running moto_server, the local DynamoDB engine (it also serves
// Step Functions and other services on the same endpoint), behind a proxy
// that hands it one request at a time.
//
// Why the proxy: moto_server is not thread-safe. Under concurrent
// TransactWriteItems about one request in ten fails with an HTML 500
// ("RuntimeError: dictionary changed size during iteration" in its log),
// which real DynamoDB never does. moto runs its Python on one core at a time
// anyway (the GIL), so handing it one request at a time costs little
// throughput (README, "Performance"); it removes the races. Everything that talks to
// moto (the local cloud, enginestest, storetest) gets the proxy's address as
// Endpoint and never sees moto's own.
type Moto struct {
	// Endpoint is the proxy's base URL, http://127.0.0.1:PORT.
	Endpoint string
	// Port is the loopback port the proxy listens on.
	Port int

	proc     *process
	srv      *http.Server
	stopOnce sync.Once
	stopErr  error
}

// StartMoto starts moto_server on a free loopback port (installing it with
// pip when it is missing, see MotoPath) and the serialising proxy in front of
// it on opts.Port, and returns once moto answers HTTP. ctx bounds the start
// only; the server runs until Stop or until this process exits.
func StartMoto(ctx context.Context, opts MotoOptions) (*Moto, error) {
	path, err := MotoPath()
	if err != nil {
		return nil, err
	}
	// Listen first: a taken fixed port fails before any child runs.
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", opts.Port))
	if err != nil {
		if opts.Port != 0 {
			return nil, fmt.Errorf("port %d is not free: %w", opts.Port, err)
		}
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	python := patchedMoto()
	proc, port, err := startEngine(ctx, 0, func(port int) (*process, string, error) {
		args := []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}
		if python != "" {
			// moto_server with its transactions and queries fixed (motopatch.py): same server, same arguments.
			p, err := startProcess("moto_server", python, append([]string{"-c", motoPatch}, args...), childEnv(nil), opts.Log)
			return p, fmt.Sprintf("http://127.0.0.1:%d/moto-api/", port), err
		}
		p, err := startProcess("moto_server", path, args, childEnv(nil), opts.Log)
		return p, fmt.Sprintf("http://127.0.0.1:%d/moto-api/", port), err
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	m := &Moto{Port: ln.Addr().(*net.TCPAddr).Port, proc: proc}
	m.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", m.Port)
	m.srv = &http.Server{Handler: newSerialProxy(fmt.Sprintf("http://127.0.0.1:%d", port)), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("moto proxy stopped", "err", err)
		}
	}()
	return m, nil
}

// motoPatch runs moto_server with the fix of its transactions described in the file.
//
//go:embed motopatch.py
var motoPatch string

var (
	patchOnce   sync.Once
	patchPython string
)

// patchedMoto returns the Python that runs moto (python3 when it imports moto's server), or ""
// to run moto_server unpatched.
func patchedMoto() string {
	patchOnce.Do(func() {
		// No trial import here: it would be one more child process while the engines start.
		// MotoPath installs moto with python3 -m pip, so python3 is moto's interpreter.
		if p, err := exec.LookPath("python3"); err == nil {
			patchPython = p
		} else {
			slog.Warn("moto_server runs without its fixes (motopatch.py): no python3 on PATH", "err", err)
		}
	})
	return patchPython
}

// serialProxy forwards one request at a time to target.
type serialProxy struct {
	mu    sync.Mutex
	proxy *httputil.ReverseProxy
}

func newSerialProxy(target string) *serialProxy {
	u, _ := url.Parse(target)
	return &serialProxy{proxy: &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
			// A client that gives up must not release the lock while moto still works on
			// its request: the next one would run concurrently with it.
			r.Out = r.Out.WithContext(context.WithoutCancel(r.In.Context()))
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second},
		ErrorLog:  slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}}
}

func (p *serialProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// An SQS receive may long-poll for up to 20 s; it touches only SQS's own state, so it must
	// not hold every DynamoDB request behind it.
	if r.Header.Get("X-Amz-Target") != "AmazonSQS.ReceiveMessage" {
		p.mu.Lock()
		defer p.mu.Unlock()
	}
	p.proxy.ServeHTTP(w, r)
}

// Pid returns the process ID of moto_server, which leads its own process group.
func (m *Moto) Pid() int { return m.proc.pid() }

// Stop closes the proxy and terminates moto_server and everything it
// spawned: SIGTERM to its process group, SIGKILL after 3 s. It is idempotent
// and safe to call concurrently, e.g. from a signal handler.
func (m *Moto) Stop() error {
	if m == nil || m.proc == nil {
		return nil
	}
	m.stopOnce.Do(func() {
		_ = m.srv.Close()
		m.stopErr = m.proc.stop()
	})
	return m.stopErr
}
