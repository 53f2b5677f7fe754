package codec

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"
)

// DefaultMaxBodyBytes bounds one codec request (Temporal's own payload limit is 2 MiB per blob).
const DefaultMaxBodyBytes = 8 << 20

// HandlerOptions configure NewHTTPHandler.
type HandlerOptions struct {
	// Tokens are the accepted bearer tokens; several during rotation. At least one is required.
	Tokens []string
	// AllowedOrigins are the browser origins (scheme://host[:port]) allowed to
	// call the server, e.g. the Temporal UI at http://127.0.0.1:8233. Requests
	// carrying any other Origin are refused; requests without one (CLI, SDK) are
	// judged by their token alone.
	AllowedOrigins []string
	// PathToken also accepts the token as the first path segment
	// (POST /TOKEN/decode), for browsers whose Temporal UI cannot send an
	// Authorization header (the UI sends one only when signed in through OIDC
	// and the endpoint is https). The token then sits in the codec endpoint URL:
	// enter it in each browser's own "Data Encoder" settings, never in shared UI
	// configuration.
	PathToken bool
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
}

// NewHTTPHandler serves c as a remote codec (POST .../encode and .../decode
// with protojson Payloads, converter.NewPayloadCodecHTTPHandler) behind a bearer
// token and CORS:
//
//   - a CORS preflight (OPTIONS) from an allowed origin is answered without a
//     token (browsers send none on preflight); any other Origin gets 403;
//   - no token: 401 with WWW-Authenticate: Bearer; a wrong token: 403;
//   - methods other than POST: 405; paths other than /encode and /decode: 404.
//
// Responses are marked Cache-Control: no-store, since /decode returns plaintext.
func NewHTTPHandler(c converter.PayloadCodec, o HandlerOptions) (http.Handler, error) {
	if c == nil {
		return nil, errors.New("codec server: no codec")
	}
	h := &handler{codec: converter.NewPayloadCodecHTTPHandler(c), pathToken: o.PathToken, max: o.MaxBodyBytes}
	if h.max <= 0 {
		h.max = DefaultMaxBodyBytes
	}
	for _, t := range o.Tokens {
		if t = strings.TrimSpace(t); t != "" {
			h.tokens = append(h.tokens, sha256.Sum256([]byte(t)))
		}
	}
	if len(h.tokens) == 0 {
		return nil, errors.New("codec server: no token configured; refusing to serve plaintext without authentication")
	}
	for _, origin := range o.AllowedOrigins {
		u, err := url.Parse(origin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, errors.New("codec server: CORS origin " + origin + " is not scheme://host[:port]")
		}
		h.origins = append(h.origins, u.Scheme+"://"+u.Host)
	}
	return h, nil
}

type handler struct {
	codec     http.Handler
	tokens    [][sha256.Size]byte
	origins   []string
	pathToken bool
	max       int64
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if origin := r.Header.Get("Origin"); origin != "" {
		hdr.Add("Vary", "Origin")
		if !slices.Contains(h.origins, origin) {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Set("Access-Control-Allow-Credentials", "true")
		if r.Method == http.MethodOptions {
			hdr.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			hdr.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
			hdr.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	token, path := bearer(r), r.URL.Path
	if h.pathToken {
		if seg, rest, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/"); ok && (rest == "encode" || rest == "decode") {
			path = "/" + rest
			if token == "" {
				token = seg
			}
		}
	}
	if token == "" {
		hdr.Set("WWW-Authenticate", `Bearer realm="golive-codec"`)
		http.Error(w, "bearer token required", http.StatusUnauthorized)
		return
	}
	if !h.valid(token) {
		http.Error(w, "token not accepted", http.StatusForbidden)
		return
	}
	if path != "/encode" && path != "/decode" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		hdr.Set("Allow", "POST, OPTIONS")
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = path, ""
	r2.Body = http.MaxBytesReader(w, r.Body, h.max)
	h.codec.ServeHTTP(w, r2)
}

// valid compares token with every configured token in constant time.
func (h *handler) valid(token string) bool {
	sum := sha256.Sum256([]byte(token))
	ok := 0
	for _, t := range h.tokens {
		ok |= subtle.ConstantTimeCompare(sum[:], t[:])
	}
	return ok == 1
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header, or "".
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
