package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SmallDisk mounts a tmpfs of the given size (e.g. "2m") for the test and
// unmounts it at the end, for tests of a full disk. Without root, or when
// mount fails, the test is skipped, unless NGIC_REQUIRE_PEERS=1, which
// makes it fail.
func SmallDisk(t testing.TB, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "root", "a full-disk test mounts a small tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		missing(t, fmt.Sprintf("a %s tmpfs (%v: %s)", size, err, out), "mount -t tmpfs")
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}
