package console

import (
	"log/slog"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/slogwf/slogwf/internal/tree"
)

// The end of a scope whose input and output tokens each saturated shows
// the largest int64 as its total, never a negative number.
func TestEndAttrsTotalSaturatesInsteadOfWrapping(t *testing.T) {
	as := EndAttrs(tree.Usage{In: math.MaxInt64, Out: math.MaxInt64}, true)
	assert.Equal(t, []slog.Attr{slog.Int64("total_tokens", math.MaxInt64)}, as)
}
