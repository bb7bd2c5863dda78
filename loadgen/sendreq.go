package loadgen

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/chatcampaigns/campaign/channels/metahook"
)

// sendRequest is the part of a send or mark-read request the fake reads. The slices point
// into the request body (or, for a string with escapes, a copy of its own).
type sendRequest struct {
	MessagingProduct, To, Type, Status []byte
}

// parseSendRequest reads the top-level "messaging_product", "to", "type" and "status" of a
// request body, each a JSON string (or null, or absent: empty), without decoding the rest. It
// says false when the body is not valid JSON, not an object, or one of those four is of
// another type: what json.Unmarshal into a struct of those four strings refuses, but with the
// keys matched exactly, as the platform does (encoding/json also takes "TO" for "to"). With a
// key given twice the last one counts, as with encoding/json.
func parseSendRequest(body []byte) (sendRequest, bool) {
	var r sendRequest
	// Validating first leaves the scan below only well-formed input to walk.
	if !json.Valid(body) {
		return r, false
	}
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return r, false
	}
	i++
	for {
		i = skipSpace(body, i)
		if body[i] == '}' {
			return r, true
		}
		if body[i] == ',' {
			i = skipSpace(body, i+1)
		}
		keyEnd := stringEnd(body, i)
		key := body[i:keyEnd]
		i = skipSpace(body, keyEnd)
		i = skipSpace(body, i+1) // the colon
		valueEnd := valueEnd(body, i)
		var field *[]byte
		switch string(unquote(key)) {
		case "messaging_product":
			field = &r.MessagingProduct
		case "to":
			field = &r.To
		case "type":
			field = &r.Type
		case "status":
			field = &r.Status
		}
		if field != nil {
			switch body[i] {
			case '"':
				*field = unquote(body[i:valueEnd])
			case 'n':
				*field = nil
			default:
				return sendRequest{}, false
			}
		}
		i = valueEnd
	}
}

// unquote returns the contents of the JSON string token s (quotes included). Plain ASCII or
// valid UTF-8 without escapes is returned in place; anything else is decoded by
// encoding/json, so escapes and invalid UTF-8 read as they do there.
func unquote(s []byte) []byte {
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return inner
	}
	var out string
	if json.Unmarshal(s, &out) != nil {
		return inner
	}
	return []byte(out)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at b[i] (a quote).
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the JSON value starting at b[i], which is valid.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	// A number, true, false or null: up to the next delimiter.
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst, s []byte) []byte { return metahook.AppendString(dst, s) }
