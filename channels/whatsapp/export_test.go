package whatsapp

import (
	"crypto/x509"
	"net/http"
	"net/url"
)

// MaxReadsInFlight is exported for tests.
const MaxReadsInFlight = maxReadsInFlight

// ReadsInFlight is how many read receipts hold a slot: one whose answer the fake Graph API
// recorded may still hold its slot for a moment.
func (c *Channel) ReadsInFlight() int { return len(c.reads) }

// NetHTTPOnly keeps every request of a channel made from cfg on net/http.
func NetHTTPOnly(cfg *Config) { cfg.netHTTPOnly = true }

// WithProxy makes the channel's own client ask proxy instead of the environment.
func WithProxy(cfg *Config, proxy func(*http.Request) (*url.URL, error)) { cfg.proxy = proxy }

// WithRoots makes the channel's own client trust roots instead of the system's pool.
func WithRoots(cfg *Config, roots *x509.CertPool) { cfg.roots = roots }

// FastPath says whether requests to /messages go through the fasthttp client.
func (c *Channel) FastPath() bool { return c.fast != nil }
