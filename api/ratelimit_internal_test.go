package api

import (
	"fmt"
	"testing"
	"time"
)

func TestRateLimiterRefillsAtItsRate(t *testing.T) {
	now := time.Date(2024, 9, 27, 10, 0, 0, 0, time.UTC)
	l := newRateLimiter(2, 10, func() time.Time { return now })
	for i := range 2 {
		if ok, _ := l.allow("203.0.113.7"); !ok {
			t.Fatalf("request %d of a burst of 2 refused", i+1)
		}
	}
	ok, wait := l.allow("203.0.113.7")
	if ok || retryAfter(wait) != 30 {
		t.Fatalf("third request: allowed %v, wait %s; want refused, 30s (2 a minute)", ok, wait)
	}
	now = now.Add(29 * time.Second)
	if ok, wait := l.allow("203.0.113.7"); ok || retryAfter(wait) != 1 {
		t.Errorf("after 29s: allowed %v, wait %s; want refused, 1s", ok, wait)
	}
	now = now.Add(time.Second)
	if ok, _ := l.allow("203.0.113.7"); !ok {
		t.Error("after 30s a token is back, but the request was refused")
	}
}

func TestRateLimiterStaysBounded(t *testing.T) {
	now := time.Date(2024, 9, 27, 10, 0, 0, 0, time.UTC)
	l := newRateLimiter(1, 100, func() time.Time { return now })
	for i := range 1000 {
		l.allow(fmt.Sprintf("198.51.100.%d", i))
		now = now.Add(time.Millisecond)
	}
	if got := l.size(); got != 100 {
		t.Errorf("%d addresses remembered, want the bound of 100", got)
	}
	// The most recent address is still limited; the oldest was forgotten.
	if ok, _ := l.allow("198.51.100.999"); ok {
		t.Error("the most recent address got a fresh bucket")
	}
	if ok, _ := l.allow("198.51.100.0"); !ok {
		t.Error("an evicted address is still refused")
	}

	// A minute of silence refills every bucket: they all expire.
	now = now.Add(time.Minute)
	l.allow("192.0.2.1")
	if got := l.size(); got != 1 {
		t.Errorf("%d addresses remembered after a minute idle, want 1", got)
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := clientKey(tt.addr); got != tt.want {
			t.Errorf("clientKey(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
