package directory

import (
	"context"
	"strings"
	"sync"
	"time"
)

// CachedSDS is an SDS that remembers the answers of another for a while,
// since every transfer repeats the same lookups. Only successful answers
// are kept: errors, including ErrNotFound, are asked again next time. It
// is safe for concurrent use; concurrent misses for the same key may each
// ask the wrapped SDS.
type CachedSDS struct {
	sds SDS
	ttl time.Duration
	now func() time.Time

	mu        sync.Mutex
	endpoints ttlMap[[2]string, Endpoint]
	practices ttlMap[string, Practice]
}

var _ SDS = (*CachedSDS)(nil)

// NewCachedSDS wraps sds (not nil), keeping each answer for ttl; a ttl of
// zero or less keeps nothing. now is the clock (nil means time.Now).
// Keys are the upper-cased ODS code (and the interaction).
func NewCachedSDS(sds SDS, ttl time.Duration, now func() time.Time) *CachedSDS {
	if now == nil {
		now = time.Now
	}
	return &CachedSDS{sds: sds, ttl: ttl, now: now}
}

// Endpoint implements SDS.
func (c *CachedSDS) Endpoint(ctx context.Context, ods string, interaction string) (Endpoint, error) {
	key := [2]string{strings.ToUpper(ods), interaction}
	c.mu.Lock()
	ep, ok := c.endpoints.get(key, c.now())
	c.mu.Unlock()
	if ok {
		return ep, nil
	}
	ep, err := c.sds.Endpoint(ctx, ods, interaction)
	if err != nil {
		return Endpoint{}, err
	}
	if c.ttl > 0 {
		c.mu.Lock()
		c.endpoints.put(key, ep, c.now(), c.ttl)
		c.mu.Unlock()
	}
	return ep, nil
}

// Practice implements SDS.
func (c *CachedSDS) Practice(ctx context.Context, ods string) (Practice, error) {
	key := strings.ToUpper(ods)
	c.mu.Lock()
	p, ok := c.practices.get(key, c.now())
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := c.sds.Practice(ctx, ods)
	if err != nil {
		return Practice{}, err
	}
	if c.ttl > 0 {
		c.mu.Lock()
		c.practices.put(key, p, c.now(), c.ttl)
		c.mu.Unlock()
	}
	return p, nil
}

// minSweep is the size below which a ttlMap does not sweep.
const minSweep = 64

// ttlMap is a map whose entries expire. Expired entries are dropped
// whenever the map has doubled since the last sweep, so it cannot grow
// without bound. The zero value is ready to use; it is not safe for
// concurrent use.
type ttlMap[K comparable, V any] struct {
	m       map[K]ttlEntry[V]
	sweepAt int
}

type ttlEntry[V any] struct {
	value   V
	expires time.Time
}

func (t *ttlMap[K, V]) get(key K, now time.Time) (V, bool) {
	e, ok := t.m[key]
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

func (t *ttlMap[K, V]) put(key K, v V, now time.Time, ttl time.Duration) {
	if t.m == nil {
		t.m = map[K]ttlEntry[V]{}
		t.sweepAt = minSweep
	}
	if len(t.m) >= t.sweepAt {
		for k, e := range t.m {
			if !now.Before(e.expires) {
				delete(t.m, k)
			}
		}
		t.sweepAt = max(2*len(t.m), minSweep)
	}
	t.m[key] = ttlEntry[V]{value: v, expires: now.Add(ttl)}
}
