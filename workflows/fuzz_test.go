package workflows

import (
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// FuzzInputPayloads decodes arbitrary signal/update payloads the way the SDK
// does and runs each input's validator: bad input is refused, never a panic.
func FuzzInputPayloads(f *testing.F) {
	f.Add([]byte(`{"person":"alice","decision":"approve"}`))
	f.Add([]byte(`{"person":"carol","decision":"reject","comment":"BAA missing"}`))
	f.Add([]byte(`{"person":"alice","reason":"data_corruption"}`))
	f.Add([]byte(`{"person":"bob","alert_id":"A1"}`))
	f.Add([]byte(`{"person":"erin","items":["comp.hipaa_review"]}`))
	f.Add([]byte(`null`))
	dc := converter.GetDefaultDataConverter()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)}, Data: data}
		var s Signoff
		if dc.FromPayload(p, &s) == nil {
			_ = validSignoff(s)
		}
		var q RollbackRequest
		if dc.FromPayload(p, &q) == nil {
			_ = validRollback(q)
		}
		var a Ack
		if dc.FromPayload(p, &a) == nil {
			_ = validAck(a)
		}
		var at Attest
		if dc.FromPayload(p, &at) == nil {
			_ = needPerson(at.Person)
		}
	})
}
