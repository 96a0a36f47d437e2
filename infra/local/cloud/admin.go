package cloud

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// admin serves the local cloud's own control endpoints under /_local/ (never deployed):
//
//	GET  /_local/clock                       the virtual now
//	POST /_local/clock/advance {"by":"168h"}  advance, firing everything due on the way
//	GET  /_local/schedules                   schedules and their next fire time
//	POST /_local/schedules/{name}/fire       run a schedule now
//	POST /_local/token {"sub","org","role","accountType"}   mint a dev token
//	GET  /_local/queues                      the template's failure queues: URL, ARN, messages waiting
//	POST /_local/queues/{name}/replay        re-deliver a queue's failed events (infra/ops/replay)
//	POST /_local/functions/{name}/fail {"times":3}  make a function's next invocations fail
func (c *Cloud) admin() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_local/clock", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"now": c.Clock.Now()})
	})
	mux.HandleFunc("POST /_local/clock/advance", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			By   string `json:"by"`
			Days int    `json:"days"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "body must be {\"by\":\"36h\"} or {\"days\":7}"})
			return
		}
		d := time.Duration(body.Days) * 24 * time.Hour
		if body.By != "" {
			by, err := time.ParseDuration(body.By)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
				return
			}
			d += by
		}
		if d <= 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "advance by a positive duration"})
			return
		}
		c.Clock.Advance(d)
		writeJSON(w, http.StatusOK, map[string]any{"now": c.Clock.Now()})
	})
	mux.HandleFunc("GET /_local/schedules", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"schedules": c.sched.list()})
	})
	mux.HandleFunc("POST /_local/schedules/{name}/fire", func(w http.ResponseWriter, r *http.Request) {
		if err := c.FireSchedule(r.Context(), r.PathValue("name")); err != nil {
			status := http.StatusInternalServerError
			if strings.HasPrefix(err.Error(), "no schedule") {
				status = http.StatusNotFound
			}
			writeJSON(w, status, map[string]string{"message": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"fired": r.PathValue("name"), "at": c.Clock.Now()})
	})
	mux.HandleFunc("POST /_local/token", func(w http.ResponseWriter, r *http.Request) {
		var id struct {
			Sub         string `json:"sub"`
			Org         string `json:"org"`
			Role        string `json:"role"`
			AccountType string `json:"accountType"`
		}
		if err := json.NewDecoder(r.Body).Decode(&id); err != nil || id.Role == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "body must be {\"sub\",\"org\",\"role\"}"})
			return
		}
		if id.Sub == "" {
			id.Sub = id.Role + "-" + id.Org
		}
		tok, err := c.Token(Identity{Subject: id.Sub, Org: id.Org, Role: id.Role, AccountType: id.AccountType})
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"token": tok})
	})
	mux.HandleFunc("GET /_local/queues", func(w http.ResponseWriter, r *http.Request) {
		type queue struct {
			Name     string `json:"name"`
			URL      string `json:"url"`
			ARN      string `json:"arn"`
			Messages int    `json:"messages"`
		}
		var out []queue
		for _, q := range c.Template.Queues {
			n, err := c.queueDepth(r.Context(), c.Queues[q.LogicalID])
			if err != nil {
				writeJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
				return
			}
			out = append(out, queue{Name: q.LogicalID, URL: c.Queues[q.LogicalID], ARN: q.ARN, Messages: n})
		}
		writeJSON(w, http.StatusOK, map[string]any{"endpoint": c.SQSEndpoint, "queues": out})
	})
	mux.HandleFunc("POST /_local/queues/{name}/replay", func(w http.ResponseWriter, r *http.Request) {
		rep, err := c.Replay(r.Context(), r.PathValue("name"))
		switch {
		case errors.Is(err, errNoQueue):
			writeJSON(w, http.StatusNotFound, map[string]string{"message": err.Error()})
		case err != nil:
			writeJSON(w, http.StatusInternalServerError, map[string]any{"message": err.Error(), "report": rep})
		default:
			writeJSON(w, http.StatusOK, rep)
		}
	})
	mux.HandleFunc("POST /_local/functions/{name}/fail", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Times int `json:"times"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Times < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "body must be {\"times\":3}"})
			return
		}
		if err := c.FailNext(r.PathValue("name"), body.Times); err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"function": r.PathValue("name"), "failNext": body.Times})
	})
	return mux
}
