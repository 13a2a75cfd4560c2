// Command reference is containerd's own layer applier, for strata bench's
// side-by-side figures: the code of containerd 1.6's diff/apply (decompress,
// digest, archive.Apply with the overlay whiteout converter and parents, then
// drain) run on layer files, into the same kind of directories strata writes.
// It prints one JSON object; it asserts nothing.
package main

import (
	"archive/tar"
	"context"
	_ "crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/containerd/containerd/archive"
	"github.com/containerd/containerd/archive/compression"
	"github.com/opencontainers/go-digest"
)

type result struct {
	Mode      string    `json:"mode"`
	Seconds   float64   `json:"seconds"`
	Layers    []float64 `json:"layers"`
	Bytes     int64     `json:"bytes"`
	Entries   int64     `json:"entries"`
	Digests   []string  `json:"digests"`
	MaxRssKiB int64     `json:"maxRssKiB"`
}

// readCounter is diff/apply's: it counts what the applier reads.
type readCounter struct {
	r io.Reader
	c int64
}

func (rc *readCounter) Read(p []byte) (n int, err error) {
	n, err = rc.r.Read(p)
	rc.c += int64(n)
	return
}

func decompressed(file string) (io.ReadCloser, *os.File, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	ds, err := compression.DecompressStream(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return ds, f, nil
}

// layer runs one layer through the chosen mode and returns its uncompressed size, entries and digest.
func layer(ctx context.Context, mode, file, dir string, parents []string, overlay bool) (int64, int64, string, error) {
	ds, f, err := decompressed(file)
	if err != nil {
		return 0, 0, "", err
	}
	defer f.Close()
	defer ds.Close()
	digester := digest.Canonical.Digester()
	rc := &readCounter{r: io.TeeReader(ds, digester.Hash())}
	var entries int64
	switch mode {
	case "decompress":
	case "parse":
		tr := tar.NewReader(rc)
		for {
			if _, err := tr.Next(); err == io.EOF {
				break
			} else if err != nil {
				return 0, 0, "", err
			}
			entries++
			if _, err := io.Copy(io.Discard, tr); err != nil {
				return 0, 0, "", err
			}
		}
	case "apply":
		var opts []archive.ApplyOpt
		if overlay {
			opts = append(opts, archive.WithConvertWhiteout(archive.OverlayConvertWhiteout))
			if len(parents) > 0 {
				opts = append(opts, archive.WithParents(parents))
			}
		}
		if _, err := archive.Apply(ctx, dir, rc, opts...); err != nil {
			return 0, 0, "", err
		}
	default:
		return 0, 0, "", fmt.Errorf("unknown mode %q", mode)
	}
	// Read any trailing data, as diff/apply does, so the digest covers the whole stream.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return 0, 0, "", err
	}
	return rc.c, entries, digester.Digest().String(), nil
}

func run() error {
	mode := flag.String("mode", "apply", "decompress, parse or apply")
	layout := flag.String("layout", "overlay", "overlay: one upper dir per layer (ROOT/N); native: every layer into ROOT")
	root := flag.String("root", "", "where apply writes")
	flag.Parse()
	if *mode == "apply" && *root == "" {
		return fmt.Errorf("-root is required for apply")
	}
	ctx := context.Background()
	out := result{Mode: *mode}
	var parents []string
	start := time.Now()
	for i, file := range flag.Args() {
		dir := *root
		if *layout == "overlay" && *mode == "apply" {
			dir = filepath.Join(*root, strconv.Itoa(i))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		} else if *mode == "apply" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		layerStart := time.Now()
		size, entries, dgst, err := layer(ctx, *mode, file, dir, parents, *layout == "overlay")
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		out.Layers = append(out.Layers, time.Since(layerStart).Seconds())
		out.Bytes += size
		out.Entries += entries
		out.Digests = append(out.Digests, dgst)
		parents = append([]string{dir}, parents...)
	}
	out.Seconds = time.Since(start).Seconds()
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err == nil {
		out.MaxRssKiB = usage.Maxrss
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "reference:", err)
		os.Exit(1)
	}
}
