package spec

import (
	"embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"sync"
)

// typeSources are the files that declare the spec's types. They are embedded so
// that `golive spec schema` and `golive spec docs` describe each field with its
// doc comment, read from the source at run time: the comment in types.go is the
// one place a field is described, and the schema and docs/spec.md cannot drift from it.
//
//go:embed types.go metrics.go check.go freeze.go drills.go failure.go
var typeSources embed.FS

// fieldDocs maps "Type.Field" (Go names) to the field's doc comment, and "Type" to the type's.
var fieldDocs = sync.OnceValues(func() (map[string]string, error) {
	docs := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range []string{"types.go", "metrics.go", "check.go", "freeze.go", "drills.go", "failure.go"} {
		src, err := typeSources.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read embedded %s: %w", name, err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse embedded %s: %w", name, err)
		}
		for _, decl := range f.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				collectTypeDocs(gd, docs)
			}
		}
	}
	return docs, nil
})

// collectTypeDocs records the docs of the struct types declared in gd.
func collectTypeDocs(gd *ast.GenDecl, docs map[string]string) {
	for _, spec := range gd.Specs {
		ts := spec.(*ast.TypeSpec)
		doc := ts.Doc
		if doc == nil && len(gd.Specs) == 1 {
			doc = gd.Doc
		}
		docs[ts.Name.Name] = oneLine(doc)
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			continue
		}
		prev := ""
		for _, f := range st.Fields.List {
			text := oneLine(f.Doc)
			if text == "" {
				text = oneLine(f.Comment)
			}
			for _, n := range f.Names {
				// "LockTimeout and StatementTimeout apply to ..." documents the next field too.
				if text == "" && strings.Contains(prev, n.Name) {
					docs[ts.Name.Name+"."+n.Name] = prev
					continue
				}
				docs[ts.Name.Name+"."+n.Name] = text
			}
			if text != "" {
				prev = text
			}
		}
	}
}

// oneLine joins a comment's text into one line.
func oneLine(cg *ast.CommentGroup) string {
	if cg == nil {
		return ""
	}
	return strings.Join(strings.Fields(cg.Text()), " ")
}

// docOf is the doc comment of field f of struct type t ("" when it has none).
func docOf(t reflect.Type, f reflect.StructField) string {
	docs, err := fieldDocs()
	if err != nil {
		return ""
	}
	return docs[t.Name()+"."+f.Name]
}

// Enumerations and patterns of string fields, by struct type and Go field name:
// the same lists the validation uses, so the schema accepts what Load accepts.
var (
	fieldEnums = map[reflect.Type]map[string][]string{
		reflect.TypeFor[VersionSource](): {"From": VersionFroms},
		reflect.TypeFor[SignoffBlock]():  {"OnTimeout": OnTimeouts},
		reflect.TypeFor[Check]():         {"Kind": CheckKinds},
		reflect.TypeFor[Backup]():        {"Type": BackupTypes},
		reflect.TypeFor[StepFailure]():   {"OnFailure": FailureActions},
		reflect.TypeFor[DrillCheck]():    {"Kind": DrillKinds},
		reflect.TypeFor[Deploy]():        {"Target": DeployTargets},
		reflect.TypeFor[Flow]():          {"Method": FlowMethods},
		reflect.TypeFor[Metrics]():       {"Provider": MetricsProviders},
		reflect.TypeFor[MetricSource]():  {"Provider": MetricsProviders},
		reflect.TypeFor[Notify]():        {"Channel": NotifyChannels, "Channels": NotifyLiveChannels},
	}
	fieldPatterns = map[reflect.Type]map[string]string{
		reflect.TypeFor[Spec](): {"Service": namePattern.String(), "Environment": environmentPattern.String()},
	}
	// fieldRequired lists the keys a spec must always write (conditional
	// requirements, such as deploy.command for target command, are Load's).
	fieldRequired = map[reflect.Type][]string{
		reflect.TypeFor[Spec]():   {"service", "environment", "app", "team", "deploy"},
		reflect.TypeFor[App]():    {"url"},
		reflect.TypeFor[Deploy](): {"target"},
		reflect.TypeFor[Person](): {"id", "name"},
		reflect.TypeFor[Item]():   {"id"},
		reflect.TypeFor[Check]():  {"kind"},
		reflect.TypeFor[Flow]():   {"id"},
	}
)
