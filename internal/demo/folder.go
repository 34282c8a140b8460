package demo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// folderPrefix starts the name of every demo's temporary folder.
const folderPrefix = "ngic-run-"

// pidFile names the file of a demo's folder that holds its process id.
const pidFile = "pid"

// makeFolder makes the demo's temporary folder (mode 0700) with its
// process id in it, after removing the folders of demos that died without
// removing theirs (killed with SIGKILL: their children were stopped by the
// kernel, their folder was left).
func makeFolder() (string, error) {
	removeOrphans(os.TempDir())
	dir, err := os.MkdirTemp("", folderPrefix)
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	if err := writeFile(filepath.Join(dir, pidFile), strconv.Itoa(os.Getpid())+"\n"); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// removeOrphans removes the demo folders in tmp whose process is gone.
// Folders without a readable pid file are left alone: the demo that owns
// one may be writing it now.
func removeOrphans(tmp string) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), folderPrefix) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, pidFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(dir)
		}
	}
}
