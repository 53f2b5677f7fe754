// Package codec encrypts every payload golive puts in Temporal (workflow and
// activity inputs and results, signals, updates, queries, memos, failure
// messages) with AES-256-GCM, so the Temporal server, its database and anyone
// reading history without the key see ciphertext only.
//
// Several keys may be configured for rotation: the first (newest) encrypts, any
// of them decrypts. Each encrypted payload names its key in its metadata
// (MetadataKeyID), so a history written under an old key stays readable as long
// as that key stays configured.
//
// Workers, clients, replay tests and `golive codec-server` (which decrypts for
// the Temporal UI) must all use the same keys: NewDataConverter and
// NewFailureConverter build the converters to put in client.Options.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Payload metadata written on every encrypted payload.
const (
	// MetadataEncoding is the payload's "encoding" once encrypted.
	MetadataEncoding = "binary/encrypted"
	// MetadataKeyID is the metadata key naming the key that encrypted the payload.
	MetadataKeyID = "encryption-key-id"
	// MetadataCipher is the metadata key naming the cipher, always CipherName.
	MetadataCipher = "encryption-cipher"
	// CipherName is the cipher golive uses.
	CipherName = "AES-256-GCM"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// aadPrefix binds the key ID into the authenticated data, so a payload cannot be
// relabelled with another key's ID.
const aadPrefix = "golive-codec-v1:"

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ErrUnknownKey means a payload was encrypted with a key this codec does not have.
var ErrUnknownKey = errors.New("payload encrypted with an unknown key")

// Key is one AES-256 key and its ID.
type Key struct {
	// ID names the key in payload metadata: letters, digits, '.', '_', '-' (e.g. "2026-11").
	ID string
	// Secret is the 32-byte key.
	Secret []byte
}

// Codec is an AES-256-GCM converter.PayloadCodec with key rotation.
type Codec struct {
	active string
	aeads  map[string]cipher.AEAD
	ids    []string
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec that encrypts with keys[0] (the newest) and decrypts with
// any of keys. IDs must be unique and every secret 32 bytes long.
func New(keys ...Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: no key")
	}
	c := &Codec{active: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if !keyIDPattern.MatchString(k.ID) {
			return nil, fmt.Errorf("codec: key ID %q: use 1-64 letters, digits, '.', '_' or '-'", k.ID)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("codec: key ID %q given twice", k.ID)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("codec: key %q is %d bytes; AES-256 needs %d", k.ID, len(k.Secret), KeySize)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
		c.ids = append(c.ids, k.ID)
	}
	return c, nil
}

// ActiveKeyID is the ID of the key that encrypts.
func (c *Codec) ActiveKeyID() string { return c.active }

// KeyIDs lists every key ID, the active one first.
func (c *Codec) KeyIDs() []string { return slices.Clone(c.ids) }

// Encode encrypts each payload (its whole protobuf encoding, metadata included)
// with the active key under a fresh random nonce.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.active]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("codec: marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("codec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncoding),
				MetadataKeyID:              []byte(c.active),
				MetadataCipher:             []byte(CipherName),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(aadPrefix+c.active)),
		}
	}
	return out, nil
}

// Decode decrypts encrypted payloads and passes the others through unchanged
// (history written before encryption was turned on stays readable). A payload
// under a key the codec does not know is an error wrapping ErrUnknownKey that
// names the key ID.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		if cph := string(p.GetMetadata()[MetadataCipher]); cph != "" && cph != CipherName {
			return payloads, fmt.Errorf("codec: payload encrypted with cipher %q; golive uses %s", cph, CipherName)
		}
		aead, ok := c.aeads[id]
		if !ok {
			return payloads, fmt.Errorf("%w: key ID %q (this process knows %s); add that key to %s",
				ErrUnknownKey, id, strings.Join(c.ids, ", "), KeysEnv)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return payloads, fmt.Errorf("codec: encrypted payload under key %q is truncated", id)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(aadPrefix+id))
		if err != nil {
			return payloads, fmt.Errorf("codec: payload under key %q fails authentication (wrong key material or tampered data)", id)
		}
		var dp commonpb.Payload
		if err := proto.Unmarshal(plain, &dp); err != nil {
			return payloads, fmt.Errorf("codec: decrypted payload under key %q: %w", id, err)
		}
		out[i] = &dp
	}
	return out, nil
}

// NewDataConverter wraps the SDK's default data converter with c (nil c: the
// default converter unchanged, so callers need no branch when encryption is off).
func NewDataConverter(c converter.PayloadCodec) converter.DataConverter {
	if c == nil {
		return converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// NewFailureConverter returns the SDK's default failure converter with
// EncodeCommonAttributes on: a failure's message and stack trace move into its
// encoded attributes, which dc encrypts, so errors carry no readable text in
// history ("Encoded failure" is all the server sees).
func NewFailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
}
