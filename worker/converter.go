package worker

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/golive/golive/internal/codec"
	"github.com/golive/golive/internal/secrets"
)

// Encryption returns the codec configured by GOLIVE_CODEC_KEYS (keys as
// env://, file:// or secret:// references), or nil when encryption is off.
func Encryption(ctx context.Context, res *secrets.Resolver) (*codec.Codec, error) {
	if res == nil {
		res = &secrets.Resolver{}
	}
	c, err := codec.FromEnv(func(ref string) (string, error) { return res.Resolve(ctx, ref) })
	if err != nil {
		return nil, fmt.Errorf("payload encryption: %w", err)
	}
	return c, nil
}

// ApplyConverters sets the data and failure converters every golive client and
// worker shares: payloads and failure messages encrypted with c (AES-256-GCM),
// or plain JSON when c is nil.
func ApplyConverters(o *client.Options, c *codec.Codec) {
	if c == nil {
		return
	}
	dc := codec.NewDataConverter(c)
	o.DataConverter = dc
	o.FailureConverter = codec.NewFailureConverter(dc)
}

// DataConverter is the production data converter as configured by the
// environment (replay tests use it, so a recorded history is read the way the
// worker wrote it).
func DataConverter() converter.DataConverter {
	c, err := Encryption(context.Background(), nil)
	if err != nil || c == nil {
		return converter.GetDefaultDataConverter()
	}
	return codec.NewDataConverter(c)
}
