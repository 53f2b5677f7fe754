package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds the JSON document read from an endpoint.
const maxBody = 1 << 20

// HTTP reads numbers from a JSON document served over HTTP (such as the demo
// app's /stats). Each Query fetches the document anew.
type HTTP struct {
	url    string
	client *http.Client
}

// NewHTTP returns a provider that GETs url and evaluates queries as JSONPath
// (the subset $.a.b, $.a[0].b, $['a b']) against the answer. A nil client
// uses one with a 10s timeout.
func NewHTTP(url string, client *http.Client) Provider {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &HTTP{url: url, client: client}
}

// Query fetches the document and returns the number at path query. A non-2xx
// answer, a connection error, a missing path, null or a non-number is an error.
// The endpoint only shows the present, so at is not used.
func (h *HTTP) Query(ctx context.Context, query string, _ time.Time) (float64, error) {
	path, err := ParsePath(query)
	if err != nil {
		return 0, err
	}
	doc, err := h.fetch(ctx)
	if err != nil {
		return 0, err
	}
	v, err := path.Eval(doc)
	if err != nil {
		return 0, fmt.Errorf("%s at %s: %w", query, h.url, err)
	}
	return v, nil
}

func (h *HTTP) fetch(ctx context.Context) (any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics url %q: %w", h.url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("metrics endpoint %s: read: %w", h.url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("metrics endpoint %s answered %s", h.url, resp.Status)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("metrics endpoint %s: not JSON: %w", h.url, err)
	}
	return doc, nil
}

// Path is a parsed JSONPath of the supported subset: object keys and array indexes.
type Path []step

type step struct {
	key   string
	index int // used when key is empty and isIdx is set
	isIdx bool
}

// ParsePath parses "$.a.b[0]['c d']". A query without the leading "$" is taken
// as relative to the root ("error_rate" = "$.error_rate").
func ParsePath(q string) (Path, error) {
	s := strings.TrimSpace(q)
	switch {
	case s == "":
		return nil, fmt.Errorf("empty metric query")
	case strings.HasPrefix(s, "$"):
		s = s[1:]
	case !strings.HasPrefix(s, "["):
		s = "." + s
	}
	var p Path
	for s != "" {
		switch s[0] {
		case '.':
			end := strings.IndexAny(s[1:], ".[")
			if end < 0 {
				end = len(s) - 1
			}
			key := s[1 : 1+end]
			if key == "" {
				return nil, fmt.Errorf("query %q: empty key", q)
			}
			p = append(p, step{key: key})
			s = s[1+end:]
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("query %q: unclosed [", q)
			}
			inner := s[1:end]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				p = append(p, step{key: inner[1 : len(inner)-1]})
			} else if n, err := strconv.Atoi(inner); err == nil && n >= 0 {
				p = append(p, step{index: n, isIdx: true})
			} else {
				return nil, fmt.Errorf("query %q: [%s] is neither an index nor a quoted key", q, inner)
			}
			s = s[end+1:]
		default:
			return nil, fmt.Errorf("query %q: unexpected %q (want $.a.b or $.a[0])", q, s[0])
		}
	}
	return p, nil
}

// Eval returns the number at the path in doc (as decoded with UseNumber or plain float64).
func (p Path) Eval(doc any) (float64, error) {
	cur := doc
	where := "$"
	for _, st := range p {
		if st.isIdx {
			arr, ok := cur.([]any)
			if !ok {
				return 0, fmt.Errorf("%s is not an array", where)
			}
			if st.index >= len(arr) {
				return 0, fmt.Errorf("%s has %d elements, no [%d]", where, len(arr), st.index)
			}
			cur = arr[st.index]
			where += fmt.Sprintf("[%d]", st.index)
			continue
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return 0, fmt.Errorf("%s is not an object", where)
		}
		v, ok := obj[st.key]
		if !ok {
			return 0, fmt.Errorf("%s has no key %q", where, st.key)
		}
		cur = v
		where += "." + st.key
	}
	switch v := cur.(type) {
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", where, err)
		}
		return f, nil
	case float64:
		return v, nil
	case nil:
		return 0, fmt.Errorf("%s is null (no data)", where)
	default:
		return 0, fmt.Errorf("%s is %T, not a number", where, cur)
	}
}
