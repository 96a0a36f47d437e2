// Command rollup generates realistic transaction days and benchmarks the daily rollup's
// aggregation step.
//
//	go run ./infra/rollup gen -date 2026-11-27 -devices 100000 -rows 5000000 -objects 32 -out DIR
//	go run ./infra/rollup gen -date 2026-11-27 -bucket NAME            # to S3 (AWS_* settings)
//	go run ./infra/rollup bench -in DIR -out FILE
//
// gen writes DIR/transactions/dt=DATE/part-NNNNN.ndjson.gz, or the same keys to the bucket
// through the S3 API (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, and for the local
// S3 AWS_ENDPOINT_URL_S3 and S3_USE_PATH_STYLE=true).
//
// bench runs the code the Lambda runs (aggregation per object, partials, shard merges) over
// every *.ndjson.gz in DIR, writes the per-device figures as NDJSON to FILE and prints one JSON
// line with rows, devices, wall and CPU seconds; in the same run it times plain gzip
// decompression alone (compress/gzip: the floor) and klauspost/compress's (the step's own
// decompressor), in interleaved rounds (-rounds, medians reported), and DuckDB doing the same
// GROUP BY, checks that DuckDB's figures equal ours, and names the targets the run met.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/rollup"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "bench":
		err = bench(os.Args[2:], os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rollup:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: rollup gen|bench [flags] (see -h)")
	os.Exit(2)
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	cfg := rollup.GenConfig{}
	fs.StringVar(&cfg.Date, "date", "", "the day, YYYY-MM-DD (Asia/Shanghai)")
	fs.IntVar(&cfg.Devices, "devices", 1000, "devices")
	fs.Int64Var(&cfg.Rows, "rows", 100000, "transactions")
	fs.IntVar(&cfg.Objects, "objects", 8, "objects (time slices of the day)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed (same seed, same bytes)")
	fs.IntVar(&cfg.Workers, "workers", 2, "objects written in parallel")
	out := fs.String("out", "", "directory to write under (DIR/transactions/dt=DATE/)")
	bucket := fs.String("bucket", "", "S3 bucket to write to instead (AWS_* settings from the environment)")
	_ = fs.Parse(args)
	if cfg.Date == "" || (*out == "") == (*bucket == "") {
		return fmt.Errorf("gen needs -date and one of -out or -bucket")
	}
	prefix := rollup.DayPrefix(cfg.Date)
	var open func(string) (io.WriteCloser, error)
	if *out != "" {
		dir := filepath.Join(*out, filepath.FromSlash(prefix))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		open = func(name string) (io.WriteCloser, error) { return os.Create(filepath.Join(dir, name)) }
	} else {
		s, err := awsx.LoadSettings(os.Getenv)
		if err != nil {
			return err
		}
		client := blob.NewClient(s)
		open = func(name string) (io.WriteCloser, error) {
			return &s3Object{client: client, bucket: *bucket, key: prefix + name}, nil
		}
	}
	if err := rollup.Generate(cfg, open); err != nil {
		return err
	}
	where := *out
	if where == "" {
		where = "s3://" + *bucket
	}
	fmt.Printf("wrote %d transactions over %d devices in %d objects under %s/%s\n", cfg.Rows, cfg.Devices, cfg.Objects, where, prefix)
	return nil
}

// s3Object buffers one generated object and puts it on Close.
type s3Object struct {
	bytes.Buffer
	client      *s3.Client
	bucket, key string
}

func (o *s3Object) Close() error {
	_, err := o.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key),
		Body: bytes.NewReader(o.Bytes()), ContentType: aws.String("application/x-ndjson")})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", o.bucket, o.key, err)
	}
	return nil
}
