package bundle

import (
	"bytes"
	"io"
	"testing"
)

func FuzzParseHeader(f *testing.F) {
	f.Add(appendHeader(nil, 10))
	f.Add([]byte("NGICBDL1\xff\xff\xff\xff"))
	f.Add([]byte("NGICBDL1\x00\x00"))
	f.Fuzz(func(t *testing.T, h []byte) {
		n, err := ParseHeader(h)
		if err == nil && (n < 1 || n > MaxManifestSize) {
			t.Fatalf("accepted length %d", n)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add(manifestJSON("bin/x", "0755", 7, sum("payload")))
	f.Add(manifestJSON("../x", "0755", 7, sum("payload")))
	f.Add([]byte(`{"name":"x","version":"1.0.0-rc.1+b","os":"linux","arch":"arm","arm":"7","min_version":"0.1.0","files":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("parsed manifest does not validate: %v", err)
		}
		enc, err := m.encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest(enc); err != nil {
			t.Fatalf("re-encoded manifest refused: %v", err)
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	f.Add([]byte(FormatPublicKey(testPub()[0])))
	f.Add([]byte(FormatPrivateKey(testKey)))
	f.Add([]byte("# c\n\nngic-ed25519-pub:AAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if keys, err := ParsePublicKeys(data); err == nil && len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		if k, err := ParsePrivateKey(data); err == nil && len(k) != 64 {
			t.Fatalf("private key of %d bytes", len(k))
		}
	})
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.2.3", "v1.0.0-rc.1+b.2", "01.2.3", "1.2.3-0a"} {
		f.Add(s, "1.2.3")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := ParseVersion(a)
		vb, errB := ParseVersion(b)
		if errA != nil || errB != nil {
			return
		}
		if va.Compare(vb) != -vb.Compare(va) || va.Compare(va) != 0 {
			t.Fatalf("%q and %q do not compare antisymmetrically", a, b)
		}
	})
}

// FuzzVerify feeds whole bundles signed by the test key: whatever the bytes
// after the signature, Verify either fails or every file matched.
func FuzzVerify(f *testing.F) {
	good := makeBundle(f)
	f.Add(good)
	f.Add(good[:len(good)-700])
	f.Add(rawBundle(manifestJSON("bin/x", "0644", 7, sum("payload")), nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Open(bytes.NewReader(b), testPub())
		if err != nil {
			return
		}
		for i := 0; ; i++ {
			file, fr, err := r.Next()
			if err != nil {
				return
			}
			data, err := io.ReadAll(fr)
			if err != nil {
				continue
			}
			if sum(string(data)) != file.SHA256 || int64(len(data)) != file.Size {
				t.Fatalf("file %d read without error but does not match", i)
			}
		}
	})
}
