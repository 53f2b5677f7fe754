package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/golive/golive/internal/codec"
)

// syncBuffer is a bytes.Buffer safe for the command's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// setCodecKeys configures one fresh codec key in the environment and returns the codec.
func setCodecKeys(t *testing.T) *codec.Codec {
	t.Helper()
	secret := make([]byte, codec.KeySize)
	_, _ = rand.Read(secret)
	t.Setenv("GOLIVE_TEST_CODEC_KEY", base64.StdEncoding.EncodeToString(secret))
	t.Setenv(codec.KeysEnv, "test-1=env://GOLIVE_TEST_CODEC_KEY")
	c, err := codec.New(codec.Key{ID: "test-1", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCodecServerCommand runs `golive codec-server` and decodes through it.
func TestCodecServerCommand(t *testing.T) {
	c := setCodecKeys(t)
	const token = "0123456789abcdef0123456789abcdef"
	t.Setenv("GOLIVE_TEST_CODEC_TOKEN", token)

	cmd := newCodecServerCmd(&globals{})
	out := &syncBuffer{}
	cmd.SetOut(out)
	cmd.SetErr(out)
	cmd.SetArgs([]string{"--listen", "127.0.0.1:0", "--token-env", "GOLIVE_TEST_CODEC_TOKEN", "--cors-origin", "http://127.0.0.1:8233"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("codec-server returned %v", err)
		}
	})

	addr := regexp.MustCompile(`codec server on (http://[0-9.:]+)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := addr.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no address printed: %q", out.String())
	}

	p, _ := converter.GetDefaultDataConverter().ToPayload("patient Jane Roe")
	enc, _ := c.Encode([]*commonpb.Payload{p})
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	try := func(auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/decode", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := try(""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code, _ := try("Bearer not-the-token"); code != http.StatusForbidden {
		t.Errorf("wrong token: %d", code)
	}
	code, res := try("Bearer " + token)
	if code != http.StatusOK {
		t.Fatalf("right token: %d %s", code, res)
	}
	var got commonpb.Payloads
	if err := protojson.Unmarshal([]byte(res), &got); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(got.Payloads[0], &s); err != nil || s != "patient Jane Roe" {
		t.Fatalf("decoded %q, %v", s, err)
	}
}

func TestCodecServerCommandRefusesToStartUnsafely(t *testing.T) {
	run := func(args ...string) error {
		cmd := newCodecServerCmd(&globals{})
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		cmd.SetArgs(append([]string{"--listen", "127.0.0.1:0"}, args...))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return cmd.ExecuteContext(ctx)
	}
	t.Setenv(codec.KeysEnv, "")
	t.Setenv("GOLIVE_TEST_CODEC_TOKEN", "0123456789abcdef0123456789abcdef")
	if err := run("--token-env", "GOLIVE_TEST_CODEC_TOKEN"); err == nil || !strings.Contains(err.Error(), codec.KeysEnv) {
		t.Errorf("without keys: %v", err)
	}
	setCodecKeys(t)
	t.Setenv("GOLIVE_TEST_NO_TOKEN", "")
	if err := run("--token-env", "GOLIVE_TEST_NO_TOKEN"); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("without a token: %v", err)
	}
	t.Setenv("GOLIVE_TEST_SHORT_TOKEN", "short")
	if err := run("--token-env", "GOLIVE_TEST_SHORT_TOKEN"); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("short token: %v", err)
	}
	if err := run("--token-env", "GOLIVE_TEST_CODEC_TOKEN", "--tls-cert", "x.pem"); err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Errorf("cert without key: %v", err)
	}
}
