// Package blob is the platform's S3 access: object keys, presigned uploads and downloads,
// and reading what arrived. Files never pass through Lambda.
package blob

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
)

// Store is the artifacts bucket.
type Store struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
}

// NewClient is a function's S3 client, built from its settings (endpoint override:
// AWS_ENDPOINT_URL_S3; path-style addressing: S3_USE_PATH_STYLE).
func NewClient(s awsx.Settings) *s3.Client {
	return s3.NewFromConfig(s.Config(s.S3URL), func(o *s3.Options) { o.UsePathStyle = s.S3PathStyle })
}

// New returns the store for bucket.
func New(client *s3.Client, bucket string) *Store {
	return &Store{client: client, presign: s3.NewPresignClient(client), bucket: bucket}
}

// Upload is a presigned PUT: the caller sends exactly these headers and a body whose SHA-256 is
// the one declared. The signature covers key, content type and checksum, so the engine refuses
// another body (a different size or content), another type, or a missing header.
type Upload struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// UploadTTL is how long an upload URL stays valid.
const UploadTTL = 15 * time.Minute

// DownloadTTL is how long a download link stays valid.
const DownloadTTL = 5 * time.Minute

// PresignUpload returns the upload of key. sha256Hex is the checksum the client declared.
// It returns Invalid ("invalid_sha256") for a checksum that is not 64 hex digits.
func (s *Store) PresignUpload(ctx context.Context, key, contentType, sha256Hex string, now time.Time) (Upload, error) {
	sum, err := hex.DecodeString(sha256Hex)
	if err != nil || len(sum) != 32 {
		return Upload{}, domain.Errorf(domain.Invalid, "invalid_sha256", "sha256 must be the file's SHA-256 as 64 hex digits")
	}
	b64 := base64.StdEncoding.EncodeToString(sum)
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:         &s.bucket,
		Key:            &key,
		ContentType:    &contentType,
		ChecksumSHA256: &b64,
	}, s3.WithPresignExpires(UploadTTL))
	if err != nil {
		return Upload{}, fmt.Errorf("presign upload %s: %w", key, err)
	}
	return Upload{
		URL:    req.URL,
		Method: req.Method,
		Headers: map[string]string{
			"Content-Type":          contentType,
			"x-amz-checksum-sha256": b64,
		},
		ExpiresAt: now.Add(UploadTTL).UTC(),
	}, nil
}

// Download is a short-lived link to one version of an object.
type Download struct {
	URL       string    `json:"url"`
	FileName  string    `json:"fileName"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// PresignDownload returns a GET link for key at versionID ("" for the latest) that makes
// browsers save the file under fileName.
func (s *Store) PresignDownload(ctx context.Context, key, versionID, fileName string, now time.Time) (Download, error) {
	in := &s3.GetObjectInput{
		Bucket:                     &s.bucket,
		Key:                        &key,
		ResponseContentDisposition: aws.String(ContentDisposition(fileName)),
	}
	if versionID != "" {
		in.VersionId = &versionID
	}
	req, err := s.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(DownloadTTL))
	if err != nil {
		return Download{}, fmt.Errorf("presign download %s: %w", key, err)
	}
	return Download{URL: req.URL, FileName: fileName, ExpiresAt: now.Add(DownloadTTL).UTC()}, nil
}

// ContentDisposition is an attachment disposition keeping fileName, including non-ASCII names
// (RFC 6266 filename* with an ASCII fallback).
func ContentDisposition(fileName string) string {
	fallback := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, fileName)
	return mime.FormatMediaType("attachment", map[string]string{"filename": fallback}) +
		"; filename*=UTF-8''" + url.PathEscape(fileName)
}

// Object is what arrived at a key.
type Object struct {
	Key         string
	VersionID   string
	Size        int64
	ContentType string
	Body        io.ReadCloser
}

// Open reads key at versionID ("" for the latest). It returns NotFound ("object_not_found").
func (s *Store) Open(ctx context.Context, key, versionID string) (*Object, error) {
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	if versionID != "" {
		in.VersionId = &versionID
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if isNotFound(err) {
			return nil, domain.Errorf(domain.NotFound, "object_not_found", "object %s does not exist", key)
		}
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return &Object{Key: key, VersionID: aws.ToString(out.VersionId), Size: aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType), Body: out.Body}, nil
}

// Head returns the current version of key and its size; ok is false when there is none. The
// caller needs s3:ListBucket on the bucket: without it S3 answers 403 for a missing key.
func (s *Store) Head(ctx context.Context, key string) (versionID string, size int64, ok bool, err error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		if isNotFound(err) {
			return "", 0, false, nil
		}
		return "", 0, false, fmt.Errorf("head %s: %w", key, err)
	}
	return aws.ToString(out.VersionId), aws.ToInt64(out.ContentLength), true, nil
}

// Quarantine copies key's version to quarantine/<key> and deletes that version from its
// original place, so a refused file can be examined but never reaches a submission.
func (s *Store) Quarantine(ctx context.Context, key, versionID string) error {
	src := s.bucket + "/" + url.PathEscape(key)
	if versionID != "" {
		src += "?versionId=" + url.QueryEscape(versionID)
	}
	if _, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: &s.bucket, Key: aws.String("quarantine/" + key), CopySource: &src,
	}); err != nil && !isNotFound(err) {
		return fmt.Errorf("quarantine %s: %w", key, err)
	}
	in := &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}
	if versionID != "" {
		in.VersionId = &versionID
	}
	if _, err := s.client.DeleteObject(ctx, in); err != nil && !isNotFound(err) {
		return fmt.Errorf("remove quarantined %s: %w", key, err)
	}
	return nil
}

func isNotFound(err error) bool {
	var code interface{ ErrorCode() string }
	if errors.As(err, &code) {
		switch code.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchVersion":
			return true
		}
	}
	return false
}

// PutObject writes body at key (the bucket is versioned: an earlier object at key stays as an
// older version) and returns the version written ("" where the engine reports none).
func (s *Store) PutObject(ctx context.Context, key, contentType string, body []byte) (string, error) {
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key,
		ContentType: &contentType, Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
	if err != nil {
		return "", fmt.Errorf("put %s: %w", key, err)
	}
	return aws.ToString(out.VersionId), nil
}

// ReadObject returns the whole object at key and versionID ("" for the latest). It returns
// NotFound ("object_not_found"). For objects the platform wrote itself, of bounded size.
func (s *Store) ReadObject(ctx context.Context, key, versionID string) ([]byte, error) {
	o, err := s.Open(ctx, key, versionID)
	if err != nil {
		return nil, err
	}
	defer o.Body.Close()
	b, err := io.ReadAll(o.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return b, nil
}

// Put writes body (size bytes) at key with contentType: what the platform itself writes
// (an import's per-row results). The bucket is versioned, so a rewrite keeps the earlier version.
func (s *Store) Put(ctx context.Context, key, contentType string, body io.Reader, size int64) error {
	if _, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, ContentType: &contentType,
		Body: body, ContentLength: &size}); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}
