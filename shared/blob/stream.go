package blob

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// PartSize is the size of each part a StreamWriter uploads: S3 takes parts of 5 MiB to 5 GiB
// (the last may be smaller) and at most 10,000 of them, so 8 MiB parts carry objects up to
// 78 GiB while the writer holds one part in memory.
const PartSize = 8 << 20

// StreamWriter writes one object of unknown size as it is produced: every PartSize bytes go
// to S3 as a part of a multipart upload, so memory stays at one part whatever the object's
// size. An object smaller than one part is written with one PutObject at Close. Written by
// hand rather than with feature/s3/manager: its makers deprecated it, its uploader holds
// several parts in flight, and this is the three calls it would make.
type StreamWriter struct {
	ctx          context.Context
	s            *Store
	key, ctype   string
	buf          bytes.Buffer
	uploadID     string
	parts        []types.CompletedPart
	err          error
	PartsWritten int
}

// NewStreamWriter starts the object at key with contentType. Nothing is sent before the first
// PartSize bytes.
func (s *Store) NewStreamWriter(ctx context.Context, key, contentType string) *StreamWriter {
	return &StreamWriter{ctx: ctx, s: s, key: key, ctype: contentType}
}

// Write buffers p and uploads each full part.
func (w *StreamWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.buf.Write(p)
	for w.buf.Len() >= PartSize && w.err == nil {
		w.err = w.upload(w.buf.Next(PartSize))
	}
	return len(p), w.err
}

func (w *StreamWriter) upload(part []byte) error {
	if w.uploadID == "" {
		out, err := w.s.client.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{Bucket: &w.s.bucket, Key: &w.key, ContentType: &w.ctype})
		if err != nil {
			return fmt.Errorf("start upload of %s: %w", w.key, err)
		}
		w.uploadID = aws.ToString(out.UploadId)
	}
	n := int32(len(w.parts) + 1)
	out, err := w.s.client.UploadPart(w.ctx, &s3.UploadPartInput{Bucket: &w.s.bucket, Key: &w.key, UploadId: &w.uploadID,
		PartNumber: &n, Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part)))})
	if err != nil {
		return fmt.Errorf("upload part %d of %s: %w", n, w.key, err)
	}
	w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: &n})
	w.PartsWritten++
	return nil
}

// Close writes what is buffered and completes the object; it returns the version written (""
// where the engine reports none). After an error, call Abort.
func (w *StreamWriter) Close() (string, error) {
	if w.err != nil {
		return "", w.err
	}
	if w.uploadID == "" {
		return w.s.PutObject(w.ctx, w.key, w.ctype, w.buf.Bytes())
	}
	if w.buf.Len() > 0 {
		if err := w.upload(w.buf.Bytes()); err != nil {
			return "", err
		}
	}
	out, err := w.s.client.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{Bucket: &w.s.bucket, Key: &w.key,
		UploadId: &w.uploadID, MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts}})
	if err != nil {
		return "", fmt.Errorf("complete upload of %s: %w", w.key, err)
	}
	return aws.ToString(out.VersionId), nil
}

// Abort drops a started multipart upload (its parts are billed until then); the bucket's
// lifecycle rule removes what an aborted run could not.
func (w *StreamWriter) Abort() {
	if w.uploadID != "" {
		_, _ = w.s.client.AbortMultipartUpload(context.WithoutCancel(w.ctx), &s3.AbortMultipartUploadInput{Bucket: &w.s.bucket, Key: &w.key, UploadId: &w.uploadID})
	}
}
