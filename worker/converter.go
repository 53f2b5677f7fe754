package worker

import "go.temporal.io/sdk/converter"

// DataConverter is the data converter every golive client, worker and replay
// test uses, so payloads written by one are read by the others.
func DataConverter() converter.DataConverter {
	return converter.GetDefaultDataConverter()
}
