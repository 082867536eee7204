package directory_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/directory"
)

// countingSDS counts the lookups; each answer carries the call number
// (as PersistDuration or Name) so that answers can be told apart.
type countingSDS struct {
	mu            sync.Mutex
	endpointCalls int
	practiceCalls int
	failNext      error
}

func (s *countingSDS) Endpoint(ctx context.Context, ods, interaction string) (directory.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpointCalls++
	if err := s.failNext; err != nil {
		s.failNext = nil
		return directory.Endpoint{}, err
	}
	return directory.Endpoint{ODS: ods, ASID: interaction, PersistDuration: time.Duration(s.endpointCalls)}, nil
}

func (s *countingSDS) Practice(ctx context.Context, ods string) (directory.Practice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.practiceCalls++
	if err := s.failNext; err != nil {
		s.failNext = nil
		return directory.Practice{}, err
	}
	return directory.Practice{ODS: ods, GP2GPEnabled: true, Name: time.Duration(s.practiceCalls).String()}, nil
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestCachedSDSEndpoint(t *testing.T) {
	ctx := context.Background()
	inner := &countingSDS{}
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	cache := directory.NewCachedSDS(inner, 10*time.Minute, clock.Now)

	first, err := cache.Endpoint(ctx, "A12345", directory.InteractionEHRExtract)
	require.NoError(t, err)
	assert.Equal(t, 1, inner.endpointCalls, "miss")

	clock.Advance(10*time.Minute - time.Nanosecond)
	again, err := cache.Endpoint(ctx, "a12345", directory.InteractionEHRExtract)
	require.NoError(t, err)
	assert.Equal(t, first, again, "hit, whatever the case of the ODS code")
	assert.Equal(t, 1, inner.endpointCalls)

	_, err = cache.Endpoint(ctx, "A12345", directory.InteractionCOPC)
	require.NoError(t, err)
	assert.Equal(t, 2, inner.endpointCalls, "another interaction is another key")
	_, err = cache.Endpoint(ctx, "B86041", directory.InteractionEHRExtract)
	require.NoError(t, err)
	assert.Equal(t, 3, inner.endpointCalls, "another practice is another key")

	clock.Advance(time.Nanosecond)
	expired, err := cache.Endpoint(ctx, "A12345", directory.InteractionEHRExtract)
	require.NoError(t, err)
	assert.Equal(t, 4, inner.endpointCalls, "expired after the TTL")
	assert.NotEqual(t, first, expired)

	again, err = cache.Endpoint(ctx, "A12345", directory.InteractionEHRExtract)
	require.NoError(t, err)
	assert.Equal(t, expired, again, "the fresh answer is cached")
	assert.Equal(t, 4, inner.endpointCalls)
}

func TestCachedSDSErrorsAreNotCached(t *testing.T) {
	ctx := context.Background()
	for _, failure := range []error{directory.ErrNotFound, directory.ErrAmbiguous, directory.ErrUnavailable} {
		t.Run(failure.Error(), func(t *testing.T) {
			inner := &countingSDS{failNext: failure}
			cache := directory.NewCachedSDS(inner, time.Hour, nil)
			_, err := cache.Endpoint(ctx, "A12345", directory.InteractionEHRRequest)
			require.ErrorIs(t, err, failure)
			_, err = cache.Endpoint(ctx, "A12345", directory.InteractionEHRRequest)
			require.NoError(t, err)
			assert.Equal(t, 2, inner.endpointCalls)

			inner.failNext = failure
			_, err = cache.Practice(ctx, "A12345")
			require.ErrorIs(t, err, failure)
			_, err = cache.Practice(ctx, "A12345")
			require.NoError(t, err)
			_, err = cache.Practice(ctx, "A12345")
			require.NoError(t, err)
			assert.Equal(t, 2, inner.practiceCalls)
		})
	}
}

func TestCachedSDSPractice(t *testing.T) {
	ctx := context.Background()
	inner := &countingSDS{}
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	cache := directory.NewCachedSDS(inner, time.Minute, clock.Now)

	first, err := cache.Practice(ctx, "B86041")
	require.NoError(t, err)
	second, err := cache.Practice(ctx, "b86041")
	require.NoError(t, err)
	assert.Equal(t, first, second)
	assert.Equal(t, 1, inner.practiceCalls)
	_, err = cache.Endpoint(ctx, "B86041", directory.InteractionEHRRequest)
	require.NoError(t, err)
	assert.Equal(t, 1, inner.endpointCalls, "practices and endpoints are cached apart")

	clock.Advance(time.Minute)
	third, err := cache.Practice(ctx, "B86041")
	require.NoError(t, err)
	assert.NotEqual(t, first, third)
	assert.Equal(t, 2, inner.practiceCalls)
}

func TestCachedSDSWithoutTTL(t *testing.T) {
	inner := &countingSDS{}
	cache := directory.NewCachedSDS(inner, 0, nil)
	for range 3 {
		_, err := cache.Endpoint(context.Background(), "A12345", directory.InteractionEHRRequest)
		require.NoError(t, err)
		_, err = cache.Practice(context.Background(), "A12345")
		require.NoError(t, err)
	}
	assert.Equal(t, 3, inner.endpointCalls)
	assert.Equal(t, 3, inner.practiceCalls)
}

func TestCachedSDSConcurrent(t *testing.T) {
	inner := &countingSDS{}
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	cache := directory.NewCachedSDS(inner, time.Second, clock.Now)
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				ods := []string{"A12345", "B86041", "C81010"}[(i+j)%3]
				if _, err := cache.Endpoint(context.Background(), ods, directory.InteractionEHRExtract); err != nil {
					mu.Lock()
					failed = errors.Join(failed, err)
					mu.Unlock()
				}
				if j%50 == 0 {
					clock.Advance(time.Second)
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, failed)
	assert.Less(t, inner.endpointCalls, 8*200, "some answers came from the cache")
}
