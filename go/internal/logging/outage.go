package logging

import "log/slog"

// Outage logs a repeated operation (a heartbeat, a relay pass) once when it starts failing and once
// when it succeeds again, instead of every failed attempt: the shape of outage-log.ts.
type Outage struct {
	Log       *slog.Logger
	Failing   string
	Recovered string
	down      bool
}

// Report records one attempt's outcome.
func (o *Outage) Report(err error) {
	switch {
	case err != nil && !o.down:
		o.Log.Warn(o.Failing, "err", err)
		o.down = true
	case err == nil && o.down:
		o.Log.Info(o.Recovered)
		o.down = false
	}
}
