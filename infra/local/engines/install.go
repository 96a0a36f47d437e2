package engines

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// VersityModule is the versitygw release the local cloud runs.
const VersityModule = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// installMu serialises installs, so parallel test packages in one process
// and concurrent callers do not install the same tool twice.
var installMu sync.Mutex

// VersityPath returns the path of the versitygw binary: from PATH, or from
// $(go env GOBIN) or $(go env GOPATH)/bin. When it is in none of them it runs
// `go install` of VersityModule (about two minutes) and returns the
// installed binary.
func VersityPath() (string, error) {
	installMu.Lock()
	defer installMu.Unlock()
	if p, err := findVersity(); err == nil {
		return p, nil
	}
	slog.Info("versitygw not found; installing it with go install (about 2 minutes)", "module", VersityModule)
	cmd := exec.Command("go", "install", VersityModule)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", VersityModule, err, out)
	}
	p, err := findVersity()
	if err != nil {
		return "", fmt.Errorf("versitygw installed but not found: %w", err)
	}
	return p, nil
}

func findVersity() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	for _, v := range []string{"GOBIN", "GOPATH"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			continue
		}
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			if d == "" {
				continue
			}
			if v == "GOPATH" {
				d = filepath.Join(d, "bin")
			}
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New("versitygw is not on PATH, in GOBIN or in GOPATH/bin")
}

// MotoPath returns the path of moto_server from PATH. When it is missing it
// runs `python3 -m pip install "moto[server]"` and looks again, on PATH and
// in Python's scripts directory.
func MotoPath() (string, error) {
	installMu.Lock()
	defer installMu.Unlock()
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	slog.Info(`moto_server not found; installing it with python3 -m pip install "moto[server]"`)
	if out, err := exec.Command("python3", "-m", "pip", "install", "moto[server]").CombinedOutput(); err != nil {
		return "", fmt.Errorf(`pip install "moto[server]": %w\n%s`, err, out)
	}
	// pyenv creates shims only on rehash; a fresh console script may be
	// reachable only through Python's own scripts directory.
	_ = exec.Command("pyenv", "rehash").Run()
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	out, err := exec.Command("python3", "-c", `import sysconfig; print(sysconfig.get_path("scripts"))`).Output()
	if err == nil {
		if p := filepath.Join(strings.TrimSpace(string(out)), "moto_server"); isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New("moto_server installed with pip but not found on PATH or in Python's scripts directory")
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
