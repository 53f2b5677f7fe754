package approvals

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"gopkg.in/yaml.v3"

	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/passkey"
)

// Enrollment: `golive directory invite PERSON` prints a one-time link; its
// page registers a passkey (navigator.credentials.create, checked by
// go-webauthn) and shows the YAML of the new credential. The credential counts
// only once that YAML is in the directory and a quorum of admins has signed
// the change (golive directory sign): the server never edits the directory.

// user is a directory person as go-webauthn sees them.
type user struct {
	p     directory.Person
	creds []webauthn.Credential
}

func newUser(p directory.Person) user {
	u := user{p: p}
	for _, k := range p.Passkeys {
		if id, err := passkey.DecodeB64(k.CredentialID); err == nil {
			u.creds = append(u.creds, webauthn.Credential{ID: id})
		}
	}
	return u
}

// WebAuthnID is the user handle: "golive:" and the person ID (at most 64 bytes).
func (u user) WebAuthnID() []byte                         { return []byte(UserHandle(u.p.ID)) }
func (u user) WebAuthnName() string                       { return u.p.ID }
func (u user) WebAuthnDisplayName() string                { return u.p.Name }
func (u user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// UserHandle is the WebAuthn user.id golive registers for a person.
func UserHandle(person string) string {
	h := "golive:" + person
	if len(h) > 64 {
		h = h[:64]
	}
	return h
}

type enrollView struct {
	Person, Name, Query, Label string
}

// invite checks an enrollment link and that it was not used.
func (s *Server) invite(person string, q url.Values) (Invite, directory.Person, error) {
	in, err := CheckInvite(s.o.LinkKey, person, q, s.o.Now())
	if err != nil {
		return Invite{}, directory.Person{}, err
	}
	p, ok := s.directory().Person(person)
	if !ok {
		return Invite{}, directory.Person{}, fmt.Errorf("%q is not a person of the team directory", person)
	}
	if _, err := os.Stat(s.snippetPath(in)); err == nil {
		return Invite{}, directory.Person{}, ErrInviteUsed
	}
	return in, p, nil
}

func (s *Server) snippetPath(in Invite) string {
	return filepath.Join(s.o.EnrollDir, in.Person+"-"+in.Nonce+".yaml")
}

func (s *Server) enrollPage(w http.ResponseWriter, r *http.Request) {
	person := r.PathValue("person")
	_, p, err := s.invite(person, r.URL.Query())
	if err != nil {
		s.fail(w, http.StatusForbidden, "Enrollment link not valid", err.Error()+". Ask a directory admin for a new one (golive directory invite "+person+").")
		return
	}
	s.render(w, http.StatusOK, "enroll.html", page{Title: "Create a passkey for " + p.Name,
		Enroll: &enrollView{Person: p.ID, Name: p.Name, Query: r.URL.RawQuery, Label: p.Name + "'s device"}})
}

type enrollRequest struct {
	Person string `json:"person"`
	Query  string `json:"query"`
}

func (s *Server) enrollBegin(w http.ResponseWriter, r *http.Request) {
	var req enrollRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&req); err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	q, _ := url.ParseQuery(req.Query)
	in, p, err := s.invite(req.Person, q)
	if err != nil {
		jsonError(w, http.StatusForbidden, err.Error())
		return
	}
	u := newUser(p)
	var exclude []protocol.CredentialDescriptor
	for _, c := range u.creds {
		exclude = append(exclude, protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: c.ID})
	}
	var params []protocol.CredentialParameter
	for _, alg := range passkey.Algorithms {
		params = append(params, protocol.CredentialParameter{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncoseAlg(alg)})
	}
	creation, session, err := s.web.BeginRegistration(u,
		webauthn.WithExclusions(exclude), webauthn.WithCredentialParameters(params),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationRequired}))
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.mu.Lock()
	s.enrolls[in.Nonce] = session
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, creation)
}

func (s *Server) enrollFinish(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	person, label := q.Get("person"), strings.TrimSpace(q.Get("label"))
	inviteQ, _ := url.ParseQuery(q.Get("query"))
	in, p, err := s.invite(person, inviteQ)
	if err != nil {
		jsonError(w, http.StatusForbidden, err.Error())
		return
	}
	s.mu.Lock()
	session := s.enrolls[in.Nonce]
	delete(s.enrolls, in.Nonce)
	s.mu.Unlock()
	if session == nil {
		jsonError(w, http.StatusConflict, "start the enrollment again (no registration is waiting for this link)")
		return
	}
	cred, err := s.web.FinishRegistration(newUser(p), *session, r)
	if err != nil {
		var perr *protocol.Error
		if errors.As(err, &perr) {
			err = fmt.Errorf("%s: %s", perr.Type, perr.DevInfo)
		}
		jsonError(w, http.StatusBadRequest, "registration refused: "+err.Error())
		return
	}
	if _, err := passkey.ParsePublicKey(cred.PublicKey); err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	if label == "" {
		label = p.Name + "'s device"
	}
	k := directory.Passkey{CredentialID: passkey.EncodeB64(cred.ID), PublicKey: passkey.EncodeB64(cred.PublicKey), Label: label, Added: s.o.Now().UTC().Format("2006-01-02")}
	snippet, err := Snippet(p.ID, k)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if err := s.saveSnippet(in, snippet); err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.o.Logger.Info("passkey enrolled", "person", p.ID, "passkey", passkey.Fingerprint(cred.PublicKey), "saved", s.snippetPath(in))
	writeJSON(w, http.StatusOK, map[string]string{"yaml": snippet, "saved": s.snippetPath(in), "fingerprint": passkey.Fingerprint(cred.PublicKey)})
}

// saveSnippet writes the snippet where the invite's nonce marks it used; a second use fails.
func (s *Server) saveSnippet(in Invite, snippet string) error {
	if err := os.MkdirAll(s.o.EnrollDir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(s.snippetPath(in), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return ErrInviteUsed
		}
		return err
	}
	defer f.Close()
	_, err = f.WriteString(snippet)
	return err
}

// Snippet is the YAML to paste under the person's entry in the directory.
func Snippet(person string, k directory.Passkey) (string, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode([]directory.Passkey{k}); err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	out := fmt.Sprintf("# passkey of %s: add under `passkeys:` of people[id=%s] in the team directory,\n# then have the admins sign the change (golive directory sign).\n", person, person)
	for _, l := range lines {
		out += "      " + l + "\n"
	}
	return out, nil
}
