package main

import (
	"crypto/subtle"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Exposure is how `campaign serve` is reached from outside, which decides cookie flags,
// whose forwarded headers are believed, and who may read /metrics and the profiler
// (docs/security.md).
type Exposure struct {
	// PublicURL is where browsers reach the server (--public-url); an https:// URL makes every
	// cookie Secure.
	PublicURL string
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies whose
	// X-Forwarded-For and X-Forwarded-Proto are believed (--trusted-proxy); nobody else's are.
	TrustedProxies []string
	// MetricsToken, when set, lets a request that is not from loopback read /metrics and the
	// profiler with "Authorization: Bearer <token>" (--metrics-token, CAMPAIGN_METRICS_TOKEN).
	MetricsToken string
	// Local decides from the connection's remote address whether a request comes from this
	// machine; nil means a loopback address. Tests inject it.
	Local func(remoteIP string) bool
}

func exposureFlags(fs *flag.FlagSet, e *Exposure, getenv func(string) string) {
	fs.StringVar(&e.PublicURL, "public-url", getenv("CAMPAIGN_PUBLIC_URL"), "where browsers reach the server, like https://play.example.com; https makes every cookie Secure (env CAMPAIGN_PUBLIC_URL)")
	fs.Func("trusted-proxy", "address or CIDR of a reverse proxy whose X-Forwarded-For and X-Forwarded-Proto are believed (repeatable)", func(s string) error {
		if _, _, err := net.ParseCIDR(s); err != nil && net.ParseIP(s) == nil {
			return fmt.Errorf("%q is not an IP address or CIDR range", s)
		}
		e.TrustedProxies = append(e.TrustedProxies, s)
		return nil
	})
	fs.StringVar(&e.MetricsToken, "metrics-token", getenv("CAMPAIGN_METRICS_TOKEN"), "bearer token that lets other machines read /metrics and the profiler (default: loopback only; env CAMPAIGN_METRICS_TOKEN)")
}

func (e Exposure) check() error {
	if e.PublicURL == "" {
		return nil
	}
	u, err := url.Parse(e.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--public-url %q: want a URL like https://play.example.com", e.PublicURL)
	}
	return nil
}

// secure reports whether cookies must always be Secure.
func (e Exposure) secure() bool { return strings.HasPrefix(e.PublicURL, "https://") }

// clientIPHeader carries the browser's address as clientAddress worked it out; Fiber's c.IP()
// reads it (ProxyHeader) for requests from a trusted proxy, and clientAddress overwrites
// whatever a request brought under that name.
const clientIPHeader = "X-Campaign-Client-Ip"

// fiberProxy sets the app's proxy trust: forwarded headers count only from TrustedProxies.
func (e Exposure) fiberProxy(cfg *fiber.Config) {
	cfg.EnableTrustedProxyCheck = true
	cfg.TrustedProxies = e.TrustedProxies
	if len(e.TrustedProxies) > 0 {
		cfg.ProxyHeader = clientIPHeader
	}
}

// clientAddress works out the browser's address behind trusted proxies: the rightmost entry of
// X-Forwarded-For that is not itself a trusted proxy. The leftmost entries are whatever the
// browser sent, so taking the first (as Fiber would) let anyone pick the address the rate
// limits count against.
func (e Exposure) clientAddress() fiber.Handler {
	var nets []*net.IPNet
	for _, p := range e.TrustedProxies {
		if _, n, err := net.ParseCIDR(p); err == nil {
			nets = append(nets, n)
		} else if ip := net.ParseIP(p); ip != nil {
			bits := 8 * len(ip.To16())
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
		}
	}
	trusted := func(ip net.IP) bool {
		for _, n := range nets {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	return func(c *fiber.Ctx) error {
		h := &c.Request().Header
		h.Del(clientIPHeader)
		peer := c.Context().RemoteIP()
		if !trusted(peer) {
			return c.Next()
		}
		client := peer.String()
		hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			ip := net.ParseIP(strings.TrimSpace(hops[i]))
			if ip == nil {
				break // garbage: stop believing the rest of the chain
			}
			client = ip.String()
			if !trusted(ip) {
				break
			}
		}
		h.Set(clientIPHeader, client)
		return c.Next()
	}
}

func (e Exposure) local() func(string) bool {
	if e.Local != nil {
		return e.Local
	}
	return func(ip string) bool {
		p := net.ParseIP(ip)
		return p != nil && p.IsLoopback()
	}
}

// forwarded reports whether a request came through a proxy: then the loopback peer is the
// proxy, not the person, and being local proves nothing.
func forwarded(h func(string) string) bool {
	return h("X-Forwarded-For") != "" || h("Forwarded") != "" || h("X-Real-Ip") != ""
}

// allowed is the rule for /metrics and the profiler: from this machine directly, or with the
// token.
func (e Exposure) allowed(remoteIP string, header func(string) string) (ok bool, status int) {
	if e.local()(remoteIP) && !forwarded(header) {
		return true, 0
	}
	if e.MetricsToken == "" {
		return false, http.StatusForbidden
	}
	got, _ := strings.CutPrefix(header("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(got), []byte(e.MetricsToken)) == 1 {
		return true, 0
	}
	return false, http.StatusUnauthorized
}

// guardFiber protects a Fiber route (/metrics).
func (e Exposure) guardFiber() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ok, status := e.allowed(c.Context().RemoteIP().String(), func(k string) string { return c.Get(k) })
		if !ok {
			return c.Status(status).SendString(guardMessage(status))
		}
		return c.Next()
	}
}

// guardHTTP protects a net/http handler (the profiler).
func (e Exposure) guardHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		if ok, status := e.allowed(host, r.Header.Get); !ok {
			http.Error(w, guardMessage(status), status)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func guardMessage(status int) string {
	if status == http.StatusUnauthorized {
		return "wrong metrics token\n"
	}
	return "only this machine may read this; elsewhere, start the server with --metrics-token and send Authorization: Bearer <token>\n"
}
