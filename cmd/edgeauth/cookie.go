package main

import (
	"errors"
	"net/http"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/chunk"
)

// maxCookieChunks is generous: Auth.js splits at ~4 KB, so 16 chunks hold
// more than edgeauth.MaxTokenSize.
const maxCookieChunks = 16

var (
	errNoCookie     = errors.New("no session cookie in header")
	errCookieChunks = errors.New("inconsistent session cookie chunks")
)

// fromCookieHeader joins the session cookie (or its chunks) from a Cookie header value.
func fromCookieHeader(header, name string) (string, error) {
	cookies := (&http.Request{Header: http.Header{"Cookie": {header}}}).Cookies()
	value, _, err := chunk.Read(cookies, name, chunk.Limits{MaxChunks: maxCookieChunks, MaxLen: edgeauth.MaxTokenSize})
	switch {
	case errors.Is(err, chunk.ErrMissing):
		return "", errNoCookie
	case errors.Is(err, chunk.ErrInvalid):
		return "", errCookieChunks
	case errors.Is(err, chunk.ErrTooLarge):
		return "", edgeauth.ErrTooLarge
	case err != nil:
		return "", err
	case value == "":
		return "", errNoCookie
	}
	return value, nil
}
