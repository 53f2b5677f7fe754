package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"
)

// Kind names one stored document of a release run.
type Kind string

// The documents a release writes (activities.Recorder).
const (
	KindMarkdown Kind = "evidence.md"
	KindHTML     Kind = "evidence.html"
	KindIncident Kind = "incident.md"
)

// Kinds lists every Kind, in the order a report writes them.
var Kinds = []Kind{KindMarkdown, KindHTML, KindIncident}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// HTML reports whether the document is an HTML page.
func (k Kind) HTML() bool { return strings.HasSuffix(string(k), ".html") }

// zeroDigest stands for the digest while it is computed: a document cannot
// contain a hash of itself, so the seal hashes it with this in its place.
var zeroDigest = strings.Repeat("0", sha256.Size*2)

var sealPattern = regexp.MustCompile(`Evidence seal: sha256 (?:<code>|` + "`" + `)([0-9a-f]{64})(?:</code>|` + "`" + `)`)

var headPattern = regexp.MustCompile(`audit chain head (?:<code>|` + "`" + `)([^<` + "`" + `]*)(?:</code>|` + "`" + `) at writing`)

// Seal adds to a rendered document the audit chain head at writing and the
// document's own sha256 digest (computed with the digest as 64 zeros), and
// returns the sealed document and that digest. VerifySeal checks it again.
func Seal(kind Kind, doc, auditHead string) (sealed, digest string) {
	if auditHead == "" {
		auditHead = "none"
	}
	var line string
	if kind.HTML() {
		line = fmt.Sprintf(`<p class="seal">Evidence seal: sha256 <code>%s</code> of this page with that value as 64 zeros; audit chain head <code>%s</code> at writing.</p>`+"\n",
			zeroDigest, html.EscapeString(auditHead))
		if i := strings.LastIndex(doc, "</body>"); i >= 0 {
			doc = doc[:i] + line + doc[i:]
		} else {
			doc += line
		}
	} else {
		line = fmt.Sprintf("\n---\n\nEvidence seal: sha256 `%s` of this document with that value as 64 zeros; audit chain head `%s` at writing.\n",
			zeroDigest, strings.ReplaceAll(auditHead, "`", "'"))
		doc += line
	}
	digest = hexDigest(doc)
	i := strings.LastIndex(doc, zeroDigest) // the seal's: nothing after it is 64 zeros
	return doc[:i] + digest + doc[i+len(zeroDigest):], digest
}

// ErrNoSeal is a document without an evidence seal (written before seals, or cut).
var ErrNoSeal = errors.New("the document carries no evidence seal")

// VerifySeal recomputes a sealed document's digest and returns it with the
// audit chain head the seal names; a document changed since Seal is an error.
func VerifySeal(doc string) (digest, auditHead string, err error) {
	m := sealPattern.FindAllStringSubmatchIndex(doc, -1)
	if len(m) == 0 {
		return "", "", ErrNoSeal
	}
	last := m[len(m)-1]
	stated := doc[last[2]:last[3]]
	got := hexDigest(doc[:last[2]] + zeroDigest + doc[last[3]:])
	if got != stated {
		return got, "", fmt.Errorf("evidence seal broken: the document states sha256 %s, its content hashes to %s", stated, got)
	}
	if h := headPattern.FindStringSubmatch(doc[last[0]:]); h != nil {
		auditHead = h[1]
	}
	return stated, auditHead, nil
}

// Digest is the hex sha256 of content as stored (what a store's digest column holds).
func Digest(content string) string { return hexDigest(content) }

func hexDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
