package backoff

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTheWaitDoublesWithEachFailureInARowUpToMax(t *testing.T) {
	var waits []time.Duration
	for d := time.Duration(0); len(waits) < 7; {
		d = Next(d)
		waits = append(waits, d)
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, Max, Max}, waits)
}
