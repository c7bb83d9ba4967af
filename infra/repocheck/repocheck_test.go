// Package repocheck holds checks of the repository itself: what git tracks is source, not
// what a build made.
package repocheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxTrackedSize is the largest file git may track outside a testdata folder.
const maxTrackedSize = 1 << 20

// No tracked file is a built binary (an ELF, Mach-O or PE executable, or an archive of Go
// objects), and none outside testdata/ is over 1 MB: build output belongs in .gitignore.
func TestNoBuiltFilesAreTracked(t *testing.T) {
	root := filepath.Join("..", "..")
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	magics := map[string][]byte{
		"an ELF executable": []byte("\x7fELF"), "a Mach-O executable": {0xcf, 0xfa, 0xed, 0xfe},
		"a PE executable": []byte("MZ"), "an archive": []byte("!<arch>\n"),
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(files) < 10 {
		t.Fatalf("git ls-files listed %d files", len(files))
	}
	for _, name := range files {
		f, err := os.Open(filepath.Join(root, name))
		if err != nil {
			continue // Deleted in the work tree, not yet in the index.
		}
		head := make([]byte, 8)
		n, _ := f.Read(head)
		info, statErr := f.Stat()
		f.Close()
		for what, magic := range magics {
			if bytes.HasPrefix(head[:n], magic) {
				t.Errorf("%s is %s: remove it from git and ignore it", name, what)
			}
		}
		if statErr == nil && info.Size() > maxTrackedSize && !strings.Contains(name, "testdata/") {
			t.Errorf("%s is %d bytes: over 1 MB outside testdata/", name, info.Size())
		}
	}
}
