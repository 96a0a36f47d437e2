package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os/exec"
	"sort"
	"sync"
	"syscall"
	"time"
)

// runtimeAPI is a stub of the Lambda Runtime API that only notices the
// moment a function asks for its first invocation: everything a function does
// before that poll is its cold start. It serves one function process at a time.
type runtimeAPI struct {
	addr string
	srv  *http.Server

	mu      sync.Mutex
	polled  chan time.Time // current run's first poll
	initErr chan string    // current run's init error report
}

func newRuntimeAPI() (*runtimeAPI, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API stub: %w", err)
	}
	api := &runtimeAPI{addr: l.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		api.mu.Lock()
		ch := api.polled
		api.mu.Unlock()
		select {
		case ch <- at:
		default:
		}
		<-r.Context().Done() // no invocation ever comes; the tool kills the process
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		api.mu.Lock()
		ch := api.initErr
		api.mu.Unlock()
		select {
		case ch <- string(body):
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	})
	api.srv = &http.Server{Handler: mux}
	go func() { _ = api.srv.Serve(l) }()
	return api, nil
}

func (api *runtimeAPI) Close() error { return api.srv.Close() }

// initTime starts bin with env plus AWS_LAMBDA_RUNTIME_API and returns the
// time from exec until its first poll. The process is killed afterwards.
func (api *runtimeAPI) initTime(bin string, env []string, timeout time.Duration) (time.Duration, error) {
	polled, initErr := make(chan time.Time, 1), make(chan string, 1)
	api.mu.Lock()
	api.polled, api.initErr = polled, initErr
	api.mu.Unlock()

	var stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+api.addr)
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	exited := make(chan error, 1)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() { exited <- cmd.Wait() }()
	kill := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	select {
	case at := <-polled:
		kill()
		return at.Sub(start), nil
	case msg := <-initErr:
		kill()
		return 0, fmt.Errorf("reported an init error: %s\nstderr:\n%s", msg, stderr.String())
	case err := <-exited:
		return 0, fmt.Errorf("exited before its first poll (%v); stderr:\n%s", err, stderr.String())
	case <-time.After(timeout):
		kill()
		return 0, fmt.Errorf("no first poll within %s; stderr:\n%s", timeout, stderr.String())
	}
}

// stats summarises init times.
type stats struct {
	Median, P90 time.Duration
}

// summarise returns the median (mean of the middle two for an even count)
// and the 90th percentile by the nearest-rank method: the ⌈0.9·n⌉-th
// smallest value, e.g. the 19th of 21.
func summarise(d []time.Duration) (stats, error) {
	if len(d) == 0 {
		return stats{}, errors.New("no samples")
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	rank := int(math.Ceil(0.9 * float64(n)))
	return stats{Median: med, P90: s[rank-1]}, nil
}
