package awsfake

import (
	"encoding/json"
	"net/http"
	"strings"
)

// jsonOperation reads the operation of an awsJson1.x request from X-Amz-Target ("Prefix.Operation").
func jsonOperation(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		return t[i+1:]
	}
	return t
}

// writeJSON answers an awsJson1.1 request.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

// writeJSONError answers with an awsJson1.1 error: the code in __type and X-Amzn-ErrorType.
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
