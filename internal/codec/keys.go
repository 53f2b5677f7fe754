package codec

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"
)

// KeysEnv is the environment variable listing the codec's keys as references,
// newest first: "ID=REF[,ID=REF...]", e.g.
//
//	GOLIVE_CODEC_KEYS=2026-11=env://GOLIVE_KEY_2026_11,2026-05=file:///etc/golive/codec-2026-05.key
//
// Each referenced value is the base64 encoding of 32 random bytes
// (`openssl rand -base64 32`). The key values themselves never appear in
// flags, specs or payloads.
const KeysEnv = "GOLIVE_CODEC_KEYS"

// Resolver returns the value a reference points to. LoadKeys handles env://
// and file:// itself and calls the resolver for any other scheme (for example
// secret://aws/NAME#KEY through the secrets package).
type Resolver func(ref string) (string, error)

// LoadKeys parses a key list in KeysEnv syntax and loads every key. resolve may
// be nil (then only env:// and file:// references work). Errors name key IDs and
// references, never key material.
func LoadKeys(list string, resolve Resolver) ([]Key, error) {
	var keys []Key
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, ref, ok := strings.Cut(item, "=")
		id, ref = strings.TrimSpace(id), strings.TrimSpace(ref)
		if !ok || id == "" || ref == "" {
			return nil, fmt.Errorf("codec keys: %q: want ID=REF (e.g. 2026-11=env://GOLIVE_KEY_2026_11)", redact(item))
		}
		value, err := resolveRef(ref, resolve)
		if err != nil {
			return nil, fmt.Errorf("codec key %q: %w", id, err)
		}
		secret, err := decodeSecret(value)
		if err != nil {
			return nil, fmt.Errorf("codec key %q (%s): %w", id, ref, err)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("codec keys: none given")
	}
	return keys, nil
}

// FromEnv builds the codec from KeysEnv. It returns (nil, nil) when KeysEnv is
// unset or empty: encryption is off, and NewDataConverter(nil) gives the default
// converter.
func FromEnv(resolve Resolver) (*Codec, error) {
	list := strings.TrimSpace(os.Getenv(KeysEnv))
	if list == "" {
		return nil, nil
	}
	keys, err := LoadKeys(list, resolve)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeysEnv, err)
	}
	return New(keys...)
}

func resolveRef(ref string, resolve Resolver) (string, error) {
	switch {
	case strings.HasPrefix(ref, "env://"):
		name := strings.TrimPrefix(ref, "env://")
		v, ok := os.LookupEnv(name)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("%s: environment variable %s is not set", ref, name)
		}
		return v, nil
	case strings.HasPrefix(ref, "file://"):
		path := strings.TrimPrefix(ref, "file://")
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", ref, err)
		}
		return string(b), nil
	case strings.Contains(ref, "://") && resolve != nil:
		return resolve(ref)
	case strings.Contains(ref, "://"):
		return "", fmt.Errorf("%s: unsupported reference (use env://NAME or file://PATH)", ref)
	}
	return "", fmt.Errorf("give a reference (env://NAME or file://PATH), not the key itself")
}

// decodeSecret reads base64 (padded or not) of exactly KeySize bytes.
func decodeSecret(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(v)
	}
	if err != nil {
		return nil, fmt.Errorf("not base64 (generate one with `openssl rand -base64 32`)")
	}
	if len(b) != KeySize {
		return nil, fmt.Errorf("%d bytes after base64 decoding; AES-256 needs %d", len(b), KeySize)
	}
	return b, nil
}

// redact keeps an unparsable key-list item out of error messages when it may be a key.
func redact(item string) string {
	if strings.Contains(item, "://") {
		return item
	}
	return "<" + fmt.Sprint(len(item)) + " characters>"
}
