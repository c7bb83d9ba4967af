package samtemplate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Translate returns root/template.yaml as CloudFormation receives it, as JSON: the
// AWS::LanguageExtensions transform and the SAM translator applied (translate.py, with cfn-lint's
// transform pipeline, installed beside cfn-lint). This is what the deployed roles are made of, so
// the local stack enforces these, not the template's shorthand.
//
// Translating takes a few seconds, and every test binary needs it, so the result is kept in the
// user's cache folder under the hash of the template and the script: a changed template is
// translated again, an unchanged one is read back.
func Translate(root string) ([]byte, error) {
	template, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	script := filepath.Join(root, "infra", "samtemplate", "translate.py")
	code, err := os.ReadFile(script)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append(append([]byte{}, template...), code...))
	cached := filepath.Join(cacheDir(), "translated-"+hex.EncodeToString(sum[:8])+".json")
	if b, err := os.ReadFile(cached); err == nil && json.Valid(b) {
		return b, nil
	}
	var stderr bytes.Buffer
	cmd := exec.Command("python3", script, filepath.Join(root, "template.yaml"))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("translate template.yaml (needs python3 with cfn-lint): %w\n%s", err, stderr.String())
	}
	if !json.Valid(out) {
		return nil, fmt.Errorf("translate template.yaml: the translator printed no JSON")
	}
	// Written whole, then renamed, so that a test binary starting at the same time reads either
	// nothing or the whole translation.
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err == nil {
		tmp, err := os.CreateTemp(filepath.Dir(cached), "translated-*.tmp")
		if err == nil {
			_, werr := tmp.Write(out)
			cerr := tmp.Close()
			if werr == nil && cerr == nil {
				os.Rename(tmp.Name(), cached)
			}
			os.Remove(tmp.Name())
		}
	}
	return out, nil
}

// cacheDir is where translations are kept: the user's cache folder, or the temporary folder.
func cacheDir() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "ringfence")
	}
	return filepath.Join(os.TempDir(), "ringfence-cache")
}
