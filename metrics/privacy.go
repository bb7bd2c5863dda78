package metrics

import "github.com/prometheus/client_golang/prometheus"

// Retention counts what the retention job erased (privacy.RetentionObserver).
type Retention struct {
	erased *prometheus.CounterVec
	failed *prometheus.CounterVec
}

// NewRetention registers the retention counters on reg (Metrics.Registry()).
func NewRetention(reg *prometheus.Registry) *Retention {
	r := &Retention{
		erased: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "campaign_retention_erased_total",
			Help: "Participants erased because their campaign's retention_days had passed, per campaign.",
		}, []string{"campaign"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "campaign_retention_failures_total",
			Help: "Participants (or whole campaigns) the retention job could not erase this pass, per campaign; it tries again next pass.",
		}, []string{"campaign"}),
	}
	reg.MustRegister(r.erased, r.failed)
	return r
}

// RetentionErased counts n participants erased in campaign.
func (r *Retention) RetentionErased(campaign string, n int) {
	r.erased.WithLabelValues(campaign).Add(float64(n))
}

// RetentionFailed counts one failure in campaign.
func (r *Retention) RetentionFailed(campaign string) { r.failed.WithLabelValues(campaign).Inc() }
