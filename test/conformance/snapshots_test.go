package conformance

import (
	"context"
	"testing"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/containerd/snapshots/proxy"
	"github.com/containerd/containerd/snapshots/testsuite"
)

func snapshotterFor(backend string) testsuite.SnapshotterFunc {
	return func(ctx context.Context, root string) (snapshots.Snapshotter, func() error, error) {
		conn, stop, err := startStrata(ctx, root, backend)
		if err != nil {
			return nil, nil, err
		}
		// The name is whatever containerd would call the proxy plugin; strata accepts any.
		sn := proxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(conn), "strata-"+backend)
		return sn, func() error {
			sn.Close()
			return stop()
		}, nil
	}
}

func TestSnapshotterOverlayfs(t *testing.T) {
	testsuite.SnapshotterSuite(t, "StrataOverlayfs", snapshotterFor("overlayfs"))
}

func TestSnapshotterNative(t *testing.T) {
	testsuite.SnapshotterSuite(t, "StrataNative", snapshotterFor("native"))
}
