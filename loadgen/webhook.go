package loadgen

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"
)

// SignatureHeader is the header WhatsApp puts its webhook signature in.
const SignatureHeader = "X-Hub-Signature-256"

// Sign returns the X-Hub-Signature-256 value for body: "sha256=" and the hex HMAC-SHA256 of
// the raw body keyed with the app secret, as Meta signs its webhooks.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// signer signs webhook bodies with one secret; its HMAC is keyed once and reset for each
// body, where Sign keys a new one every time. Not safe for concurrent use: one per sender.
type signer struct {
	mac hash.Hash
	sum []byte
	sig []byte
}

func newSigner(secret string) *signer {
	return &signer{mac: hmac.New(sha256.New, []byte(secret))}
}

// sign returns what Sign returns, as bytes valid until the next call.
func (s *signer) sign(body []byte) []byte {
	s.mac.Reset()
	s.mac.Write(body)
	s.sum = s.mac.Sum(s.sum[:0])
	s.sig = append(s.sig[:0], "sha256="...)
	s.sig = hex.AppendEncode(s.sig, s.sum)
	return s.sig
}

// TextWebhook appends to dst a WhatsApp Cloud API webhook body carrying one text message from
// the WhatsApp id from to the business number phoneNumberID, in the documented envelope. It
// is built by hand rather than with encoding/json because it runs thousands of times a second
// in the load generator; the arguments are digits and plain words, so nothing needs quoting
// beyond what strconv.AppendQuote does.
func TextWebhook(dst []byte, phoneNumberID, from, wamid, text string, timestamp int64) []byte {
	dst = append(dst, `{"object":"whatsapp_business_account","entry":[{"id":"100000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":`...)
	dst = strconv.AppendQuote(dst, phoneNumberID)
	dst = append(dst, `},"contacts":[{"profile":{"name":"Load"},"wa_id":`...)
	dst = strconv.AppendQuote(dst, from)
	dst = append(dst, `}],"messages":[{"from":`...)
	dst = strconv.AppendQuote(dst, from)
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendQuote(dst, wamid)
	dst = append(dst, `,"timestamp":"`...)
	dst = strconv.AppendInt(dst, timestamp, 10)
	dst = append(dst, `","type":"text","text":{"body":`...)
	dst = strconv.AppendQuote(dst, text)
	dst = append(dst, `}}]}}]}]}`...)
	return dst
}
