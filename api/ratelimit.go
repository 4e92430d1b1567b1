package api

import (
	"container/list"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"xiaoshen/kb"
)

// maxRateLimitClients bounds the addresses the rate limiter remembers
// (a few hundred bytes each); past it the least recently seen is forgotten.
const maxRateLimitClients = 65536

// rateLimiter keeps a token bucket per client address: perMinute requests a
// minute, in bursts of up to perMinute. Buckets live in a list ordered by
// last use, so idle ones expire and the number kept stays bounded.
type rateLimiter struct {
	perMinute int
	max       int
	// idle is how long a bucket takes to fill up again; one unused for that
	// long is the same as a new one and is forgotten.
	idle time.Duration
	now  func() time.Time

	mu      sync.Mutex
	clients map[string]*list.Element
	order   *list.List // of *clientBucket, most recently used first
}

type clientBucket struct {
	key      string
	limiter  *rate.Limiter
	lastSeen time.Time
}

func newRateLimiter(perMinute, max int, now func() time.Time) *rateLimiter {
	return &rateLimiter{perMinute: perMinute, max: max, idle: time.Minute, now: now,
		clients: map[string]*list.Element{}, order: list.New()}
}

// allow takes a token from key's bucket. When the bucket is empty it
// returns false and how long until the next token.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	el, ok := l.clients[key]
	if ok {
		l.order.MoveToFront(el)
	} else {
		if l.order.Len() >= l.max {
			oldest := l.order.Back()
			l.order.Remove(oldest)
			delete(l.clients, oldest.Value.(*clientBucket).key)
		}
		el = l.order.PushFront(&clientBucket{key: key, limiter: rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)})
		l.clients[key] = el
	}
	b := el.Value.(*clientBucket)
	b.lastSeen = now
	r := b.limiter.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// expire forgets the buckets unused for l.idle, oldest first.
func (l *rateLimiter) expire(now time.Time) {
	for el := l.order.Back(); el != nil; el = l.order.Back() {
		b := el.Value.(*clientBucket)
		if now.Sub(b.lastSeen) < l.idle {
			return
		}
		l.order.Remove(el)
		delete(l.clients, b.key)
	}
}

// size returns the number of remembered addresses.
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// clientKey is the rate-limit key of an address: an IPv4 address itself,
// an IPv6 address its /64 network, which one subscriber usually holds whole.
func clientKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	prefix, _ := ip.WithZone("").Prefix(64)
	return prefix.String()
}

// clientAddress returns how the client's address is found: the TCP peer,
// or, behind a trusted proxy, the X-Forwarded-For or X-Real-IP header. echo
// only believes the headers when the peer itself is on a loopback,
// link-local or private address, so a client cannot pick its own address.
func clientAddress(trustProxy bool) echo.IPExtractor {
	if !trustProxy {
		return echo.ExtractIPDirect()
	}
	fromXFF, fromRealIP := echo.ExtractIPFromXFFHeader(), echo.ExtractIPFromRealIPHeader()
	return func(r *http.Request) string {
		if r.Header.Get(echo.HeaderXForwardedFor) != "" {
			return fromXFF(r)
		}
		return fromRealIP(r)
	}
}

// rateLimit answers 429 with Retry-After when a client address asks too
// often. Requests with a chatbot token are exempt: the chatbot forwards many
// people's questions from few addresses.
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.limiter == nil {
			return next(c)
		}
		if p := principal(c); p != nil && p.Role == kb.RoleChatbot {
			return next(c)
		}
		if ok, wait := s.limiter.allow(clientKey(c.RealIP())); !ok {
			seconds := retryAfter(wait)
			c.Response().Header().Set("Retry-After", strconv.Itoa(seconds))
			return kb.Errorf(kb.ELIMIT, "请求过于频繁，请 %d 秒后再试", seconds)
		}
		return next(c)
	}
}

// retryAfter turns a wait into whole seconds for the Retry-After header,
// rounding up but not past float noise, and never below one second.
func retryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Truncate(time.Millisecond).Seconds())))
}
