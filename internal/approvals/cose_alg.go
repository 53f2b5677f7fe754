package approvals

import "github.com/go-webauthn/webauthn/protocol/webauthncose"

// webauthncoseAlg is a COSE algorithm as go-webauthn types it.
func webauthncoseAlg(alg int) webauthncose.COSEAlgorithmIdentifier {
	return webauthncose.COSEAlgorithmIdentifier(alg)
}
