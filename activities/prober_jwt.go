package activities

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"time"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// jwtCase is one token a jwt check sends, and whether the app must accept it.
type jwtCase struct {
	name   string
	token  string
	accept bool
}

// checkJWT builds five tokens with the test-only key (resolved here, never
// logged or returned): none, expired, wrongly signed, alg "none", and a valid
// one. The first four must be refused (401 or 403), the valid one accepted
// (2xx), so a path that refuses everything does not pass either.
func (p *Prober) checkJWT(ctx context.Context, in CheckInput) Result {
	u, bad := webTarget(in.Check, in.App)
	if bad != nil {
		return *bad
	}
	j := in.Check.JWT
	if j == nil || j.Key == "" {
		return Result{State: record.ItemFailed, Detail: "bad check: jwt.key (a reference to the test-only key) is not set"}
	}
	key, err := p.secrets().Resolve(ctx, j.Key)
	if err != nil {
		return Result{State: record.ItemUnavailable, Detail: "not configured: " + err.Error()}
	}
	cases, err := jwtCases(*j, []byte(key), time.Now())
	if err != nil {
		return Result{State: record.ItemFailed, Detail: "bad check: " + err.Error()}
	}
	var seen, wrong []string
	for _, tc := range cases {
		h := http.Header{}
		if tc.token != "" {
			h.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := p.send(ctx, http.MethodGet, u, nil, h)
		if err != nil {
			return Result{State: record.ItemFailed, Detail: fmt.Sprintf("GET %s (%s token): %v", u, tc.name, err)}
		}
		code := resp.StatusCode
		seen = append(seen, fmt.Sprintf("%s %d", tc.name, code))
		switch refused := code == http.StatusUnauthorized || code == http.StatusForbidden; {
		case !tc.accept && !refused:
			wrong = append(wrong, fmt.Sprintf("%s token answered %d, want 401 or 403", tc.name, code))
		case tc.accept && (code < 200 || code > 299):
			wrong = append(wrong, fmt.Sprintf("valid token answered %d, want 2xx (does the app use this key and algorithm?)", code))
		}
	}
	r := Result{State: record.ItemPassed, Value: strings.Join(seen, ", ")}
	if len(wrong) > 0 {
		r.State, r.Detail = record.ItemFailed, u+": "+strings.Join(wrong, "; ")
	}
	return r
}

// jwtCases builds the tokens of a jwt check at now.
func jwtCases(j spec.JWTProbe, key []byte, now time.Time) ([]jwtCase, error) {
	alg := j.Alg
	if alg == "" {
		alg = spec.DefaultJWTAlg
	}
	claims := func(exp time.Time) map[string]any {
		c := map[string]any{"iat": now.Unix(), "exp": exp.Unix(), "sub": "golive-readiness-probe"}
		for k, v := range map[string]string{"iss": j.Issuer, "aud": j.Audience, "sub": j.Subject} {
			if v != "" {
				c[k] = v
			}
		}
		return c
	}
	other := make([]byte, 32)
	if _, err := rand.Read(other); err != nil {
		return nil, err
	}
	valid, err := signJWT(alg, key, claims(now.Add(5*time.Minute)))
	if err != nil {
		return nil, err
	}
	expired, _ := signJWT(alg, key, claims(now.Add(-time.Hour)))
	wrongSig, _ := signJWT(alg, other, claims(now.Add(5*time.Minute)))
	none, _ := signJWT("none", nil, claims(now.Add(5*time.Minute)))
	return []jwtCase{
		{name: "missing"}, {name: "expired", token: expired}, {name: "wrongly signed", token: wrongSig},
		{name: "alg none", token: none}, {name: "valid", token: valid, accept: true},
	}, nil
}

// signJWT encodes a compact JWS; alg "none" has an empty signature.
func signJWT(alg string, key []byte, claims map[string]any) (string, error) {
	head, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(head) + "." + enc.EncodeToString(body)
	var h func() hash.Hash
	switch alg {
	case "none":
		return input + ".", nil
	case "HS256":
		h = sha256.New
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	default:
		return "", fmt.Errorf("jwt.alg %q is not HS256, HS384 or HS512", alg)
	}
	m := hmac.New(h, key)
	m.Write([]byte(input))
	return input + "." + enc.EncodeToString(m.Sum(nil)), nil
}
