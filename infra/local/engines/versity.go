package engines

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Default credentials and region of a local versitygw. They are not secrets:
// the gateway listens on loopback only.
const (
	DefaultS3AccessKey = "facepay-local"
	DefaultS3SecretKey = "facepay-local-secret"
	DefaultS3Region    = "us-east-1"
)

// VersityOptions configures StartVersity.
type VersityOptions struct {
	// Port is the loopback port to bind; 0 picks a free one.
	Port int
	// WebhookURL, when set, receives bucket notifications
	// (versitygw --event-webhook-url).
	WebhookURL string
	// DataDir holds the gateway's storage: buckets under DataDir/data and
	// object versions under DataDir/versions (versitygw refuses a versioning
	// directory inside its data directory). Empty means a temporary
	// directory, removed by Stop.
	DataDir string
	// AccessKey, SecretKey and Region default to DefaultS3AccessKey,
	// DefaultS3SecretKey and DefaultS3Region.
	AccessKey, SecretKey, Region string
	// Log receives versitygw's output; nil discards it (the last lines
	// still appear in start errors).
	Log io.Writer
}

// Versity is a running versitygw S3 gateway with the posix backend and
// versioning enabled. Clients must use path-style addressing and static
// credentials AccessKey/SecretKey.
type Versity struct {
	// Endpoint is the gateway's base URL, http://127.0.0.1:PORT.
	Endpoint string
	// AccessKey and SecretKey are the root user's credentials.
	AccessKey, SecretKey string
	// Region is the region the gateway signs and verifies for.
	Region string
	// Port is the loopback port it listens on.
	Port int
	// DataDir is the storage root (see VersityOptions.DataDir).
	DataDir string

	proc    *process
	tempDir bool
}

// StartVersity starts versitygw on 127.0.0.1 (installing it with go install
// when it is missing, see VersityPath) and returns once it answers HTTP. ctx
// bounds the start only; the gateway runs until Stop or until this process
// exits.
func StartVersity(ctx context.Context, opts VersityOptions) (*Versity, error) {
	path, err := VersityPath()
	if err != nil {
		return nil, err
	}
	v := &Versity{
		AccessKey: or(opts.AccessKey, DefaultS3AccessKey),
		SecretKey: or(opts.SecretKey, DefaultS3SecretKey),
		Region:    or(opts.Region, DefaultS3Region),
		DataDir:   opts.DataDir,
	}
	if v.DataDir == "" {
		if v.DataDir, err = os.MkdirTemp("", "versitygw-"); err != nil {
			return nil, fmt.Errorf("versitygw data directory: %w", err)
		}
		v.tempDir = true
	}
	dataDir, versionsDir := filepath.Join(v.DataDir, "data"), filepath.Join(v.DataDir, "versions")
	for _, dir := range []string{dataDir, versionsDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			v.removeTemp()
			return nil, fmt.Errorf("versitygw data directory: %w", err)
		}
	}

	// The gateway reads many settings from VGW_* and ROOT_* variables; a
	// stray one in the caller's environment must not change the engine.
	env := childEnv([]string{"VGW_", "ROOT_ACCESS_KEY", "ROOT_SECRET", "WEBHOOK=", "LOGFILE="},
		"ROOT_ACCESS_KEY="+v.AccessKey, "ROOT_SECRET_KEY="+v.SecretKey)
	proc, port, err := startEngine(ctx, opts.Port, func(port int) (*process, string, error) {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		args := []string{"--port", addr, "--region", v.Region, "--quiet"}
		if opts.WebhookURL != "" {
			args = append(args, "--event-webhook-url", opts.WebhookURL)
		}
		args = append(args, "posix", "--versioning-dir", versionsDir, dataDir)
		p, err := startProcess("versitygw", path, args, env, opts.Log)
		return p, "http://" + addr + "/", err
	})
	if err != nil {
		v.removeTemp()
		return nil, err
	}
	v.proc, v.Port, v.Endpoint = proc, port, fmt.Sprintf("http://127.0.0.1:%d", port)
	return v, nil
}

// Pid returns the process ID of versitygw, which leads its own process group.
func (v *Versity) Pid() int { return v.proc.pid() }

// Stop terminates versitygw (SIGTERM to its process group, SIGKILL after
// 3 s) and removes its data directory when StartVersity created it. It is
// idempotent and safe to call concurrently, e.g. from a signal handler.
func (v *Versity) Stop() error {
	if v == nil || v.proc == nil {
		return nil
	}
	err := v.proc.stop()
	if rmErr := v.removeTemp(); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	return err
}

func (v *Versity) removeTemp() error {
	if !v.tempDir {
		return nil
	}
	if err := os.RemoveAll(v.DataDir); err != nil {
		return fmt.Errorf("remove versitygw data directory: %w", err)
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
