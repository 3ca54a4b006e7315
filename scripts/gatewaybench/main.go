// Command gatewaybench serves the ends of scripts/gateway-loadtest.sh: the
// upstream app, and a bare httputil.ReverseProxy in front of it (the
// baseline "edgeauth proxy" is compared with). It also mints the session
// cookie the load test sends.
//
//	gatewaybench upstream ADDR
//	gatewaybench bare ADDR UPSTREAM_URL
//	gatewaybench cookie SECRET
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"

	"github.com/edgeauth/edgeauth"
)

func main() {
	if len(os.Args) < 3 {
		log.Fatal("usage: gatewaybench upstream ADDR | bare ADDR UPSTREAM_URL | cookie SECRET")
	}
	switch os.Args[1] {
	case "upstream":
		// A small answer naming the identity it received, so the script can
		// check that the session reached it.
		log.Fatal(http.ListenAndServe(os.Args[2], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			if id := r.Header.Get("X-User-Id"); id != "" {
				fmt.Fprintf(w, "ok %s\n", id)
				return
			}
			fmt.Fprint(w, "ok\n")
		})))
	case "bare":
		if len(os.Args) != 4 {
			log.Fatal("usage: gatewaybench bare ADDR UPSTREAM_URL")
		}
		target, err := url.Parse(os.Args[3])
		if err != nil {
			log.Fatal(err)
		}
		// The same Rewrite and connection pool settings as edgeauth proxy's
		// (cmd/edgeauth/reverseproxy.go), so that only the gateway's own
		// work differs.
		rp := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.SetXForwarded()
			},
			Transport: &http.Transport{
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				ForceAttemptHTTP2:     true,
				MaxIdleConns:          1024,
				MaxIdleConnsPerHost:   1024,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: 30 * time.Second,
				ExpectContinueTimeout: time.Second,
			},
		}
		srv := &http.Server{Addr: os.Args[2], Handler: rp, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
		log.Fatal(srv.ListenAndServe())
	case "cookie":
		c, err := edgeauth.NewCodec(edgeauth.CodecConfig{Secrets: []string{os.Args[2]}, MaxAge: 24 * time.Hour})
		if err != nil {
			log.Fatal(err)
		}
		tok := &edgeauth.Token{Subject: "alice", Name: "Alice", Email: "alice@example.com"}
		if err := tok.SetClaim("role", "admin"); err != nil {
			log.Fatal(err)
		}
		s, err := c.Encode(tok)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s=%s\n", edgeauth.DefaultCookieName, s)
	default:
		log.Fatalf("unknown mode %q", os.Args[1])
	}
}
