package passkey

import "errors"

// Reasons an assertion is refused. VerifyAssertion wraps exactly one of them;
// test with errors.Is. Messages say what was wrong, never a secret.
var (
	// ErrMalformed: a field is not base64url, the client data is not JSON,
	// the authenticator data is too short, or a directory key does not parse.
	ErrMalformed = errors.New("malformed passkey assertion")
	// ErrType: the client data's type is not "webauthn.get" (a registration
	// response, or something else, offered as an assertion).
	ErrType = errors.New("client data is not an assertion (webauthn.get)")
	// ErrUnknownCredential: the credential is not among the person's passkeys.
	ErrUnknownCredential = errors.New("passkey not registered for this person")
	// ErrChallenge: the assertion was made for another statement (another
	// release, run, slot, decision, comment or time).
	ErrChallenge = errors.New("passkey assertion is for another statement")
	// ErrOrigin: the browser made the assertion on a page outside the relying
	// party's origins (or inside a cross-origin frame).
	ErrOrigin = errors.New("passkey assertion from an origin not allowed")
	// ErrRPID: the authenticator signed for another relying party ID.
	ErrRPID = errors.New("passkey assertion for another relying party")
	// ErrUserPresence: the authenticator did not see the user (UP flag clear).
	ErrUserPresence = errors.New("passkey assertion without user presence")
	// ErrUserVerification: the authenticator did not verify the user (UV flag
	// clear) where the directory requires it.
	ErrUserVerification = errors.New("passkey assertion without user verification")
	// ErrSignature: the signature does not match the authenticator data and
	// client data under the credential's public key.
	ErrSignature = errors.New("passkey signature does not match")
)
