package states

import (
	"strings"
	"time"
)

// event is one entry of an execution's history, as GetExecutionHistory returns it.
type event struct {
	id, prev   int64
	at         time.Time
	typ        string
	detailsKey string // e.g. "stateEnteredEventDetails"; empty when the type has none
	details    map[string]any
}

func epochSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}

func (ev *event) toAPI(includeData bool) map[string]any {
	m := map[string]any{
		"id":        ev.id,
		"timestamp": epochSeconds(ev.at),
		"type":      ev.typ,
	}
	if ev.prev > 0 {
		m["previousEventId"] = ev.prev
	} else {
		m["previousEventId"] = 0
	}
	if ev.detailsKey != "" {
		d := ev.details
		if !includeData {
			d = make(map[string]any, len(ev.details))
			for k, v := range ev.details {
				switch k {
				case "input", "output", "parameters":
					continue
				}
				d[k] = v
			}
		}
		m[ev.detailsKey] = d
	}
	return m
}

// detailsKeyFor maps an event type to the field holding its details in the API.
func detailsKeyFor(typ string) string {
	switch {
	case strings.HasSuffix(typ, "StateEntered"):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(typ, "StateExited"):
		return "stateExitedEventDetails"
	}
	return lowerFirst(typ) + "EventDetails"
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
