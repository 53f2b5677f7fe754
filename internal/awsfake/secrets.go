package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Secrets fakes AWS Secrets Manager (awsJson1.1, target prefix secretsmanager):
// GetSecretValue by name or ARN, with the AWSCURRENT version only.
type Secrets struct {
	mu     sync.Mutex
	values map[string]string // by name
}

func newSecrets() *Secrets { return &Secrets{values: map[string]string{}} }

// Put stores a secret's string value under name.
func (s *Secrets) Put(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[name] = value
}

func secretArn(name string) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-AbCdEf", Region, Account, name)
}

func (s *Secrets) operation(r *http.Request, _ []byte) string { return jsonOperation(r) }

func (s *Secrets) writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSONError(w, status, code, msg)
}

func (s *Secrets) serve(w http.ResponseWriter, _ *http.Request, op string, body []byte) {
	var in struct {
		SecretId     string
		VersionStage string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeJSONError(w, 400, "SerializationException", err.Error())
		return
	}
	if op != "GetSecretValue" {
		writeJSONError(w, 400, "UnknownOperationException", "awsfake Secrets Manager does not implement "+op)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, v := range s.values {
		if in.SecretId == name || in.SecretId == secretArn(name) {
			if in.VersionStage != "" && in.VersionStage != "AWSCURRENT" {
				break
			}
			writeJSON(w, map[string]any{"ARN": secretArn(name), "Name": name, "VersionId": "v1",
				"SecretString": v, "VersionStages": []string{"AWSCURRENT"}, "CreatedDate": float64(time.Now().Unix())})
			return
		}
	}
	writeJSONError(w, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}
