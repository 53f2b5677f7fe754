package evidence_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/record"
)

func TestSealStatesTheDocumentsOwnDigestAndTheAuditHeadInMarkdownAndHTML(t *testing.T) {
	st := record.Status{ReleaseID: "release:portal:production", Version: "2.4.1", AuditHead: "ab12cd"}
	for kind, doc := range map[evidence.Kind]string{evidence.KindMarkdown: evidence.Markdown(st), evidence.KindHTML: evidence.HTML(st)} {
		sealed, digest := evidence.Seal(kind, doc, st.AuditHead)
		if !strings.Contains(sealed, digest) || strings.Contains(sealed, strings.Repeat("0", 64)) {
			t.Errorf("%s: seal does not state its digest %s", kind, digest)
		}
		if kind.HTML() && !strings.HasSuffix(strings.TrimSpace(sealed), "</html>") {
			t.Errorf("HTML seal not inside the page: %q", sealed[len(sealed)-80:])
		}
		got, head, err := evidence.VerifySeal(sealed)
		if err != nil || got != digest || head != "ab12cd" {
			t.Errorf("%s: verify = %s %q %v; want %s ab12cd", kind, got, head, err, digest)
		}
		changed := strings.Replace(sealed, "2.4.1", "2.4.2", 1)
		if _, _, err := evidence.VerifySeal(changed); err == nil || !strings.Contains(err.Error(), "seal broken") {
			t.Errorf("%s: a changed version verified: %v", kind, err)
		}
	}
	if _, _, err := evidence.VerifySeal(evidence.Markdown(st)); !errors.Is(err, evidence.ErrNoSeal) {
		t.Errorf("unsealed document: %v", err)
	}
}
