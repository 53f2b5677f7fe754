package devserver

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// LoadClientAccess reads a client access file (`golive dev --client-access`)
// for Options.ClientAccess:
//
//	# client certificate subject Common Name -> access
//	worker: golive-worker      # the golive worker's certificate (or a list of them)
//	people:
//	  rosa: writer             # may start and steer releases
//	  ops: reader              # may list, describe and query
//
// Parsing is strict: an unknown key, a duplicate Common Name, an access
// other than writer or reader under people, or a file that grants nothing
// is an error. Every problem is reported, each as file:line:col: message.
func LoadClientAccess(path string) (map[string]Access, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("client access: %w", err)
	}
	return ParseClientAccess(path, data)
}

// ParseClientAccess parses data, read from file (named in errors), as
// LoadClientAccess does.
func ParseClientAccess(file string, data []byte) (map[string]Access, error) {
	p := &accessParser{file: file, access: map[string]Access{}, at: map[string]*yaml.Node{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s:1:1: empty: name the worker and people certificates", file)
	}
	p.document(doc.Content[0])
	if len(p.errs) == 0 && len(p.access) == 0 {
		p.errAt(doc.Content[0], "grants no access: name the worker and people certificates")
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return p.access, nil
}

// accessParser collects the access of one file and every problem in it.
type accessParser struct {
	file   string
	access map[string]Access
	at     map[string]*yaml.Node // where each Common Name was first given
	errs   []error
}

func (p *accessParser) errAt(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d:%d: %s", p.file, n.Line, n.Column, fmt.Sprintf(format, args...)))
}

// document reads the top-level mapping: worker and people.
func (p *accessParser) document(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.errAt(n, "want a mapping with keys worker and people")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if seen[key.Value] {
			p.errAt(key, "%s given twice", key.Value)
			continue
		}
		seen[key.Value] = true
		switch key.Value {
		case "worker":
			p.workers(val)
		case "people":
			p.people(val)
		default:
			p.errAt(key, "unknown key %q (want worker or people)", key.Value)
		}
	}
}

// workers reads `worker:`, one Common Name or a list of them.
func (p *accessParser) workers(n *yaml.Node) {
	switch n.Kind {
	case yaml.ScalarNode:
		p.add(n, AccessWorker)
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.errAt(n, "worker: empty list")
		}
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				p.errAt(item, "worker: want a certificate Common Name")
				continue
			}
			p.add(item, AccessWorker)
		}
	default:
		p.errAt(n, "worker: want a certificate Common Name or a list of them")
	}
}

// people reads `people:`, a mapping of Common Name to writer or reader.
func (p *accessParser) people(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.errAt(n, "people: want a mapping of certificate Common Name to %s or %s", AccessWriter, AccessReader)
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		switch a := Access(val.Value); {
		case val.Kind != yaml.ScalarNode || (a != AccessWriter && a != AccessReader):
			hint := ""
			if a == AccessWorker {
				hint = " (worker certificates go under the worker key)"
			}
			p.errAt(val, "people: %s: access %q, want %s or %s%s", key.Value, val.Value, AccessWriter, AccessReader, hint)
		default:
			p.add(key, a)
		}
	}
}

// add records that the Common Name in n has access a.
func (p *accessParser) add(n *yaml.Node, a Access) {
	cn := n.Value
	switch {
	case n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" || cn == "":
		p.errAt(n, "empty certificate Common Name")
		return
	case strings.TrimSpace(cn) != cn || strings.ContainsFunc(cn, unicode.IsControl):
		p.errAt(n, "certificate Common Name %q has surrounding spaces or control characters", cn)
		return
	}
	if first, dup := p.at[cn]; dup {
		p.errAt(n, "certificate Common Name %q given twice (first at line %d)", cn, first.Line)
		return
	}
	p.at[cn] = n
	p.access[cn] = a
}
