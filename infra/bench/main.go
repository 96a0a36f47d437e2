// Command bench measures what `make bench` reports about every Lambda
// function in functions/: the size of its arm64 binary (what template.yaml
// deploys) and its cold start, measured on an amd64 build because this
// machine cannot run arm64.
//
// Each function is built as AWS would (CGO_ENABLED=0, -tags lambda.norpc,
// -trimpath, -ldflags="-s -w"), started with the environment template.yaml
// gives it (intrinsics replaced by local values, infra/env.local.json on top
// when present) and AWS_LAMBDA_RUNTIME_API pointing at a stub; init time is
// from exec until its first GET /runtime/invocation/next. A hello-world
// aws-lambda-go function built and measured the same way is the baseline:
// a function should stay within about twice its init time.
//
//	go run ./infra/bench [-functions functions] [-template template.yaml] [-runs 21] [-out bench.md]
//
// It exits non-zero when a function does not build or does not reach its
// first poll within 5 s, printing the function's stderr.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// baselinePkg is the hello-world function the others are compared with.
const baselinePkg = "github.com/facepay/platform/infra/bench/baseline"

// baselineName is the baseline's row label.
const baselineName = "baseline: aws-lambda-go hello world"

// pollTimeout is how long a function may take to reach its first poll.
const pollTimeout = 5 * time.Second

func main() {
	functionsDir := flag.String("functions", "functions", "`dir`ectory with one folder per function")
	templatePath := flag.String("template", "", "SAM `template` (default: template.yaml next to the functions directory)")
	envPath := flag.String("env-vars", "", "sam local --env-vars `file` applied on top of the template (default: infra/env.local.json next to the template, if present)")
	runs := flag.Int("runs", 21, "measured starts per function")
	outPath := flag.String("out", "", "also write the Markdown table to `file`")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))

	if err := run(*functionsDir, *templatePath, *envPath, *runs, *outPath, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// row is one line of the report.
type row struct {
	name               string
	arm64, amd64       int64
	init               stats
	err                error
	samples            []time.Duration
	amd64Bin           string
	env                []string
	warnNoTemplateVars bool
}

func run(functionsDir, templatePath, envPath string, runs int, outPath string, stdout io.Writer) error {
	if runs < 1 {
		return fmt.Errorf("-runs must be at least 1")
	}
	if templatePath == "" {
		templatePath = filepath.Join(filepath.Dir(filepath.Clean(functionsDir)), "template.yaml")
	}
	if envPath == "" {
		envPath = filepath.Join(filepath.Dir(templatePath), "infra", "env.local.json")
	}
	folders, err := functionFolders(functionsDir)
	if err != nil {
		return fmt.Errorf("list functions: %w", err)
	}
	if len(folders) == 0 {
		return fmt.Errorf("no function folders with a main.go in %s", functionsDir)
	}
	fnEnv := map[string]functionEnv{}
	if data, err := os.ReadFile(templatePath); err == nil {
		if fnEnv, err = templateEnv(data); err != nil {
			return err
		}
	} else {
		slog.Warn("no template; functions get only the AWS variables", "template", templatePath, "err", err)
	}
	overrides, err := envFile(envPath)
	if err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "facepay-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	start := time.Now()
	pkgs := make([]string, len(folders))
	for i, f := range folders {
		pkgs[i] = "./" + f
	}
	baseDir, err := packageDir(baselinePkg)
	if err != nil {
		return fmt.Errorf("find the baseline function (run from the repository root): %w", err)
	}
	bins := map[string]map[string]string{} // arch → name → binary
	for _, arch := range []string{"arm64", "amd64"} {
		slog.Info("building", "arch", arch, "functions", len(folders))
		b, err := buildAll(functionsDir, pkgs, arch, filepath.Join(tmp, "functions"))
		if err != nil {
			return err
		}
		base, err := buildAll(baseDir, []string{"."}, arch, filepath.Join(tmp, "baseline"))
		if err != nil {
			return err
		}
		b[baselineName] = base[filepath.Base(baseDir)]
		bins[arch] = b
	}
	slog.Info("built", "elapsed", time.Since(start).Round(time.Millisecond))

	rows := []*row{{name: baselineName, env: baseEnv(nil)}}
	for _, f := range folders {
		r := &row{name: f}
		fe, ok := fnEnv[f]
		if !ok {
			r.warnNoTemplateVars = true
			slog.Warn("function has no AWS::Serverless::Function with this CodeUri in the template", "function", f)
		}
		vars := fe.Vars
		if o := overrides["Parameters"]; o != nil {
			vars = merge(vars, o)
		}
		if o := overrides[fe.LogicalID]; o != nil && fe.LogicalID != "" {
			vars = merge(vars, o)
		}
		r.env = baseEnv(vars)
		rows = append(rows, r)
	}
	for _, r := range rows {
		r.amd64Bin = bins["amd64"][r.name]
		if r.arm64, err = fileSize(bins["arm64"][r.name]); err != nil {
			return err
		}
		if r.amd64, err = fileSize(r.amd64Bin); err != nil {
			return err
		}
	}

	api, err := newRuntimeAPI()
	if err != nil {
		return err
	}
	defer api.Close()
	slog.Info("measuring init", "runs", runs, "functions", len(rows))
	// One unmeasured start each warms the page cache; then the functions
	// take turns so that machine noise spreads over all of them alike.
	for i := -1; i < runs; i++ {
		for _, r := range rows {
			if r.err != nil {
				continue
			}
			d, err := api.initTime(r.amd64Bin, r.env, pollTimeout)
			if err != nil {
				r.err = err
				continue
			}
			if i >= 0 {
				r.samples = append(r.samples, d)
			}
		}
	}
	var failed []string
	for _, r := range rows {
		if r.err != nil {
			failed = append(failed, r.name)
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", r.name, r.err)
			continue
		}
		if r.init, err = summarise(r.samples); err != nil {
			return err
		}
	}

	report := markdown(rows, runs, machine())
	fmt.Fprint(stdout, report)
	if outPath != "" {
		if err := os.WriteFile(outPath, []byte(report), 0o644); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d function(s) did not reach their first poll: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// baseEnv is the environment of a function process: a minimal system
// environment, dummy AWS identity and region, and vars.
func baseEnv(vars map[string]string) []string {
	env := []string{
		"PATH=/usr/bin:/bin",
		"TZ=UTC",
		"AWS_REGION=" + dummyRegion,
		"AWS_DEFAULT_REGION=" + dummyRegion,
		"AWS_ACCESS_KEY_ID=AKIDLOCALBENCH",
		"AWS_SECRET_ACCESS_KEY=local-bench-secret",
		"AWS_SESSION_TOKEN=local-bench-token",
		"AWS_LAMBDA_FUNCTION_NAME=bench",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_EC2_METADATA_DISABLED=true",
		"LAMBDA_TASK_ROOT=/var/task",
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	return env
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// machine describes where the numbers were taken.
func machine() string {
	cpu := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	goVersion := runtime.Version()
	if out, err := exec.Command("go", "version").Output(); err == nil {
		goVersion = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	return fmt.Sprintf("%s, %d cores, %s", cpu, runtime.NumCPU(), goVersion)
}

// markdown renders the report.
func markdown(rows []*row, runs int, machine string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Cold start, %s UTC. Machine: %s.\n", time.Now().UTC().Format("2006-01-02 15:04"), machine)
	fmt.Fprintf(&b, "Init = exec until the first Runtime API poll, amd64 build, %d runs after one warm-up; p90 by nearest rank. MB = 10^6 bytes.\n\n", runs)
	b.WriteString("| function | arm64 size (MB) | amd64 size (MB) | init median (ms) | init p90 (ms) | median vs baseline |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	base := rows[0].init.Median
	for _, r := range rows {
		name := r.name
		if r.warnNoTemplateVars {
			name += " (not in template)"
		}
		if r.err != nil {
			fmt.Fprintf(&b, "| %s | %.1f | %.1f | failed | failed | |\n", name, mb(r.arm64), mb(r.amd64))
			continue
		}
		ratio := ""
		if base > 0 {
			ratio = fmt.Sprintf("%.1f×", float64(r.init.Median)/float64(base))
		}
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %.1f | %s |\n",
			name, mb(r.arm64), mb(r.amd64), ms(r.init.Median), ms(r.init.P90), ratio)
	}
	return b.String()
}

func mb(n int64) float64         { return float64(n) / 1e6 }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
