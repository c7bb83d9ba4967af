// Package testio holds what the tests share for their input and output: reading a package's
// fixtures from its testdata folder, and collecting output written from many goroutines.
package testio

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// MustReadFixture reads testdata/name of the package under test.
func MustReadFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Buffer is a bytes.Buffer that many goroutines may write to at once, for captured logs.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
