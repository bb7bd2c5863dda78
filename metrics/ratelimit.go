package metrics

import "github.com/prometheus/client_golang/prometheus"

func newLimitMetrics(reg *prometheus.Registry) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "campaign_rate_limited_total",
		Help: "Requests refused by a rate limit (429), per limit (docs/security.md).",
	}, []string{"limit"})
	reg.MustRegister(c)
	return c
}

// RateLimited counts one request refused by the limit called name.
func (m *Metrics) RateLimited(name string) { m.limited.WithLabelValues(name).Inc() }
