package awsfake

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// cacheControlMeta is where the fake keeps an object's Cache-Control (gofakes3 keeps only X-Amz-* headers).
const cacheControlMeta = "X-Amz-Meta-Awsfake-Cache-Control"

// S3 fakes Amazon S3 with gofakes3 (path-style addressing). In front of it,
// the aws-chunked body the SDK sends over TLS with a trailing checksum
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER) is decoded and its CRC32 checked, and
// Cache-Control is kept with the object.
type S3 struct {
	backend *s3mem.Backend
	handler http.Handler
}

func newS3() *S3 {
	b := s3mem.New()
	return &S3{backend: b, handler: gofakes3.New(b, gofakes3.WithTimeSkewLimit(0)).Server()}
}

// CreateBucket makes an empty bucket.
func (s *S3) CreateBucket(name string) error { return s.backend.CreateBucket(name) }

// Object is one stored object.
type Object struct {
	Body         []byte
	ContentType  string
	CacheControl string
}

// Get returns the object at bucket/key.
func (s *S3) Get(bucket, key string) (Object, bool) {
	o, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		return Object{}, false
	}
	defer o.Contents.Close()
	body, _ := io.ReadAll(o.Contents)
	return Object{Body: body, ContentType: o.Metadata["Content-Type"], CacheControl: o.Metadata[cacheControlMeta]}, true
}

// Keys lists the keys under prefix.
func (s *S3) Keys(bucket, prefix string) []string {
	list, err := s.backend.ListBucket(bucket, &gofakes3.Prefix{Prefix: prefix, HasPrefix: true}, gofakes3.ListBucketPage{})
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range list.Contents {
		out = append(out, c.Key)
	}
	return out
}

func (s *S3) operation(r *http.Request, _ []byte) string {
	q := r.URL.Query()
	path := strings.Trim(r.URL.Path, "/")
	objectLevel := strings.Contains(path, "/")
	switch {
	case r.Method == http.MethodGet && !objectLevel && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case r.Method == http.MethodGet && !objectLevel:
		return "ListObjects"
	case r.Method == http.MethodPut && objectLevel:
		return "PutObject"
	case r.Method == http.MethodGet:
		return "GetObject"
	case r.Method == http.MethodHead && objectLevel:
		return "HeadObject"
	case r.Method == http.MethodHead:
		return "HeadBucket"
	case r.Method == http.MethodDelete:
		return "DeleteObject"
	}
	return r.Method
}

func (s *S3) writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fake</RequestId></Error>`, xmlEscape(code), xmlEscape(msg))
}

func (s *S3) serve(w http.ResponseWriter, r *http.Request, op string, _ []byte) {
	if op == "PutObject" {
		if cc := r.Header.Get("Cache-Control"); cc != "" {
			r.Header.Set(cacheControlMeta, cc)
		}
		if r.Header.Get("X-Amz-Content-Sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER" {
			if err := decodeAWSChunked(r); err != nil {
				s.writeError(w, 400, "InvalidRequest", err.Error())
				return
			}
		}
	}
	s.handler.ServeHTTP(w, r)
}

// decodeAWSChunked replaces an aws-chunked body with trailing checksum by the
// plain payload, after checking a CRC32 / CRC32C trailer.
func decodeAWSChunked(r *http.Request) error {
	br := bufio.NewReader(r.Body)
	var payload bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("aws-chunked: chunk header: %w", err)
		}
		sizeHex, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		size, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil {
			return fmt.Errorf("aws-chunked: chunk size %q", line)
		}
		if size == 0 {
			break
		}
		if _, err := io.CopyN(&payload, br, size); err != nil {
			return fmt.Errorf("aws-chunked: chunk: %w", err)
		}
		if _, err := br.Discard(2); err != nil {
			return fmt.Errorf("aws-chunked: chunk end: %w", err)
		}
	}
	trailers := map[string]string{}
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimSpace(line)
		if line == "" || err != nil {
			break
		}
		k, v, _ := strings.Cut(line, ":")
		trailers[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	for name, tab := range map[string]*crc32.Table{"x-amz-checksum-crc32": crc32.IEEETable, "x-amz-checksum-crc32c": crc32.MakeTable(crc32.Castagnoli)} {
		want, ok := trailers[name]
		if !ok {
			continue
		}
		var h hash.Hash32 = crc32.New(tab)
		h.Write(payload.Bytes())
		var sum [4]byte
		binary.BigEndian.PutUint32(sum[:], h.Sum32())
		if got := base64.StdEncoding.EncodeToString(sum[:]); got != want {
			return fmt.Errorf("aws-chunked: %s mismatch", name)
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(payload.Bytes()))
	r.ContentLength = int64(payload.Len())
	r.Header.Set("Content-Length", strconv.Itoa(payload.Len()))
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	r.Header.Del("X-Amz-Decoded-Content-Length")
	r.Header.Del("X-Amz-Trailer")
	var enc []string
	for _, e := range strings.Split(r.Header.Get("Content-Encoding"), ",") {
		if e = strings.TrimSpace(e); e != "" && e != "aws-chunked" {
			enc = append(enc, e)
		}
	}
	if len(enc) == 0 {
		r.Header.Del("Content-Encoding")
	} else {
		r.Header.Set("Content-Encoding", strings.Join(enc, ","))
	}
	return nil
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
