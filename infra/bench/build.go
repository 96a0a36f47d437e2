package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildAll builds the main packages pkgs (relative to dir, e.g. "./create-request")
// for linux/arch the way `sam build` does for provided.al2023, into
// outDir/<arch>/<package folder>. One go build per architecture shares the
// loading and compiling of common dependencies; the Go build cache (shared by
// every build) does the rest.
func buildAll(dir string, pkgs []string, arch, outDir string) (map[string]string, error) {
	dst := filepath.Join(outDir, arch)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dst + string(filepath.Separator)}
	args = append(args, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build (%s) in %s: %w\n%s", arch, dir, err, stderr.String())
	}
	bins := map[string]string{}
	for _, p := range pkgs {
		name := filepath.Base(filepath.Join(dir, p)) // go build names binaries after their folder
		bin := filepath.Join(dst, name)
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("go build (%s): no binary for %s: %w", arch, p, err)
		}
		// Lambda runs the binary as "bootstrap"; keep the name for the per-function copy.
		boot := filepath.Join(dst, name+".d", "bootstrap")
		if err := os.MkdirAll(filepath.Dir(boot), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(bin, boot); err != nil {
			return nil, err
		}
		bins[name] = boot
	}
	return bins, nil
}

// functionFolders lists the folders of dir that hold a main.go.
func functionFolders(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "main.go")); err == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// packageDir returns the directory of an import path, as seen from the
// current directory's module.
func packageDir(importPath string) (string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", importPath).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("go list %s: %w\n%s", importPath, err, ee.Stderr)
		}
		return "", fmt.Errorf("go list %s: %w", importPath, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// fileSize returns the size of path in bytes.
func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
