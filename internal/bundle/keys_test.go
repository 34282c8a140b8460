package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeysRoundTrip(t *testing.T) {
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pubFile, privFile := filepath.Join(dir, "k.pub"), filepath.Join(dir, "k.key")
	os.WriteFile(pubFile, []byte("# release key\n\n"+FormatPublicKey(pub)), 0o644)
	os.WriteFile(privFile, []byte(FormatPrivateKey(priv)), 0o600)
	keys, err := ReadPublicKeys(pubFile)
	if err != nil || len(keys) != 1 || !keys[0].Equal(pub) {
		t.Fatalf("public: %v, %v", keys, err)
	}
	got, err := ReadPrivateKey(privFile)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("private: %v", err)
	}
	os.Chmod(privFile, 0o640)
	if _, err := ReadPrivateKey(privFile); err == nil || !strings.Contains(err.Error(), "mode 0640") {
		t.Fatalf("group-readable key: %v", err)
	}
}

func TestParseKeysErrors(t *testing.T) {
	pub := strings.TrimSpace(FormatPublicKey(testPub()[0]))
	cases := []struct{ in, want string }{
		{"", "no \"ngic-ed25519-pub:\" line"},
		{"# only a comment\n", "no \"ngic-ed25519-pub:\" line"},
		{pub + "\nssh-ed25519 AAAA\n", "line 2: does not start with"},
		{"ngic-ed25519-pub:!!!\n", "line 1: key is not base64"},
		{"ngic-ed25519-pub:AAAA\n", "line 1: key of 3 bytes, want 32"},
		{strings.TrimSpace(FormatPrivateKey(testKey)), "line 1: does not start with \"ngic-ed25519-pub:\""},
	}
	for _, c := range cases {
		if _, err := ParsePublicKeys([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.in, err, c.want)
		}
	}
	two := FormatPrivateKey(testKey) + FormatPrivateKey(testKey)
	if _, err := ParsePrivateKey([]byte(two)); err == nil || !strings.Contains(err.Error(), "found 2") {
		t.Errorf("two private keys: %v", err)
	}
}
