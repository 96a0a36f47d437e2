package engines

import (
	"context"
	"fmt"
	"io"
	"strconv"
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
// Step Functions and other services on the same endpoint).
type Moto struct {
	// Endpoint is the server's base URL, http://127.0.0.1:PORT.
	Endpoint string
	// Port is the loopback port it listens on.
	Port int

	proc *process
}

// StartMoto starts moto_server on 127.0.0.1 (installing it with pip when it
// is missing, see MotoPath) and returns once it answers HTTP. ctx bounds the
// start only; the server runs until Stop or until this process exits.
func StartMoto(ctx context.Context, opts MotoOptions) (*Moto, error) {
	path, err := MotoPath()
	if err != nil {
		return nil, err
	}
	proc, port, err := startEngine(ctx, opts.Port, func(port int) (*process, string, error) {
		p, err := startProcess("moto_server", path,
			[]string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)},
			childEnv(nil), opts.Log)
		return p, fmt.Sprintf("http://127.0.0.1:%d/moto-api/", port), err
	})
	if err != nil {
		return nil, err
	}
	return &Moto{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), Port: port, proc: proc}, nil
}

// Pid returns the process ID of moto_server, which leads its own process group.
func (m *Moto) Pid() int { return m.proc.pid() }

// Stop terminates moto_server and everything it spawned: SIGTERM to its
// process group, SIGKILL after 3 s. It is idempotent and safe to call
// concurrently, e.g. from a signal handler.
func (m *Moto) Stop() error {
	if m == nil || m.proc == nil {
		return nil
	}
	return m.proc.stop()
}
