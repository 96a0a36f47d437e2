package states

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"github.com/facepay/platform/infra/local/clock"
)

// tokenEntry is a callback task attempt waiting for SendTaskSuccess/Failure.
type tokenEntry struct {
	clk *clock.Clock
	w   *waiter

	mu        sync.Mutex
	heartbeat time.Duration
	hbTimer   *clock.Timer
}

const tokenRandom, tokenCheck = 32, 16

var tokenKey = []byte("facepay-local-states-task-token")

func tokenChecksum(random []byte) []byte {
	h := sha256.New()
	h.Write(tokenKey)
	h.Write(random)
	return h.Sum(nil)[:tokenCheck]
}

// newToken returns a fresh, well-formed task token.
func newToken() string {
	b := make([]byte, tokenRandom, tokenRandom+tokenCheck)
	_, _ = rand.Read(b)
	b = append(b, tokenChecksum(b)...)
	return "AQ" + base64.RawURLEncoding.EncodeToString(b)
}

// wellFormed reports whether tok could have been issued by an executor.
func wellFormed(tok string) bool {
	if len(tok) < 2 || tok[:2] != "AQ" {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(tok[2:])
	if err != nil || len(b) != tokenRandom+tokenCheck {
		return false
	}
	return bytes.Equal(b[tokenRandom:], tokenChecksum(b[:tokenRandom]))
}

func (e *Executor) registerToken(tok string, t *tokenEntry) {
	e.mu.Lock()
	e.tokens[tok] = t
	e.mu.Unlock()
}

// releaseToken retires tok: later calls with it get TaskTimedOut.
func (e *Executor) releaseToken(tok string) {
	e.mu.Lock()
	if t, ok := e.tokens[tok]; ok {
		t.stopHeartbeat()
		delete(e.tokens, tok)
		e.deadTokens[tok] = true
	}
	e.mu.Unlock()
}

func (e *Executor) lookupToken(tok string) (*tokenEntry, error) {
	if !wellFormed(tok) {
		return nil, errorf("InvalidToken", 400, "Invalid token")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.tokens[tok]; ok {
		return t, nil
	}
	if e.deadTokens[tok] {
		return nil, errorf("TaskTimedOut", 400, "Task Timed Out: 'Provided task does not exist anymore'")
	}
	return nil, errorf("TaskDoesNotExist", 400, "Task Does Not Exist: 'Provided task does not exist'")
}

func (e *Executor) completeToken(tok string, m wakeMsg) error {
	t, err := e.lookupToken(tok)
	if err != nil {
		return err
	}
	if !t.w.deliver(m) {
		return errorf("TaskTimedOut", 400, "Task Timed Out: 'Provided task does not exist anymore'")
	}
	return nil
}

// SendTaskHeartbeat reports that the callback task waiting on token is still working,
// restarting its HeartbeatSeconds countdown. It returns InvalidToken, TaskDoesNotExist or
// TaskTimedOut errors.
func (e *Executor) SendTaskHeartbeat(token string) error {
	t, err := e.lookupToken(token)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hbTimer != nil {
		t.hbTimer.Stop()
		t.startHeartbeatLocked()
	}
	return nil
}

func (t *tokenEntry) startHeartbeat(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.heartbeat = d
	t.startHeartbeatLocked()
}

func (t *tokenEntry) startHeartbeatLocked() {
	w := t.w
	t.hbTimer = t.clk.AfterFunc(t.heartbeat, func() {
		w.deliver(wakeMsg{err: newErr(errHeartbeatTimeout, "")})
	})
}

func (t *tokenEntry) stopHeartbeat() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hbTimer != nil {
		t.hbTimer.Stop()
		t.hbTimer = nil
	}
}
