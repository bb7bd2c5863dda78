package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatcampaigns/campaign/engine"
)

var _ engine.CrashObserver = (*Metrics)(nil)

// crashMetrics count the traces of a crash: what a restarted engine took back at start, and
// the replies sent again after an attempt whose outcome was never stored.
type crashMetrics struct {
	leases     prometheus.Counter
	inFlight   prometheus.Counter
	maybeTwice *prometheus.CounterVec
}

func newCrashMetrics(reg *prometheus.Registry) crashMetrics {
	c := crashMetrics{
		leases: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "campaign_takeback_leases_total",
			Help: "Leases the engine took back at start from its own run that died holding them (they would otherwise have held their work up until they ran out).",
		}),
		inFlight: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "campaign_takeback_in_flight_total",
			Help: "Replies found at start in flight from the engine's own run that died: an attempt recorded, its outcome not. Each is sent again and may reach its participant twice.",
		}),
		maybeTwice: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "campaign_replies_maybe_twice_total",
			Help: "Replies sent again after an attempt whose outcome was never stored (its process died while sending), per channel: the participant may have received them twice.",
		}, []string{"channel"}),
	}
	reg.MustRegister(c.leases, c.inFlight, c.maybeTwice)
	return c
}

// TakenBack counts what the engine took back at start (engine.CrashObserver).
func (m *Metrics) TakenBack(claims, inFlight int) {
	m.crash.leases.Add(float64(claims))
	m.crash.inFlight.Add(float64(inFlight))
}

// MaybeTwice counts one reply sent again after an attempt without outcome.
func (m *Metrics) MaybeTwice(channel string) {
	m.crash.maybeTwice.WithLabelValues(channel).Inc()
}
