//go:build !race

package slogwf_test

// raceDetector is set when the tests run under the race detector, which
// slows them tenfold: the longest tests log less there.
const raceDetector = false
