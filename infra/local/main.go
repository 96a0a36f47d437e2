// Command local runs the platform on this machine with no AWS account (see infra/local/cloud).
//
//	go run ./infra/local            the platform on http://127.0.0.1:3000, with a seeded demo
//	go run ./infra/local token -role vendor -org demo-vendor [-account-type service_provider]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	_ "time/tzdata" // schedules run in Asia/Shanghai whatever the machine's zone database

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/template"
)

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if len(os.Args) > 1 && os.Args[1] == "token" {
		if err := token(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "token:", err)
			os.Exit(2)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:3000", "HTTP API address")
	sfnAddr := fs.String("sfn-addr", "127.0.0.1:8083", "Step Functions API address")
	dir := fs.String("dir", ".", "project root (template.yaml)")
	state := fs.String("state", ".local", "state directory (signing key, S3 data)")
	ddb := fs.String("dynamodb-endpoint", os.Getenv("FACEPAY_DYNAMODB_ENDPOINT"), "use this DynamoDB endpoint (e.g. DynamoDB Local) instead of starting moto_server")
	motoPort := fs.Int("moto-port", envInt("FACEPAY_MOTO_PORT"), "moto_server's port (DynamoDB, SQS); 0 picks a free one")
	s3Port := fs.Int("s3-port", envInt("FACEPAY_S3_PORT"), "versitygw's (S3) port; 0 picks a free one")
	seed := fs.Bool("seed", true, "seed the demo data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Ctrl-C at any moment (starting engines, seeding, serving) is a normal end: whatever
	// failed because of it is not an error, and everything started is stopped.
	interrupted := func(err error) error {
		if ctx.Err() != nil {
			fmt.Println("\nstopped")
			return nil
		}
		return err
	}
	// The S3 data lives with the state; DynamoDB (moto) is in memory, so each run starts afresh.
	_ = os.RemoveAll(*state + "/s3")
	c, err := cloud.Start(ctx, cloud.Options{Dir: *dir, Addr: *addr, SFNAddr: *sfnAddr, StateDir: *state, DynamoDBEndpoint: *ddb,
		MotoPort: *motoPort, S3Port: *s3Port})
	if err != nil {
		return interrupted(err)
	}
	defer c.Stop()
	if err := writeJSON(filepath.Join(*state, "sam-env.json"), c.SAMEnv()); err != nil {
		return err
	}
	if *seed {
		if err := printDemo(ctx, c); err != nil {
			c.Stop()
			return interrupted(err)
		}
	}
	fmt.Printf("\nFace-payment platform (local) on %s\n  Step Functions API %s\n  DynamoDB %s  S3 %s\n  virtual clock %s (POST %s/_local/clock/advance)\n  SAM CLI --env-vars %s\nCtrl-C stops everything.\n",
		c.URL, c.SFNURL, c.DynamoDBEndpoint, c.S3Endpoint, c.Clock.Now().Format(time.RFC3339), c.URL, filepath.Join(*state, "sam-env.json"))
	<-ctx.Done()
	c.Stop()
	return interrupted(nil)
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	role := fs.String("role", "vendor", "role claim")
	org := fs.String("org", "", "org claim")
	sub := fs.String("sub", "", "sub claim (default role-org)")
	acct := fs.String("account-type", "", "account_type claim (service_provider for device vendors)")
	dir := fs.String("dir", ".", "project root (template.yaml)")
	state := fs.String("state", ".local", "state directory holding the signing key")
	ttl := fs.Duration("ttl", 12*time.Hour, "validity")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t, err := template.Load(*dir+"/template.yaml", cloud.Stack)
	if err != nil {
		return err
	}
	if len(t.APIs) != 1 {
		return fmt.Errorf("template declares %d HTTP APIs", len(t.APIs))
	}
	a, err := cloud.NewAuthority(*state+"/jwt-signing-key.pem", t.APIs[0].Issuer, t.APIs[0].Audience[0])
	if err != nil {
		return err
	}
	if *sub == "" {
		*sub = *role
		if *org != "" {
			*sub += "-" + *org
		}
	}
	tok, err := a.Token(cloud.Identity{Subject: *sub, Org: *org, Role: *role, AccountType: *acct}, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

// envInt reads a port from the environment; unset or malformed is 0 (a free port).
func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

// writeJSON writes v to path, for the tools that read the running platform's settings.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}
