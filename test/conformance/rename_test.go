package conformance

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/containerd/mount"
	"github.com/containerd/continuity/fs/fstest"
)

// containerd's suite skips its Rename case for every snapshotter, because
// overlay without redirect_dir answers EXDEV to renaming a lower directory.
// That relaxation only concerns overlay, so the same scenario runs on native.
func TestRename(t *testing.T) {
	for _, backend := range []string{"native"} {
		backend := backend
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			tmp := t.TempDir()
			root := filepath.Join(tmp, "root")
			if err := os.Mkdir(root, 0o700); err != nil {
				t.Fatal(err)
			}
			sn, cleanup, err := snapshotterFor(backend)(ctx, root)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := cleanup(); err != nil {
					t.Error(err)
				}
			}()
			layers := []fstest.Applier{
				fstest.Apply(
					fstest.CreateDir("/dir1", 0o700),
					fstest.CreateDir("/somefiles", 0o700),
					fstest.CreateFile("/somefiles/f1", []byte("was here first!"), 0o644),
					fstest.CreateFile("/somefiles/f2", []byte("nothing interesting"), 0o644),
				),
				fstest.Apply(
					fstest.Rename("/dir1", "/dir2"),
					fstest.CreateFile("/somefiles/f1-overwrite", []byte("new content 1"), 0o644),
					fstest.Rename("/somefiles/f1-overwrite", "/somefiles/f1"),
					fstest.Rename("/somefiles/f2", "/somefiles/f3"),
				),
			}
			flat := filepath.Join(tmp, "flat")
			if err := os.Mkdir(flat, 0o755); err != nil {
				t.Fatal(err)
			}
			parent := ""
			for i, layer := range layers {
				key := filepath.Join(tmp, "active", string(rune('a'+i)))
				mounts, err := sn.Prepare(ctx, key, parent)
				if err != nil {
					t.Fatal(err)
				}
				applyMounted(t, mounts, filepath.Join(tmp, "mnt"), layer.Apply)
				if err := layer.Apply(flat); err != nil {
					t.Fatal(err)
				}
				parent = filepath.Join(tmp, "committed", string(rune('a'+i)))
				if err := sn.Commit(ctx, parent, key); err != nil {
					t.Fatal(err)
				}
			}
			mounts, err := sn.View(ctx, filepath.Join(tmp, "view"), parent)
			if err != nil {
				t.Fatal(err)
			}
			applyMounted(t, mounts, filepath.Join(tmp, "mnt"), func(dir string) error {
				return fstest.CheckDirectoryEqual(flat, dir)
			})
		})
	}
}

func applyMounted(t *testing.T, mounts []mount.Mount, target string, fn func(string) error) {
	t.Helper()
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mount.All(mounts, target); err != nil {
		t.Fatal(err)
	}
	defer mount.UnmountAll(target, 0)
	if err := fn(target); err != nil {
		t.Fatal(err)
	}
}
