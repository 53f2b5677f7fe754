package codec_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/golive/golive/internal/codec"
)

const canary = "patient Jane Roe, db password hunter2-CANARY"

func key(t *testing.T, id string) codec.Key {
	t.Helper()
	b := make([]byte, codec.KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return codec.Key{ID: id, Secret: b}
}

func newCodec(t *testing.T, keys ...codec.Key) *codec.Codec {
	t.Helper()
	c, err := codec.New(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func plainPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	c := newCodec(t, key(t, "2026-11"))
	in := []*commonpb.Payload{plainPayload(t, canary), plainPayload(t, map[string]int{"n": 1}), plainPayload(t, nil)}
	enc, err := c.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range enc {
		if string(p.Metadata["encoding"]) != codec.MetadataEncoding || string(p.Metadata[codec.MetadataKeyID]) != "2026-11" ||
			string(p.Metadata[codec.MetadataCipher]) != codec.CipherName {
			t.Errorf("payload %d metadata = %v", i, p.Metadata)
		}
		if bytes.Contains(p.Data, []byte("hunter2")) || bytes.Contains(p.Data, []byte("json/plain")) {
			t.Errorf("payload %d holds plaintext", i)
		}
	}
	// Fresh nonces: the same plaintext twice gives different ciphertexts.
	again, _ := c.Encode(in[:1])
	if bytes.Equal(again[0].Data, enc[0].Data) {
		t.Error("same ciphertext twice: nonce reused")
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if !proto.Equal(in[i], dec[i]) {
			t.Errorf("payload %d: got %v want %v", i, dec[i], in[i])
		}
	}
	// Payloads that were never encrypted pass through Decode.
	pass, err := c.Decode(in)
	if err != nil || !proto.Equal(pass[0], in[0]) {
		t.Fatalf("unencrypted payload: %v %v", pass, err)
	}
}

func TestRotation(t *testing.T) {
	old, cur := key(t, "2026-05"), key(t, "2026-11")
	before := newCodec(t, old)
	after := newCodec(t, cur, old) // newest first
	if after.ActiveKeyID() != "2026-11" || strings.Join(after.KeyIDs(), ",") != "2026-11,2026-05" {
		t.Fatalf("active %s, keys %v", after.ActiveKeyID(), after.KeyIDs())
	}
	p := plainPayload(t, canary)
	oldEnc, _ := before.Encode([]*commonpb.Payload{p})
	newEnc, _ := after.Encode([]*commonpb.Payload{p})
	if got := string(newEnc[0].Metadata[codec.MetadataKeyID]); got != "2026-11" {
		t.Fatalf("encoded with %s, want the newest key", got)
	}
	for name, enc := range map[string][]*commonpb.Payload{"old": oldEnc, "new": newEnc} {
		dec, err := after.Decode(enc)
		if err != nil || !proto.Equal(dec[0], p) {
			t.Fatalf("rotated codec decoding %s payload: %v", name, err)
		}
	}
	// A process that lacks the new key says which key it needs.
	_, err := before.Decode(newEnc)
	if !errors.Is(err, codec.ErrUnknownKey) || !strings.Contains(err.Error(), `"2026-11"`) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestTamperRefused(t *testing.T) {
	a, b := key(t, "a"), key(t, "b")
	c := newCodec(t, a, b)
	enc, _ := c.Encode([]*commonpb.Payload{plainPayload(t, canary)})
	flipped := proto.Clone(enc[0]).(*commonpb.Payload)
	flipped.Data[len(flipped.Data)-1] ^= 1
	if _, err := c.Decode([]*commonpb.Payload{flipped}); err == nil || !strings.Contains(err.Error(), "authentication") {
		t.Fatalf("tampered payload: %v", err)
	}
	relabelled := proto.Clone(enc[0]).(*commonpb.Payload)
	relabelled.Metadata[codec.MetadataKeyID] = []byte("b")
	if _, err := c.Decode([]*commonpb.Payload{relabelled}); err == nil {
		t.Fatal("payload relabelled with another known key ID decoded")
	}
	wrongSecret := newCodec(t, codec.Key{ID: "a", Secret: b.Secret})
	if _, err := wrongSecret.Decode(enc); err == nil {
		t.Fatal("decoded with the wrong key material")
	}
}

func TestNewValidates(t *testing.T) {
	k := key(t, "k")
	for name, keys := range map[string][]codec.Key{
		"none":      nil,
		"short":     {{ID: "k", Secret: k.Secret[:16]}},
		"duplicate": {k, k},
		"bad id":    {{ID: "k 1", Secret: k.Secret}},
	} {
		if _, err := codec.New(keys...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDataAndFailureConverter(t *testing.T) {
	c := newCodec(t, key(t, "k1"))
	dc := codec.NewDataConverter(c)
	p, err := dc.ToPayload(canary)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Data, []byte("hunter2")) {
		t.Fatal("data converter payload holds plaintext")
	}
	var back string
	if err := dc.FromPayload(p, &back); err != nil || back != canary {
		t.Fatalf("FromPayload = %q, %v", back, err)
	}

	fc := codec.NewFailureConverter(dc)
	f := fc.ErrorToFailure(temporal.NewApplicationError("connect: "+canary, "DBError", "detail "+canary))
	raw, _ := proto.Marshal(f)
	if bytes.Contains(raw, []byte("hunter2")) || bytes.Contains(raw, []byte("Jane Roe")) {
		t.Fatalf("failure holds plaintext: %v", f)
	}
	if f.GetEncodedAttributes() == nil {
		t.Fatal("failure has no encoded attributes")
	}
	err = fc.FailureToError(f)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !strings.Contains(app.Message(), canary) || app.Type() != "DBError" {
		t.Fatalf("FailureToError = %v", err)
	}
	var detail string
	if err := app.Details(&detail); err != nil || detail != "detail "+canary {
		t.Fatalf("details = %q, %v", detail, err)
	}
	// No codec: the default converter, unchanged.
	if codec.NewDataConverter(nil) != converter.GetDefaultDataConverter() {
		t.Fatal("NewDataConverter(nil) should be the default converter")
	}
}

func TestLoadKeys(t *testing.T) {
	k1, k2, k3 := key(t, "k1"), key(t, "k2"), key(t, "k3")
	t.Setenv("GOLIVE_TEST_KEY_1", base64.StdEncoding.EncodeToString(k1.Secret))
	file := filepath.Join(t.TempDir(), "k2.key")
	if err := os.WriteFile(file, []byte(base64.RawStdEncoding.EncodeToString(k2.Secret)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	resolved := ""
	resolve := func(ref string) (string, error) {
		resolved = ref
		return base64.StdEncoding.EncodeToString(k3.Secret), nil
	}
	keys, err := codec.LoadKeys(" 2026-11=env://GOLIVE_TEST_KEY_1, 2026-05=file://"+file+",2025-11=secret://aws/golive/codec#old", resolve)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || keys[0].ID != "2026-11" || !bytes.Equal(keys[0].Secret, k1.Secret) ||
		keys[1].ID != "2026-05" || !bytes.Equal(keys[1].Secret, k2.Secret) ||
		keys[2].ID != "2025-11" || !bytes.Equal(keys[2].Secret, k3.Secret) || resolved != "secret://aws/golive/codec#old" {
		t.Fatalf("keys = %+v", keys)
	}

	literal := base64.StdEncoding.EncodeToString(k1.Secret)
	t.Setenv("GOLIVE_TEST_SHORT", base64.StdEncoding.EncodeToString(k1.Secret[:20]))
	for name, list := range map[string]string{
		"literal key":  "k=" + literal,
		"bare literal": literal,
		"unset env":    "k=env://GOLIVE_TEST_NOT_SET",
		"short key":    "k=env://GOLIVE_TEST_SHORT",
		"missing file": "k=file:///nonexistent/golive.key",
		"other scheme": "k=vault://x",
		"empty":        " , ",
	} {
		_, err := codec.LoadKeys(list, nil)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), literal) || strings.Contains(err.Error(), literal[:20]) {
			t.Errorf("%s: error shows key material: %v", name, err)
		}
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(codec.KeysEnv, "")
	if c, err := codec.FromEnv(nil); c != nil || err != nil {
		t.Fatalf("unset: %v %v", c, err)
	}
	k := key(t, "k")
	t.Setenv("GOLIVE_TEST_KEY", base64.StdEncoding.EncodeToString(k.Secret))
	t.Setenv(codec.KeysEnv, "dev=env://GOLIVE_TEST_KEY")
	c, err := codec.FromEnv(nil)
	if err != nil || c.ActiveKeyID() != "dev" {
		t.Fatalf("FromEnv = %v, %v", c, err)
	}
	t.Setenv(codec.KeysEnv, "dev=env://GOLIVE_TEST_NOT_SET")
	if _, err := codec.FromEnv(nil); err == nil || !strings.Contains(err.Error(), codec.KeysEnv) {
		t.Fatalf("bad keys: %v", err)
	}
}
