package codec_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/golive/golive/internal/codec"
)

const (
	token  = "s3cret-codec-token-for-tests"
	uiOrig = "http://127.0.0.1:8233"
)

func codecServer(t *testing.T, c *codec.Codec, pathToken bool) *httptest.Server {
	t.Helper()
	h, err := codec.NewHTTPHandler(c, codec.HandlerOptions{Tokens: []string{"old-token", token}, AllowedOrigins: []string{uiOrig}, PathToken: pathToken})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func encryptedBody(t *testing.T, c *codec.Codec) []byte {
	t.Helper()
	enc, err := c.Encode([]*commonpb.Payload{plainPayload(t, canary)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(t *testing.T, url string, body []byte, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestCodecServerAuth(t *testing.T) {
	c := newCodec(t, key(t, "k1"))
	srv := codecServer(t, c, false)
	body := encryptedBody(t, c)

	res, _ := post(t, srv.URL+"/decode", body, nil)
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %v", res.StatusCode, res.Header)
	}
	res, _ = post(t, srv.URL+"/decode", body, map[string]string{"Authorization": "Basic dXNlcjpwYXNz"})
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("basic auth instead of a bearer token: %d", res.StatusCode)
	}
	res, out := post(t, srv.URL+"/decode", body, map[string]string{"Authorization": "Bearer wrong-token"})
	if res.StatusCode != http.StatusForbidden || strings.Contains(out, "hunter2") {
		t.Fatalf("wrong token: %d %s", res.StatusCode, out)
	}
	res, out = post(t, srv.URL+"/decode", body, map[string]string{"Authorization": "Bearer " + token, "X-Namespace": "default"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("right token: %d %s", res.StatusCode, out)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("decoded plaintext may be cached: %v", res.Header)
	}
	var got commonpb.Payloads
	if err := protojson.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Payloads) != 1 || !proto.Equal(got.Payloads[0], plainPayload(t, canary)) {
		t.Fatalf("decoded = %v", got.Payloads)
	}
	// The previous token still works during rotation.
	if res, _ := post(t, srv.URL+"/decode", body, map[string]string{"Authorization": "bearer old-token"}); res.StatusCode != http.StatusOK {
		t.Fatalf("second token: %d", res.StatusCode)
	}
	// Unknown paths and methods, once authenticated.
	if res, _ := post(t, srv.URL+"/other", body, map[string]string{"Authorization": "Bearer " + token}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown path: %d", res.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/decode", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %v %v", res, err)
	}
	// A payload under a key the server lacks: 400 naming the key, nothing else.
	other := newCodec(t, key(t, "k9"))
	res, out = post(t, srv.URL+"/decode", encryptedBody(t, other), map[string]string{"Authorization": "Bearer " + token})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(out, `"k9"`) {
		t.Fatalf("unknown key: %d %s", res.StatusCode, out)
	}
}

func TestCodecServerCORS(t *testing.T) {
	c := newCodec(t, key(t, "k1"))
	srv := codecServer(t, c, false)

	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace,authorization")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := pre(uiOrig)
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != uiOrig ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "X-Namespace") ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		res.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight from the UI: %d %v", res.StatusCode, res.Header)
	}
	if res := pre("http://evil.example"); res.StatusCode != http.StatusForbidden || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %d %v", res.StatusCode, res.Header)
	}
	// The actual request from the UI carries the CORS headers, also on refusals (so the UI can show why).
	res, _ = post(t, srv.URL+"/decode", encryptedBody(t, c), map[string]string{"Origin": uiOrig})
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Access-Control-Allow-Origin") != uiOrig {
		t.Fatalf("UI request without token: %d %v", res.StatusCode, res.Header)
	}
	res, _ = post(t, srv.URL+"/decode", encryptedBody(t, c), map[string]string{"Origin": uiOrig, "Authorization": "Bearer " + token})
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != uiOrig {
		t.Fatalf("UI request with token: %d %v", res.StatusCode, res.Header)
	}
	res, _ = post(t, srv.URL+"/decode", encryptedBody(t, c), map[string]string{"Origin": "http://evil.example", "Authorization": "Bearer " + token})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("token replayed from another origin: %d", res.StatusCode)
	}
}

func TestCodecServerPathToken(t *testing.T) {
	c := newCodec(t, key(t, "k1"))
	body := encryptedBody(t, c)
	off := codecServer(t, c, false)
	if res, _ := post(t, off.URL+"/"+token+"/decode", body, nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("path token while disabled: %d", res.StatusCode)
	}
	on := codecServer(t, c, true)
	if res, _ := post(t, on.URL+"/"+token+"/decode", body, map[string]string{"Origin": uiOrig}); res.StatusCode != http.StatusOK {
		t.Fatalf("path token: %d", res.StatusCode)
	}
	if res, _ := post(t, on.URL+"/wrong/decode", body, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong path token: %d", res.StatusCode)
	}
	if res, _ := post(t, on.URL+"/decode", body, nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d", res.StatusCode)
	}
}

// TestRemoteCodec drives the server with the SDK's own remote codec client (what
// `temporal --codec-endpoint --codec-auth` and envconfig's TEMPORAL_CODEC_* use).
func TestRemoteCodec(t *testing.T) {
	c := newCodec(t, key(t, "k1"))
	srv := codecServer(t, c, false)
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL,
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		},
	})
	p := plainPayload(t, canary)
	enc, err := remote.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	local, err := c.Decode(enc)
	if err != nil || !proto.Equal(local[0], p) {
		t.Fatalf("remote encode, local decode: %v", err)
	}
	dec, err := remote.Decode(enc)
	if err != nil || !proto.Equal(dec[0], p) {
		t.Fatalf("remote decode: %v", err)
	}
}

func TestNewHTTPHandlerValidates(t *testing.T) {
	c := newCodec(t, key(t, "k1"))
	if _, err := codec.NewHTTPHandler(c, codec.HandlerOptions{}); err == nil {
		t.Error("no token accepted")
	}
	if _, err := codec.NewHTTPHandler(c, codec.HandlerOptions{Tokens: []string{"t"}, AllowedOrigins: []string{"127.0.0.1:8233"}}); err == nil {
		t.Error("origin without scheme accepted")
	}
	if _, err := codec.NewHTTPHandler(nil, codec.HandlerOptions{Tokens: []string{"t"}}); err == nil {
		t.Error("nil codec accepted")
	}
}
